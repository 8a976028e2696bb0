import numpy as np
import pytest

from dae import noise


def test_to_unit_scales_and_flattens():
    images = np.array([[[0, 255], [51, 102]]], dtype=np.uint8)
    unit = noise.to_unit(images)
    assert unit.dtype == np.float32 and unit.shape == (1, 4)
    np.testing.assert_allclose(unit, [[0.0, 1.0, 0.2, 0.4]], rtol=1e-6)


def test_same_seed_same_noise_and_streams_are_independent():
    clean = np.full((100, 784), 0.5, np.float32)
    first = noise.add_noise(clean, 0.6, noise.rng(7, "train"))
    again = noise.add_noise(clean, 0.6, noise.rng(7, "train"))
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, noise.add_noise(clean, 0.6, noise.rng(7, "test")))
    assert not np.array_equal(first, noise.add_noise(clean, 0.6, noise.rng(8, "train")))


def test_noise_statistics():
    clean = np.linspace(0, 1, 1000 * 784, dtype=np.float32).reshape(1000, 784)
    added = noise.add_noise(clean, 0.6, noise.rng(0, "train")) - clean
    assert added.dtype == np.float32
    # 784,000 draws: the standard errors are about 0.0007 (mean) and 0.0005 (sd).
    assert abs(added.mean()) < 0.004
    assert abs(added.std() - 0.6) < 0.003
    assert added.min() < -2.5 and added.max() > 2.5  # unclipped by default


def test_clip_keeps_pixels_in_unit_range():
    clean = np.full((10, 784), 0.5, np.float32)
    clipped = noise.add_noise(clean, 0.6, noise.rng(0, "train"), clip=True)
    assert clipped.min() == 0.0 and clipped.max() == 1.0


def test_zero_noise_level_returns_the_clean_images():
    clean = np.random.default_rng(1).random((3, 784), dtype=np.float32)
    np.testing.assert_array_equal(noise.add_noise(clean, 0.0, noise.rng(0, "train")), clean)


@pytest.mark.parametrize("noise_type", ["masking", "salt_and_pepper"])
def test_corruptions_hit_each_pixel_with_the_level_as_probability(noise_type):
    clean = np.linspace(0.01, 0.99, 2000 * 784, dtype=np.float32).reshape(2000, 784)
    noisy = noise.add_noise(clean, 0.25, noise.rng(0, "train"), noise_type=noise_type)
    assert noisy.dtype == np.float32 and noisy.shape == clean.shape
    changed = noisy != clean
    # 1,568,000 pixels: the standard error of the share corrupted is about 0.00035.
    assert abs(changed.mean() - 0.25) < 0.002
    if noise_type == "masking":
        assert (noisy[changed] == 0).all()
    else:
        assert set(np.unique(noisy[changed])) == {0.0, 1.0}
        assert abs((noisy[changed] == 1).mean() - 0.5) < 0.003  # salt and pepper equally likely
    # Independent of the pixel's value: as many corrupted in the darker half as in the lighter.
    assert abs(changed[clean < 0.5].mean() - changed[clean >= 0.5].mean()) < 0.004


@pytest.mark.parametrize("noise_type", ["masking", "salt_and_pepper"])
def test_corruption_levels_zero_and_one(noise_type):
    clean = np.random.default_rng(1).random((3, 784), dtype=np.float32)
    np.testing.assert_array_equal(noise.add_noise(clean, 0.0, noise.rng(0, "train"), noise_type=noise_type), clean)
    everything = noise.add_noise(clean, 1.0, noise.rng(0, "train"), noise_type=noise_type)
    assert set(np.unique(everything)) <= {0.0, 1.0} and (noise_type != "masking" or not everything.any())


def test_one_draw_for_every_level_corrupts_more_pixels_at_higher_levels():
    """The robustness curves draw once for all levels: masking at a higher level keeps masking the same pixels."""
    clean = np.full((10, 784), 0.5, np.float32)
    draws = noise.draw("masking", clean.shape, noise.rng(0, "robustness"))
    low, high = (noise.corrupt(clean, "masking", level, draws) == 0 for level in (0.2, 0.6))
    assert (high[low]).all() and high.sum() > low.sum()


def test_an_unknown_noise_type_is_refused():
    with pytest.raises(ValueError, match="unknown noise type 'speckle'"):
        noise.add_noise(np.zeros((1, 784), np.float32), 0.5, noise.rng(0, "train"), noise_type="speckle")
