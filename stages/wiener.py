"""wiener: fit the best linear denoiser (a Wiener filter) to the clean training images and the pipeline's noise."""

import sys
from pathlib import Path

from dae import baselines, noise
from dae import params as p
from dae.files import IMAGES, LABELS, DataError, atomic_folder, load_arrays, save_arrays

TRAIN = Path("data/prepared/train.npz")
OUT = Path("data/wiener")


def main():
    try:
        params = p.load_params()
        noise_type, noise_level, clip = p.noise(params)
        seed = p.seed(params)
    except p.ParamError as error:
        sys.exit(f"wiener: {error}")
    try:
        images = load_arrays(TRAIN, images=IMAGES, labels=LABELS)["images"]
    except DataError as error:
        sys.exit(f"wiener: {error}")
    # Clipped noise has no closed form: its fit draws one noisy copy of the training images.
    fit, spectrum = baselines.wiener_arrays(images, noise_level, clip, noise.rng(seed, "train"), noise_type)
    with atomic_folder(OUT) as folder:
        save_arrays(folder / "fit.npz", **fit)
        save_arrays(folder / "spectrum.npz", **spectrum)
    form = "least squares on one noisy copy (clipped noise)" if clip else "closed form"
    print(f"wiener: fitted to {len(images)} training images for {noise_type} noise at noise_level {noise_level} ({form}), in {OUT}/")


if __name__ == "__main__":
    main()
