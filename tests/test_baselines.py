import itertools

import numpy as np
import pytest

from dae import baselines, noise
from dae.files import load_arrays, save_arrays
from tests.test_training import digits


def correlated_pixels(count, seed=0):
    """A small synthetic problem: 6 pixels in [0, 1] driven by 2 hidden factors."""
    rng = np.random.default_rng(seed)
    factors = rng.random((count, 2))
    mixing = np.array([[0.6, 0.1, 0.3, 0.0, 0.5, 0.2], [0.2, 0.7, 0.1, 0.4, 0.0, 0.3]])
    return np.clip(factors @ mixing + rng.normal(0, 0.05, (count, 6)), 0, 1).astype(np.float32)


def least_squares(noisy, clean):
    """The affine map of noisy pixels to clean ones with the least squared error, fitted directly."""
    design = np.hstack([noisy.astype(np.float64), np.ones((len(noisy), 1))])
    weights, *_ = np.linalg.lstsq(design, clean.astype(np.float64), rcond=None)
    return lambda images: np.hstack([images.astype(np.float64), np.ones((len(images), 1))]) @ weights


def test_clipped_noise_fit_is_the_direct_least_squares_fit_of_the_same_draw():
    clean = correlated_pixels(5000)
    fit = baselines.fit_wiener(clean, 0.5, clip=True, generator=noise.rng(7, "train"))
    noisy = noise.add_noise(clean, 0.5, noise.rng(7, "train"), clip=True)  # the very draw it fitted
    direct = least_squares(noisy, clean)
    np.testing.assert_allclose(baselines.denoise_linear(noisy, fit), direct(noisy), atol=1e-5)


def test_gaussian_closed_form_is_the_least_squares_fit_in_the_limit():
    """The closed form needs no noise draw; a direct fit on many noisy copies comes out the same."""
    clean = correlated_pixels(4000)
    fit = baselines.fit_wiener(clean, 0.6)
    many = np.tile(clean, (50, 1))
    noisy = noise.add_noise(many, 0.6, np.random.default_rng(3))
    direct = least_squares(noisy, many)
    test = noise.add_noise(correlated_pixels(2000, seed=1), 0.6, np.random.default_rng(4))
    assert np.abs(baselines.denoise_linear(test, fit) - direct(test)).max() < 0.02
    # and it is better than the noisy input by far
    truth = correlated_pixels(2000, seed=1)
    assert np.mean((baselines.denoise_linear(test, fit) - truth) ** 2) < 0.2 * np.mean((test - truth) ** 2)


def test_without_noise_the_filter_leaves_images_as_they_are():
    """No noise: the best linear denoiser is the identity, even where pixels never vary (a
    singular covariance, which a plain inverse would refuse)."""
    clean = digits(500)
    assert (clean.std(axis=0) == 0).any()
    fit = baselines.fit_wiener(clean, 0.0)
    np.testing.assert_allclose(baselines.denoise_linear(clean, fit), clean, atol=1e-5)


def test_on_digits_the_filter_beats_clipping_which_beats_doing_nothing():
    clean = digits(3000)
    fit = baselines.fit_wiener(clean, 0.6)
    test = digits(500, seed=5)
    noisy = noise.add_noise(test, 0.6, np.random.default_rng(1))
    costs = [np.mean((images - test) ** 2) for images in (noisy, baselines.clipped(noisy), baselines.denoise_linear(noisy, fit))]
    assert costs[0] > costs[1] > costs[2]
    assert baselines.clipped(noisy).min() == 0 and baselines.clipped(noisy).max() == 1


def test_a_saved_fit_loads_as_the_stage_stores_it(tmp_path):
    images = digits(300)
    fit, spectrum = baselines.wiener_arrays(images, 0.6)
    loaded = {}
    for name, arrays, spec in (("fit", fit, baselines.WIENER_FIT), ("spectrum", spectrum, baselines.SPECTRUM)):
        save_arrays(tmp_path / f"{name}.npz", **arrays)
        loaded[name] = load_arrays(tmp_path / f"{name}.npz", **spec)
        for key in arrays:
            np.testing.assert_array_equal(loaded[name][key], arrays[key])
    # The spectrum read back is all a refit needs: the filter fitted from the images themselves.
    refitted = baselines.fit_wiener(None, 0.6, spectrum=tuple(loaded["spectrum"][key] for key in baselines.SPECTRUM))
    np.testing.assert_array_equal(refitted["matrix"], baselines.fit_wiener(images, 0.6)["matrix"])
    save_arrays(tmp_path / "bad.npz", **{**fit, "matrix": fit["matrix"][:10]})
    with pytest.raises(ValueError, match="bad.npz: array `matrix` has shape"):
        load_arrays(tmp_path / "bad.npz", **baselines.WIENER_FIT)


def every_corruption(clean, noise_type, level):
    """Each image of `clean` under every possible corruption of its pixels, with its probability:
    all that a least-squares fit over infinitely many noise draws sees."""
    # Per pixel: kept, or set to 0 (masking), or set to 0 or 1 (salt and pepper).
    states = [(None, 1 - level), (0.0, level)] if noise_type == "masking" else [(None, 1 - level), (0.0, level / 2), (1.0, level / 2)]
    pixels = clean.shape[1]
    noisy, weights, targets = [], [], []
    for combination in itertools.product(states, repeat=pixels):
        image = clean.copy()
        for pixel, (value, _) in enumerate(combination):
            if value is not None:
                image[:, pixel] = value
        noisy.append(image)
        targets.append(clean)
        weights.append(np.full(len(clean), np.prod([p for _, p in combination])))
    return np.vstack(noisy), np.vstack(targets), np.concatenate(weights)


@pytest.mark.parametrize("noise_type", ["masking", "salt_and_pepper"])
def test_corruption_closed_forms_are_the_exact_least_squares_fit(noise_type):
    """On 4 pixels every corruption can be listed with its probability: the weighted least-squares
    fit of clean on noisy over them is exactly the filter's closed form."""
    clean = correlated_pixels(300)[:, :4]
    noisy, targets, weights = every_corruption(clean, noise_type, 0.3)
    root = np.sqrt(weights / weights.sum())[:, None]
    design = np.hstack([noisy.astype(np.float64), np.ones((len(noisy), 1))])
    exact, *_ = np.linalg.lstsq(design * root, targets.astype(np.float64) * root, rcond=None)
    fit = baselines.fit_wiener(clean, 0.3, noise_type=noise_type)
    np.testing.assert_allclose(fit["matrix"], exact[:-1], atol=1e-9)
    test = noise.add_noise(correlated_pixels(100, seed=2)[:, :4], 0.3, np.random.default_rng(0), noise_type=noise_type)
    np.testing.assert_allclose(baselines.denoise_linear(test, fit), np.hstack([test, np.ones((100, 1))]) @ exact, atol=1e-5)


@pytest.mark.parametrize("noise_type", ["masking", "salt_and_pepper"])
def test_corruption_filters_on_digits_beat_the_noisy_input_and_know_nothing_at_level_one(noise_type):
    clean, test = digits(3000), digits(500, seed=5)
    noisy = noise.add_noise(test, 0.25, np.random.default_rng(1), noise_type=noise_type)
    denoised = baselines.denoise_linear(noisy, baselines.fit_wiener(clean, 0.25, noise_type=noise_type))
    assert np.mean((denoised - test) ** 2) < 0.7 * np.mean((noisy - test) ** 2)
    # Every pixel corrupted: the noisy image says nothing, and the best guess is the mean image.
    hopeless = baselines.fit_wiener(clean, 1.0, noise_type=noise_type)
    np.testing.assert_allclose(baselines.denoise_linear(noisy, hopeless), np.broadcast_to(clean.mean(axis=0), noisy.shape), atol=1e-5)


def test_the_spectrum_of_uint8_pixels_is_exact_whatever_the_chunks():
    """The stage passes uint8 pixels: integer sums, so the covariance does not depend on how the
    images are split, and it is that of the pixels in [0, 1] up to rounding."""
    from tests.test_training import digit_bytes

    images = digit_bytes(900)
    whole = baselines.clean_spectrum(images)
    for chunk in (7, 100):
        for ours, theirs in zip(baselines.clean_spectrum(images, chunk=chunk), whole):
            np.testing.assert_array_equal(ours, theirs)
    as_floats = baselines.clean_spectrum(noise.to_unit(images).astype(np.float64))
    np.testing.assert_allclose(whole[0], as_floats[0], atol=1e-12)
    np.testing.assert_allclose(whole[1], as_floats[1], atol=1e-9 * whole[1].max())


def test_the_moment_sums_of_uint8_pixels_are_exact():
    """Summed in float32 a few hundred rows at a time, yet equal to the integer sums, even for the
    largest pixels: 259 products of 255^2 sum to an odd integer above 2^24, which float32 cannot
    hold, so a chunk of 259 rows or more fails here."""
    from tests.test_training import digit_bytes

    assert baselines.EXACT_FLOAT32_ROWS * 255**2 <= 2**24 < (baselines.EXACT_FLOAT32_ROWS + 1) * 255**2
    largest = np.full((baselines.EXACT_FLOAT32_ROWS + 1, 2), 255, np.uint8)
    for rows in (digit_bytes(700).reshape(700, -1), largest, np.full((3 * baselines.EXACT_FLOAT32_ROWS, 784), 255, np.uint8)):
        wide = rows.astype(np.int64)
        sums, products = baselines.moment_sums(rows)
        np.testing.assert_array_equal(sums, wide.sum(axis=0))
        np.testing.assert_array_equal(products, wide.T @ wide)


def test_the_stage_arrays_from_uint8_pixels_are_the_fits_of_the_pixels_in_the_unit_interval():
    from tests.test_training import digit_bytes

    images = digit_bytes(600)
    clean = noise.to_unit(images)
    for clip in (False, True):
        fit, _ = baselines.wiener_arrays(images, 0.5, clip, noise.rng(3, "train"))
        expected = baselines.fit_wiener(clean, 0.5, clip, noise.rng(3, "train"))
        for key in baselines.WIENER_FIT:
            np.testing.assert_allclose(fit[key], expected[key], atol=1e-6, err_msg=f"clip={clip}: {key}")
