"""Image-quality scores of reconstructions against the clean images, all in [0, 1] pixel units."""

import numpy as np
import tensorflow as tf

from dae.idx import IMAGE_SHAPE


def cost(images, clean):
    """Mean squared error over every pixel of every image: the reference's cost."""
    return float(np.mean(np.square(images.astype(np.float64) - clean.astype(np.float64))))


def _as_tf_images(flat):
    return tf.convert_to_tensor(flat.reshape(-1, *IMAGE_SHAPE, 1), dtype=tf.float32)


def psnr(images, clean):
    """Peak signal-to-noise ratio in dB (peak 1.0), computed per image, then averaged."""
    return float(tf.reduce_mean(tf.image.psnr(_as_tf_images(images), _as_tf_images(clean), max_val=1.0)))


def ssim(images, clean):
    """Structural similarity (Wang et al. 2004, TensorFlow's 11x11 Gaussian window), averaged over images."""
    return float(tf.reduce_mean(tf.image.ssim(_as_tf_images(images), _as_tf_images(clean), max_val=1.0)))


def image_quality(images, clean):
    return {"cost": cost(images, clean), "psnr": psnr(images, clean), "ssim": ssim(images, clean)}
