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
# The `wiener` stage's two files: the fit at the pipeline's noise level, for `denoise_linear`, and
# the spectrum of the clean images' covariance (`clean_spectrum`), from which evaluate's
# robustness curves refit the filter at other levels of unclipped noise. The spectrum does not
# depend on the noise, so DVC's cache keeps one copy of it for every noise level.
WIENER_FIT = {
    "noisy_mean": Array(np.float64, (PIXELS,)),
    "clean_mean": Array(np.float64, (PIXELS,)),
    "matrix": Array(np.float64, (PIXELS, PIXELS)),
}
SPECTRUM = {
    "mean": Array(np.float64, (PIXELS,)),
    "eigenvalues": Array(np.float64, (PIXELS,)),
    "eigenvectors": Array(np.float64, (PIXELS, PIXELS)),
}


def clipped(noisy):
    return np.clip(noisy, 0.0, 1.0)


def clean_spectrum(clean):
    """The mean of the clean images (rows) and the eigenvalues and eigenvectors of their covariance:
    all that the Wiener filter for unclipped Gaussian noise needs, at any noise level."""
    x = clean.astype(np.float64)
    mean = x.mean(axis=0)
    x -= mean
    eigenvalues, eigenvectors = np.linalg.eigh(x.T @ x / len(x))
    return mean, eigenvalues, eigenvectors


def fit_wiener(clean, noise_level, clip=False, generator=None, spectrum=None):
    """The linear least-squares denoiser for images like `clean` (rows in [0, 1]) plus noise of
    `noise_level`: arrays `noisy_mean`, `clean_mean` and `matrix` for `denoise_linear`.

    Unclipped Gaussian noise, independent of the image, has a closed form from the mean `mu` and
    covariance `C` of the clean pixels: `mu + C (C + s^2 I)^-1 (y - mu)`, computed from C's
    eigenvalues `l` as a shrinkage `l / (l + s^2)` of each eigenvector (`spectrum`, from
    `clean_spectrum`, saves recomputing them level after level). Clipped noise has no closed
    form: the moments of the noisy pixels are those of one noisy copy of `clean` drawn with
    `generator`, and the filter is `clean_mean + Cov(x, y) Cov(y, y)^-1 (y - noisy_mean)`.
    """
    if not clip:
        mean, eigenvalues, eigenvectors = spectrum or clean_spectrum(clean)
        # Variances a 1e-10th of the largest are rounding errors of zero: no signal to keep there.
        signal = eigenvalues > 1e-10 * eigenvalues.max()
        shrinkage = np.where(signal, eigenvalues / np.where(signal, eigenvalues + noise_level**2, 1), 0)
        # Images are rows here: x_hat = clean_mean + (y - noisy_mean) @ matrix.
        matrix = (eigenvectors * shrinkage) @ eigenvectors.T
        return {"noisy_mean": mean, "clean_mean": mean, "matrix": matrix}
    x = clean.astype(np.float64)
    clean_mean = x.mean(axis=0)
    x -= clean_mean
    y = noise.add_noise(clean, noise_level, generator, clip=True).astype(np.float64)
    noisy_mean = y.mean(axis=0)
    y -= noisy_mean
    cov_yy, cov_yx = y.T @ y / len(y), y.T @ x / len(x)
    # Without noise, pixels that are always 0 make Cov(y, y) singular: a pseudo-inverse, cutting
    # variances a 1e-10th of the largest (NumPy's default cut-off keeps rounding errors of zero).
    matrix = np.linalg.pinv(cov_yy, rtol=1e-10, hermitian=True) @ cov_yx
    return {"noisy_mean": noisy_mean, "clean_mean": clean_mean, "matrix": matrix}


def wiener_arrays(clean, noise_level, clip=False, generator=None):
    """What the `wiener` stage stores: the fit of `fit_wiener` (`WIENER_FIT`) and the clean spectrum (`SPECTRUM`)."""
    spectrum = clean_spectrum(clean)
    fit = fit_wiener(clean, noise_level, clip, generator, spectrum)
    return fit, dict(zip(SPECTRUM, spectrum))


def outputs(noisy, fit):
    """Each baseline's output for `noisy` images, by its name in the metrics (params.BASELINE_NAMES):
    the noisy input, the same clipped, and the Wiener filter `fit`'s."""
    return {"noisy_input": noisy, "clipped_input": clipped(noisy), "wiener": denoise_linear(noisy, fit)}


def denoise_linear(noisy, fit):
    """Apply a fit of `fit_wiener` to noisy images (rows), in float32: four times as fast as
    float64, and its rounding is far below any cost this pipeline compares."""
    matrix, noisy_mean, clean_mean = (fit[key].astype(np.float32) for key in ("matrix", "noisy_mean", "clean_mean"))
    return clean_mean + (noisy.astype(np.float32) - noisy_mean) @ matrix
