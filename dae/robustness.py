"""Robustness curves: every model and baseline scored on the test images at a range of noise levels."""

import numpy as np

from dae import baselines, noise
from dae.metrics import cost


def robustness(clean_train, clean_test, models, levels, seed, clip=False, spectrum=None):
    """Rows of `noise_level`, `denoiser`, `kind` (baseline or model) and `cost`, level by level.

    At each level the test images get that much noise (one standard normal draw for every
    level, so that the curves differ by the level alone), clipped if `clip`. The baselines are
    those of the metrics, the Wiener filter refitted to `clean_train` at each level: the best
    linear answer there, which shows where a model trained at one level stops beating it.
    `models` maps a name to a function from noisy images to denoised ones; `spectrum`, the clean
    training images' (`baselines.clean_spectrum`), saves computing it again: with it, unclipped
    noise needs no `clean_train` (None).
    """
    draws = noise.rng(seed, "robustness").standard_normal(clean_test.shape, dtype=np.float32)
    if spectrum is None and not clip:
        spectrum = baselines.clean_spectrum(clean_train)
    rows = []
    for level in levels:
        noisy = clean_test + np.float32(level) * draws
        if clip:
            np.clip(noisy, 0.0, 1.0, out=noisy)
        wiener = baselines.fit_wiener(clean_train, level, clip, noise.rng(seed, "train"), spectrum)
        outputs = {name: ("baseline", images) for name, images in baselines.outputs(noisy, wiener).items()}
        outputs.update({name: ("model", denoise(noisy)) for name, denoise in models.items()})
        rows += [
            {"noise_level": level, "denoiser": name, "kind": kind, "cost": cost(images, clean_test)}
            for name, (kind, images) in outputs.items()
        ]
    return rows
