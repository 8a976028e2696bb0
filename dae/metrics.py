"""Image-quality scores of reconstructions against the clean images, all in [0, 1] pixel units.

PSNR and SSIM are TensorFlow's (`tf.image.psnr`, `tf.image.ssim` with its defaults), computed
here in float64 with NumPy: SSIM's 11x11 Gaussian window is the outer product of two 1-D ones,
so each filtered map is two matrix products instead of a 2-D convolution: on a 2-core CPU,
0.3 s for 10,000 images against 1.3 s with XLA (after 1.2 s compiling) and 14 s without.
Tests check both scores against TensorFlow's.
"""

import numpy as np

from dae.idx import IMAGE_SHAPE

# tf.image.ssim's defaults: a Gaussian window of 11 pixels and sigma 1.5, k1 = 0.01, k2 = 0.03, peak 1.
SSIM_WINDOW, SSIM_SIGMA, SSIM_K1, SSIM_K2 = 11, 1.5, 0.01, 0.03
# Images scored at a time: their float64 temporaries (1.5 MB each) mostly stay in the CPU's caches;
# all three scores of 10,000 images took 0.14 s so, 0.38 s in chunks of 1,000 and 1 s unchunked.
CHUNK = 250


def _chunks(images, clean):
    """`images` and `clean` CHUNK images at a time, as float64: the copies of one chunk stay
    small, where copies of every image would take hundreds of MB."""
    for start in range(0, len(images), CHUNK):
        yield tuple(a[start : start + CHUNK].astype(np.float64) for a in (images, clean))


def _errors_per_image(images, clean):
    return np.mean(np.square(images - clean), axis=1)


def cost(images, clean):
    """Mean squared error over every pixel of every image: the reference's cost."""
    errors = images.astype(np.float64)  # in place from here: one copy, not four
    errors -= clean
    np.square(errors, out=errors)
    return float(errors.mean())


def psnr(images, clean):
    """Peak signal-to-noise ratio in dB (peak 1.0), computed per image, then averaged."""
    return _psnr(np.concatenate([_errors_per_image(x, y) for x, y in _chunks(images, clean)]))


def _psnr(errors):
    return float(np.mean(-10 * np.log10(errors)))


def _window(size):
    """The 1-D Gaussian at every 'valid' position along `size` pixels, one position a row."""
    offsets = np.arange(SSIM_WINDOW) - (SSIM_WINDOW - 1) / 2
    gaussian = np.exp(-(offsets**2) / (2 * SSIM_SIGMA**2))
    rows = np.zeros((size - SSIM_WINDOW + 1, size))
    for row in range(len(rows)):
        rows[row, row : row + SSIM_WINDOW] = gaussian / gaussian.sum()
    return rows


# The window at every position down an image's columns and across its rows.
WINDOW_DOWN, WINDOW_ACROSS = _window(IMAGE_SHAPE[0]), _window(IMAGE_SHAPE[1])


def _local_mean(maps):
    """Each map's Gaussian-weighted local means: along the rows, then the columns. The map axes
    end up swapped, which the means over each map ignore."""
    return np.tensordot(np.tensordot(maps, WINDOW_ACROSS, axes=([2], [1])), WINDOW_DOWN, axes=([1], [1]))


def _clean_terms(clean):
    """SSIM's terms of clean images (float64 rows), the same for any images compared with them,
    so computed once for every denoiser: the maps, their local means, those squared, the maps squared."""
    y = clean.reshape(-1, *IMAGE_SHAPE)
    mean_y = _local_mean(y)
    return y, mean_y, mean_y**2, y * y


def _ssim_per_image(images, clean_terms):
    """Each image's SSIM against the clean images of `clean_terms`; `images` are float64 rows."""
    y, mean_y, mean_y_squared, y_squared = clean_terms
    x = images.reshape(-1, *IMAGE_SHAPE)
    c1, c2 = SSIM_K1**2, SSIM_K2**2
    mean_x = _local_mean(x)
    both, squares = 2 * mean_x * mean_y, mean_x**2 + mean_y_squared
    luminance = (both + c1) / (squares + c1)
    contrast_structure = (2 * _local_mean(x * y) - both + c2) / (_local_mean(x * x + y_squared) - squares + c2)
    return np.mean(luminance * contrast_structure, axis=(1, 2))


def ssim(images, clean):
    """Structural similarity (Wang et al. 2004, TensorFlow's 11x11 Gaussian window), averaged over images."""
    return float(np.mean(np.concatenate([_ssim_per_image(x, _clean_terms(y)) for x, y in _chunks(images, clean)])))


def image_quality(images, clean):
    """Cost, PSNR and SSIM in one pass over the images."""
    return image_qualities({"images": images}, clean)["images"]


def image_qualities(outputs, clean):
    """`image_quality` of each of `outputs` (name: images) against the same `clean` images, in one
    pass: each chunk of the clean images is converted and filtered once for them all."""
    for name, images in outputs.items():
        if images.shape != clean.shape:
            raise ValueError(
                f"{name}: {images.shape[0]} images of shape {images.shape[1:]}, expected {clean.shape[0]} of {clean.shape[1:]} as the clean ones"
            )
    errors, similarities = ({name: [] for name in outputs} for _ in range(2))
    for start in range(0, len(clean), CHUNK):
        y = clean[start : start + CHUNK].astype(np.float64)
        clean_terms = _clean_terms(y)
        for name, images in outputs.items():
            x = images[start : start + CHUNK].astype(np.float64)
            errors[name].append(_errors_per_image(x, y))
            similarities[name].append(_ssim_per_image(x, clean_terms))
    return {name: _scores(np.concatenate(errors[name]), np.concatenate(similarities[name])) for name in outputs}


def _scores(errors, similarities):
    # The cost is the mean of the per-image errors: every image has the same number of pixels.
    return {"cost": float(np.mean(errors)), "psnr": _psnr(errors), "ssim": float(np.mean(similarities))}
