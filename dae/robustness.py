"""Robustness curves: every model and baseline scored on the test images at a range of noise levels."""

from dae import baselines, noise
from dae.metrics import cost


def robustness(clean_train, clean_test, models, levels, seed, clip=False, spectrum=None, noise_type="gaussian"):
    """Rows of `noise_level`, `denoiser`, `kind` (baseline or model) and `cost`, level by level.

    At each level the test images get that much noise of `noise_type`, clipped if `clip`, from
    the same random numbers at every level (so that the curves differ by the level alone; with
    masking, a pixel masked at one level stays masked at every higher one). The baselines are
    those of the metrics, the Wiener filter refitted to `clean_train` at each level: the best
    linear answer there, which shows where a model trained at one level stops beating it.
    `models` maps a name to a function from noisy images to denoised ones; `spectrum`, the clean
    training images' (`baselines.clean_spectrum`), saves computing it again: with it, unclipped
    noise needs no `clean_train` (None).
    """
    draws = noise.draw(noise_type, clean_test.shape, noise.rng(seed, "robustness"))
    if spectrum is None and not clip:
        spectrum = baselines.clean_spectrum(clean_train)
    rows = []
    for level in levels:
        noisy = noise.corrupt(clean_test, noise_type, level, draws, clip)
        wiener = baselines.fit_wiener(clean_train, level, clip, noise.rng(seed, "train"), spectrum, noise_type)
        outputs = {name: ("baseline", images) for name, images in baselines.outputs(noisy, wiener).items()}
        outputs.update({name: ("model", denoise(noisy)) for name, denoise in models.items()})
        rows += [
            {"noise_level": level, "denoiser": name, "kind": kind, "cost": cost(images, clean_test)}
            for name, (kind, images) in outputs.items()
        ]
    return rows
