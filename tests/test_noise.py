import numpy as np

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
