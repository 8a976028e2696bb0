import numpy as np
import pytest

from dae.metrics import cost, image_quality, psnr, ssim


def test_cost_is_the_mean_squared_error():
    clean = np.zeros((2, 784), np.float32)
    images = clean.copy()
    images[0, :392] = 0.5  # a quarter of all pixels off by 0.5
    assert cost(images, clean) == pytest.approx(0.25 * 0.25)


def test_psnr_of_a_uniform_error():
    clean = np.full((3, 784), 0.5, np.float32)
    # error 0.1 everywhere: MSE 0.01, PSNR = 10 log10(1 / 0.01) = 20 dB
    assert psnr(clean + np.float32(0.1), clean) == pytest.approx(20.0, abs=1e-4)


def test_ssim_is_one_for_identical_images_and_lower_for_noisy_ones():
    clean = np.random.default_rng(0).random((4, 784), dtype=np.float32)
    assert ssim(clean, clean) == pytest.approx(1.0, abs=1e-6)
    noisy = clean + np.random.default_rng(1).normal(0, 0.3, clean.shape).astype(np.float32)
    assert ssim(noisy, clean) < 0.9


def test_image_quality_reports_all_three():
    clean = np.full((2, 784), 0.5, np.float32)
    scores = image_quality(clean + np.float32(0.1), clean)
    assert set(scores) == {"cost", "psnr", "ssim"}
    assert scores["cost"] == pytest.approx(0.01)
