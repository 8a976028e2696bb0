"""noise: the noisy copies of the splits, corrupted by params.yaml `noise_type` at `noise_level`."""

import sys
from pathlib import Path

import numpy as np

from dae import noise
from dae import params as p
from dae.files import IMAGES, LABELS, DataError, atomic_folder, atomic_path, load_arrays, save_arrays, write_arrays

PREPARED = Path("data/prepared")
OUT = Path("data/noisy")  # the splits training reads
TEST_OUT = Path("data/noisy_test.npz")  # apart: no train stage depends on the test split


def main():
    try:
        params = p.load_params()
        seed = p.seed(params)
        noise_type, noise_level, clip = p.noise(params)
        # Training draws fresh noise for every batch; a stored noisy training set is only read
        # when asked for, so only then is it made (it is most of the noisy data's size).
        stored = p.stored_noise(params)
        if stored:  # a model that cannot train on it stops the run before its 86 MB are written
            for name in p.model_names(params):
                p.shift(params, name)
    except p.ParamError as error:
        sys.exit(f"noise: {error}")

    splits = ("train", "validation") if stored else ("validation",)
    try:
        prepared = {split: load_arrays(PREPARED / f"{split}.npz", images=IMAGES, labels=LABELS) for split in (*splits, "test")}
    except DataError as error:
        sys.exit(f"noise: {error}")

    def noisy(split):
        clean = noise.to_unit(prepared.pop(split)["images"])
        # float16 halves the cache; its rounding (under 0.002 on [-4, 4]) is far below the noise.
        return noise.add_noise(clean, noise_level, noise.rng(seed, split), clip, noise_type).astype(np.float16)

    # Both outputs written in full before either is renamed into place, one right after the other.
    with atomic_folder(OUT) as folder, atomic_path(TEST_OUT) as test_file:
        for split in splits:
            save_arrays(folder / f"{split}.npz", images=noisy(split))
        write_arrays(test_file, images=noisy("test"))
    print(
        f"noise: {noise_type} noise, noise_level {noise_level}, seed {seed}, clip {clip}: "
        f"{', '.join(splits)} in {OUT}/, test in {TEST_OUT}"
    )


if __name__ == "__main__":
    main()
