"""Gaussian pixel noise, the corruption the autoencoders learn to remove."""

import numpy as np

# Independent random streams drawn from one `seed`, one for each use of noise.
STREAMS = {"train": 0, "validation": 1, "test": 2, "robustness": 3}


def rng(seed, stream):
    """A generator for one named stream of `STREAMS`, fixed by `seed`."""
    return np.random.default_rng([seed, STREAMS[stream]])


def to_unit(images):
    """uint8 pixels as float32 in [0, 1], one flat row of 784 per image."""
    return (images.reshape(len(images), -1) / np.float32(255)).astype(np.float32)


def add_noise(clean, noise_level, generator, clip=False):
    """`clean + noise_level * N(0, 1)` in float32; clipped to [0, 1] only when asked.

    The reference left the noisy pixels unclipped, so that is the default.
    """
    noisy = clean + np.float32(noise_level) * generator.standard_normal(clean.shape, dtype=np.float32)
    if clip:
        np.clip(noisy, 0.0, 1.0, out=noisy)
    return noisy
