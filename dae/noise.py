"""Pixel noise, the corruption the autoencoders learn to remove: Gaussian (the reference's), or
the masking and salt-and-pepper corruptions of Vincent et al., "Stacked Denoising Autoencoders"
(JMLR 2010)."""

import numpy as np

# Independent random streams drawn from one `seed`, one for each use of noise.
STREAMS = {"train": 0, "validation": 1, "test": 2, "robustness": 3}
# params.yaml `noise_type`, and what its `noise_level` means:
# - gaussian: `noise_level * N(0, 1)` added to every pixel (its standard deviation);
# - masking: each pixel set to 0 with probability `noise_level`;
# - salt_and_pepper: each pixel set to 0 or 1, equally likely, with probability `noise_level`.


def rng(seed, stream):
    """A generator for one named stream of `STREAMS`, fixed by `seed`."""
    return np.random.default_rng([seed, STREAMS[stream]])


def to_unit(images):
    """uint8 pixels as float32 in [0, 1], one flat row of 784 per image."""
    return np.divide(images.reshape(len(images), -1), np.float32(255), dtype=np.float32)


def draw(noise_type, shape, generator):
    """The random numbers behind one corruption of `noise_type`, the same at every level:
    standard normal for Gaussian noise, else uniform on [0, 1)."""
    if noise_type == "gaussian":
        return generator.standard_normal(shape, dtype=np.float32)
    return generator.random(shape, dtype=np.float32)


def corrupt(clean, noise_type, noise_level, draws, clip=False):
    """`clean` images corrupted by `noise_type` at `noise_level` with `draws` (from `draw`), in float32.

    A pixel whose uniform draw is below the level is corrupted: masked to 0, or, for salt and
    pepper, set to 0 below half the level and to 1 above. Gaussian noise is clipped to [0, 1]
    only when asked (the reference left it unclipped); the other types stay in [0, 1].
    (dae.training.stream draws the training batches' noise the same way inside TensorFlow.)
    """
    level = np.float32(noise_level)
    if noise_type == "gaussian":
        noisy = clean + level * draws
        if clip:
            np.clip(noisy, 0.0, 1.0, out=noisy)
        return noisy
    if noise_type == "masking":
        return np.where(draws < level, np.float32(0), clean)
    if noise_type == "salt_and_pepper":
        return np.where(draws < level, (draws >= level / 2).astype(np.float32), clean)
    raise ValueError(f"unknown noise type {noise_type!r}: expected gaussian, masking or salt_and_pepper")


def add_noise(clean, noise_level, generator, clip=False, noise_type="gaussian"):
    """`clean` images (float32 in [0, 1]) corrupted afresh by `noise_type` at `noise_level`."""
    return corrupt(clean, noise_type, noise_level, draw(noise_type, clean.shape, generator), clip)
