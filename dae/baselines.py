"""The baselines every model must beat, scored beside the models on the same noisy test set.

- `noisy_input`: the noisy image itself (do nothing);
- `clipped_input`: the noisy image clipped to [0, 1], the pixels' range;
- `wiener`: the best linear denoiser, a Wiener filter: for each pixel, the affine function of
  all the noisy pixels with the least expected squared error, over the clean training images
  and the pipeline's noise (of any `noise_type`).
"""

import numpy as np

from dae import noise
from dae.files import Array

PIXELS = 28 * 28
# The `wiener` stage's two files: the fit at the pipeline's noise level, for `denoise_linear`, and
# the spectrum of the clean images' covariance (`clean_spectrum`), from which evaluate's
# robustness curves refit the filter at other levels of every noise type but clipped Gaussian. The spectrum does not
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


# A sum of up to this many products of uint8 pixels (each at most 255^2) stays below 2^24, and float32
# holds every integer up to 2^24: such a sum is exact in float32, whatever the order of its additions.
EXACT_FLOAT32_ROWS = 2**24 // 255**2


def clean_spectrum(images, chunk=5000):
    """The mean of the clean images (rows, uint8 pixels or floats in [0, 1]) and the eigenvalues and
    eigenvectors of their covariance: all that the Wiener filter for unclipped noise needs, at any level.

    From uint8 pixels every sum is of integers, hence exact, so the covariance is rounded once, the
    same whatever the CPU or the order of the sums (`moment_sums`).
    """
    rows = images.reshape(len(images), -1)
    scale = 255.0 if rows.dtype == np.uint8 else 1.0
    sums, products = moment_sums(rows, chunk)
    count = len(rows)
    # n^2 Cov = n sum(x x^T) - sum(x) sum(x)^T: exact in integers; one division at the end.
    covariance = (count * products - np.outer(sums, sums)) / (count * scale) ** 2
    eigenvalues, eigenvectors = np.linalg.eigh(covariance)
    return sums / (count * scale), eigenvalues, eigenvectors


def moment_sums(rows, chunk=5000):
    """The sum of the `rows` and the sum of their outer products, in float64, a chunk of rows at a
    time: no float64 copy of them all (345 MB for the training images).

    uint8 pixels are summed exactly: their products in float32, twice as fast as float64,
    `EXACT_FLOAT32_ROWS` rows at a time, whose sums are integers below 2^24; those in float64,
    integers below 2^53 (for up to about 370,000 rows: `count^2 * 255^2`, the largest number
    `clean_spectrum` then makes of them, must stay below it too).
    """
    exact = rows.dtype == np.uint8
    if exact and (len(rows) * 255) ** 2 >= 2**53:
        raise ValueError(f"{len(rows)} images are too many to sum exactly in float64: pass them as floats in [0, 1]")
    dtype, chunk = (np.float32, min(chunk, EXACT_FLOAT32_ROWS)) if exact else (np.float64, chunk)
    sums, products = np.zeros(rows.shape[1]), np.zeros((rows.shape[1], rows.shape[1]))
    for start in range(0, len(rows), chunk):
        x = rows[start : start + chunk].astype(dtype)
        sums += x.sum(axis=0, dtype=np.float64)
        products += x.T @ x
    return sums, products


def fit_wiener(clean, noise_level, clip=False, generator=None, spectrum=None, noise_type="gaussian"):
    """The linear least-squares denoiser for images like `clean` (rows in [0, 1]) corrupted by
    `noise_type` at `noise_level`: arrays `noisy_mean`, `clean_mean` and `matrix` for `denoise_linear`.

    Every noise type but clipped Gaussian noise has a closed form from the mean `mu` and
    covariance `C` of the clean pixels (`spectrum`, from `clean_spectrum`, saves recomputing it
    level after level). Each keeps a pixel's signal with a factor `k` and adds a variance `v` of
    its own to it, independently from pixel to pixel:
    - Gaussian: `k = 1`, `v = s^2`: the filter `mu + C (C + s^2 I)^-1 (y - mu)`, computed from C's
      eigenvalues `l` as a shrinkage `l / (l + s^2)` of each eigenvector;
    - masking and salt and pepper (corruption probability p): `k = 1 - p`, `v` from the pixel's
      mean and mean square, and the noisy mean `k mu` (plus `p / 2`, salt and pepper);
    so that `Cov(x, y) = k C`, `Cov(y, y) = k^2 C + diag(v)`, and the filter is
    `clean_mean + Cov(x, y) Cov(y, y)^-1 (y - noisy_mean)`: the least-squares fit of clean on
    noisy over infinitely many noise draws. Clipped Gaussian noise has no closed form: its moments
    are those of one noisy copy of `clean` drawn with `generator`.
    """
    if clip:
        if noise_type != "gaussian":
            raise ValueError(f"clipped noise is Gaussian noise clipped to [0, 1], not {noise_type!r}")
        return _fit_to_one_draw(clean, noise_level, generator)
    mean, eigenvalues, eigenvectors = spectrum or clean_spectrum(clean)
    # Variances a 1e-10th of the largest are rounding errors of zero: no signal to keep there.
    signal = eigenvalues > 1e-10 * eigenvalues.max()
    if noise_type == "gaussian":
        shrinkage = np.where(signal, eigenvalues / np.where(signal, eigenvalues + noise_level**2, 1), 0)
        # Images are rows here: x_hat = clean_mean + (y - noisy_mean) @ matrix.
        matrix = (eigenvectors * shrinkage) @ eigenvectors.T
        return {"noisy_mean": mean, "clean_mean": mean, "matrix": matrix}
    cov = (eigenvectors * np.where(signal, eigenvalues, 0)) @ eigenvectors.T
    square = np.diag(cov) + mean**2  # E[x^2], pixel by pixel
    p, k = noise_level, 1 - noise_level
    if noise_type == "masking":  # y = x with probability k, else 0
        noisy_mean, own = k * mean, k * p * square
    elif noise_type == "salt_and_pepper":  # y = x with probability k, else 0 or 1
        noisy_mean = k * mean + p / 2
        own = k * square + p / 2 - noisy_mean**2 - k**2 * np.diag(cov)
    else:
        raise ValueError(f"unknown noise type {noise_type!r}: expected gaussian, masking or salt_and_pepper")
    return {"noisy_mean": noisy_mean, "clean_mean": mean, "matrix": _solve(k**2 * cov + np.diag(own), k * cov)}


def _solve(cov_yy, cov_yx):
    # Pixels that are always 0 (and no noise to vary them) make Cov(y, y) singular: a pseudo-inverse,
    # cutting variances a 1e-10th of the largest (NumPy's default cut-off keeps rounding errors of zero).
    return np.linalg.pinv(cov_yy, rtol=1e-10, hermitian=True) @ cov_yx


def _fit_to_one_draw(clean, noise_level, generator):
    x = clean.astype(np.float64)
    clean_mean = x.mean(axis=0)
    x -= clean_mean
    y = noise.add_noise(clean, noise_level, generator, clip=True).astype(np.float64)
    noisy_mean = y.mean(axis=0)
    y -= noisy_mean
    matrix = _solve(y.T @ y / len(y), y.T @ x / len(x))
    return {"noisy_mean": noisy_mean, "clean_mean": clean_mean, "matrix": matrix}


def wiener_arrays(images, noise_level, clip=False, generator=None, noise_type="gaussian"):
    """What the `wiener` stage stores for clean `images` (uint8 pixels, or floats in [0, 1]): the fit
    of `fit_wiener` (`WIENER_FIT`) and the clean spectrum (`SPECTRUM`)."""
    spectrum = clean_spectrum(images)
    # Only clipped noise fits to a noisy copy of the images themselves, as floats.
    clean = noise.to_unit(images) if clip and images.dtype == np.uint8 else images
    fit = fit_wiener(clean, noise_level, clip, generator, spectrum, noise_type)
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
