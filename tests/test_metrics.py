import numpy as np
import pytest

from dae import metrics
from dae.metrics import cost, image_qualities, image_quality, psnr, ssim


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


def test_psnr_and_ssim_are_tensorflows():
    """The NumPy scores equal tf.image.psnr and tf.image.ssim (defaults, peak 1) averaged over
    images, on digit-like images, on noise and on reconstructions in between."""
    import tensorflow as tf

    from tests.test_training import digits

    rng = np.random.default_rng(0)
    clean = digits(300)
    cases = {
        "noisy": clean + rng.normal(0, 0.6, clean.shape).astype(np.float32),
        "blurred": (0.7 * clean + 0.3 * np.roll(clean, 29, axis=1) + rng.normal(0, 0.02, clean.shape)).astype(np.float32),
        "random": rng.random(clean.shape, dtype=np.float32),
    }
    as_tf = lambda flat: tf.constant(flat.reshape(-1, 28, 28, 1))  # noqa: E731
    for name, images in cases.items():
        expected_psnr = float(tf.reduce_mean(tf.image.psnr(as_tf(images), as_tf(clean), max_val=1.0)))
        expected_ssim = float(tf.reduce_mean(tf.image.ssim(as_tf(images), as_tf(clean), max_val=1.0)))
        assert psnr(images, clean) == pytest.approx(expected_psnr, abs=1e-4), name
        assert ssim(images, clean) == pytest.approx(expected_ssim, abs=1e-5), name
    assert len({round(ssim(images, clean), 3) for images in cases.values()}) == 3  # the cases do differ


def test_scores_are_each_images_alone_whatever_the_chunks(monkeypatch):
    monkeypatch.setattr(metrics, "CHUNK", 2)  # 5 images: chunks of 2, 2 and 1
    rng = np.random.default_rng(2)
    clean = rng.random((5, 784), dtype=np.float32)
    images = np.clip(clean + rng.normal(0, 0.2, clean.shape), 0, 1).astype(np.float32)
    alone = [image_quality(images[i : i + 1], clean[i : i + 1]) for i in range(5)]
    together = image_quality(images, clean)
    for key in ("cost", "psnr", "ssim"):
        assert together[key] == pytest.approx(np.mean([scores[key] for scores in alone]), rel=1e-12), key
    separately = {"cost": cost(images, clean), "psnr": psnr(images, clean), "ssim": ssim(images, clean)}
    assert together == pytest.approx(separately, rel=1e-12)


def ssim_per_image_alone(images, clean):
    """SSIM image by image, as the formula reads, for one output alone: nothing of the clean
    images computed once and shared (float64 rows, the window of dae.metrics)."""
    x, y = (a.reshape(-1, 28, 28) for a in (images, clean))

    def local_mean(maps):
        return np.tensordot(np.tensordot(maps, metrics.WINDOW_ACROSS, axes=([2], [1])), metrics.WINDOW_DOWN, axes=([1], [1]))

    c1, c2 = metrics.SSIM_K1**2, metrics.SSIM_K2**2
    mean_x, mean_y = local_mean(x), local_mean(y)
    both, squares = 2 * mean_x * mean_y, mean_x**2 + mean_y**2
    luminance = (both + c1) / (squares + c1)
    contrast_structure = (2 * local_mean(x * y) - both + c2) / (local_mean(x * x + y * y) - squares + c2)
    return np.mean(luminance * contrast_structure, axis=(1, 2))


def test_several_outputs_scored_in_one_pass_score_bit_for_bit_as_each_alone(monkeypatch):
    """The clean images' terms of SSIM, computed once for all outputs, change no bit of any score:
    the same arithmetic as each output scored alone, chunk by chunk."""
    monkeypatch.setattr(metrics, "CHUNK", 3)  # 7 images: chunks of 3, 3 and 1
    rng = np.random.default_rng(3)
    clean = rng.random((7, 784), dtype=np.float32)
    outputs = {
        "noisy": (clean + rng.normal(0, 0.3, clean.shape)).astype(np.float32),
        "clipped": np.clip(clean + rng.normal(0, 0.3, clean.shape), 0, 1).astype(np.float32),
        "blurred": (0.5 * clean + 0.5 * np.roll(clean, 1, axis=1)).astype(np.float32),
    }
    together = image_qualities(outputs, clean)
    assert list(together) == list(outputs)
    for name, images in outputs.items():
        chunks = [(images[i : i + 3].astype(np.float64), clean[i : i + 3].astype(np.float64)) for i in range(0, 7, 3)]
        errors = np.concatenate([np.mean(np.square(x - y), axis=1) for x, y in chunks])
        similarities = np.concatenate([ssim_per_image_alone(x, y) for x, y in chunks])
        alone = {"cost": float(np.mean(errors)), "psnr": float(np.mean(-10 * np.log10(errors))), "ssim": float(np.mean(similarities))}
        assert together[name] == alone, name
        assert together[name] == image_quality(images, clean), name
    assert len({scores["ssim"] for scores in together.values()}) == 3  # the outputs do differ


def test_outputs_of_another_shape_than_the_clean_images_are_refused_by_name():
    clean = np.zeros((4, 784), np.float32)
    with pytest.raises(ValueError, match=r"short: 3 images of shape \(784,\), expected 4 of \(784,\)"):
        image_qualities({"fine": clean, "short": clean[:3]}, clean)
