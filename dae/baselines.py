"""The baselines every model must beat, scored beside the models on the same noisy test set.

- `noisy_input`: the noisy image itself (do nothing);
- `clipped_input`: the noisy image clipped to [0, 1], the pixels' range;
- `wiener`: the best linear denoiser, a Wiener filter: for each pixel, the affine function of
  all the noisy pixels with the least expected squared error, over the clean training images
  and the pipeline's noise.
"""

import numpy as np

from dae import noise
from dae.files import Array

PIXELS = 28 * 28
# A fitted Wiener filter as stored by the `wiener` stage: `denoise_linear` reads these.
WIENER = {
    "noisy_mean": Array(np.float64, (PIXELS,)),
    "clean_mean": Array(np.float64, (PIXELS,)),
    "matrix": Array(np.float64, (PIXELS, PIXELS)),
}


def clipped(noisy):
    return np.clip(noisy, 0.0, 1.0)


def fit_wiener(clean, noise_level, clip=False, generator=None):
    """The linear least-squares denoiser for images like `clean` (rows in [0, 1]) plus noise of
    `noise_level`: arrays `noisy_mean`, `clean_mean` and `matrix` for `denoise_linear`.

    Unclipped Gaussian noise, independent of the image, has a closed form from the mean `mu` and
    covariance `C` of the clean pixels: `mu + C (C + s^2 I)^-1 (y - mu)`. Clipped noise has none:
    the moments of the noisy pixels are those of one noisy copy of `clean` drawn with `generator`.
    Either way the filter is `clean_mean + Cov(x, y) Cov(y, y)^-1 (y - noisy_mean)`; a
    pseudo-inverse copes with a singular Cov(y, y) (no noise: pixels that are always 0).
    """
    x = clean.astype(np.float64)
    clean_mean = x.mean(axis=0)
    x -= clean_mean
    if clip:
        y = noise.add_noise(clean, noise_level, generator, clip=True).astype(np.float64)
        noisy_mean = y.mean(axis=0)
        y -= noisy_mean
        cov_yy, cov_yx = y.T @ y / len(y), y.T @ x / len(x)
    else:
        noisy_mean = clean_mean
        cov_yx = x.T @ x / len(x)
        cov_yy = cov_yx + noise_level**2 * np.eye(x.shape[1])
    # Images are rows here: x_hat = clean_mean + (y - noisy_mean) @ matrix. Variances a 1e-10th
    # of the largest are rounding errors of zero (NumPy's default cut-off keeps some, and their inverses explode).
    matrix = np.linalg.pinv(cov_yy, rtol=1e-10, hermitian=True) @ cov_yx
    return {"noisy_mean": noisy_mean, "clean_mean": clean_mean, "matrix": matrix}


def denoise_linear(noisy, fit):
    """Apply a fit of `fit_wiener` to noisy images (rows), as float32."""
    return (fit["clean_mean"] + (noisy.astype(np.float64) - fit["noisy_mean"]) @ fit["matrix"]).astype(np.float32)
