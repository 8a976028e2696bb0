"""Image-quality scores of reconstructions against the clean images, all in [0, 1] pixel units."""

import numpy as np
import tensorflow as tf

from dae.idx import IMAGE_SHAPE


def cost(images, clean):
    """Mean squared error over every pixel of every image: the reference's cost."""
    return float(np.mean(np.square(images.astype(np.float64) - clean.astype(np.float64))))


def _as_tf_images(flat):
    return tf.convert_to_tensor(flat.reshape(-1, *IMAGE_SHAPE, 1), dtype=tf.float32)


# Compiled with XLA: several times faster than TensorFlow's own kernels for SSIM's 11x11
# filters on a CPU, and as deterministic.
@tf.function(jit_compile=True)
def _mean_psnr(images, clean):
    return tf.reduce_mean(tf.image.psnr(images, clean, max_val=1.0))


@tf.function(jit_compile=True)
def _mean_ssim(images, clean):
    return tf.reduce_mean(tf.image.ssim(images, clean, max_val=1.0))


def psnr(images, clean):
    """Peak signal-to-noise ratio in dB (peak 1.0), computed per image, then averaged."""
    return float(_mean_psnr(_as_tf_images(images), _as_tf_images(clean)))


def ssim(images, clean):
    """Structural similarity (Wang et al. 2004, TensorFlow's 11x11 Gaussian window), averaged over images."""
    return float(_mean_ssim(_as_tf_images(images), _as_tf_images(clean)))


def image_quality(images, clean):
    return {"cost": cost(images, clean), "psnr": psnr(images, clean), "ssim": ssim(images, clean)}
