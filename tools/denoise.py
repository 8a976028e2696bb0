"""Denoise your own images of handwritten digits with a trained model of the pipeline.

    python -m tools.denoise photo.jpg scan.png                 # with the first model of params.yaml
    python -m tools.denoise --model deep --noise 0.6 photo.jpg # add the pipeline's noise first
    python -m tools.denoise --model path/to/model.keras --out figures/ *.png

Each image (PNG or JPEG, any size, colour or grey of 8 or 16 bits, dark ink on light paper or
light on dark; turned upright as its EXIF orientation says) is brought to MNIST's form
(dae.images.to_mnist), denoised as it is or after adding noise of the pipeline's type
(params.yaml `noise_type`, `noise.clip`) at the level given, and drawn side by side (the
prepared digit, the noisy one, the model's output) in `<out>/<image name>.denoised.png` (two
images whose names differ at most in case, from two folders, are refused, as one figure would
overwrite the other). A file that cannot be read is named on stderr and skipped; the command
then exits with status 1. Folders made for `--out` are removed again if no figure was drawn in them.
"""

import argparse
import contextlib
import os
import sys
from pathlib import Path

from dae import noise
from dae import params as p
from dae import plots
from dae.files import DataError
from dae.images import ImageError, read_grey, to_mnist
from dae.process import frozen_imports, startup_notices_hidden


def model_path(choice, names):
    """A model name of `names` (params.yaml `models`) as its file in models/, an existing .keras
    file as it is; None for anything else (a mistyped name, an image given as the model)."""
    name = choice or names[0]
    if name in names:
        return Path("models") / f"{name}.keras"
    return Path(name) if Path(name).is_file() and Path(name).suffix == ".keras" else None


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tools.denoise", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("images", nargs="+", type=Path, help="PNG or JPEG files")
    parser.add_argument("--model", help="a model name of params.yaml `models` (default: the first) or a .keras file")
    parser.add_argument("--noise", type=float, default=None, metavar="LEVEL", help="add noise of this level first (default: none)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the added noise (default 0)")
    parser.add_argument("--out", type=Path, default=Path("denoised"), help="folder for the figures (default: denoised/)")
    args = parser.parse_args(argv)
    if not 0 <= args.seed <= p.MAX_SEED:
        parser.error(f"--seed {args.seed} is invalid: expected 0 to {p.MAX_SEED}")
    try:
        params = p.load_params()
        noise_type, _, clip = p.noise(params)
        names = p.model_names(params)
    except p.ParamError as error:
        sys.exit(f"denoise: {error}")
    path = model_path(args.model, names)
    if path is None:
        parser.error(f"--model {args.model} is invalid: expected a model of params.yaml `models` ({', '.join(names)}) or an existing .keras file")
    if args.noise is not None and not 0 <= args.noise <= p.max_noise_level(noise_type):
        parser.error(f"--noise {args.noise:g} is invalid: expected a level of {noise_type} noise from 0 to {p.max_noise_level(noise_type):g}")
    if not path.exists():
        sys.exit(f"denoise: no trained model at {path}: run `dvc repro` to train it, or `dvc pull` to fetch it from a DVC remote")
    args.out = Path(os.path.normpath(args.out))  # `new/../mine` is `mine`: neither made nor removed when it is the user's
    clashing = same_names(args.images)
    if clashing:
        where = "" if len({image.name for image in clashing}) == 1 else " (one file where case does not count, as on macOS and Windows)"
        parser.error(
            f"{' and '.join(map(str, clashing))} would both be drawn to {args.out / (clashing[0].name + '.denoised.png')}{where}: "
            "denoise them in separate runs, each with its own --out"
        )
    made = [folder for folder in (args.out, *args.out.parents) if not folder.exists()]  # deepest first
    try:
        args.out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        parser.error(f"--out {args.out} is invalid: expected a folder for the figures ({error.strerror})")
    try:
        denoise_all(args, path, noise_type, clip)
    finally:  # the folders made for figures that never came go again (rmdir leaves any that hold one)
        for folder in made:
            with contextlib.suppress(OSError):
                folder.rmdir()


def same_names(images):
    """The first different files among `images` whose names differ at most in case, or None: each
    figure is named after its image, so theirs would be one file (on macOS and Windows even when
    only the case differs). The same file given twice, by another path or a link, is no clash."""
    by_name = {}
    for image in images:
        by_name.setdefault(image.name.casefold(), {}).setdefault(_identity(image), image)
    return next((list(files.values()) for files in by_name.values() if len(files) > 1), None)


def _identity(path):
    """What tells files apart: device and inode (one for a file and its hard links), else the path."""
    try:
        stat = os.stat(path)
    except OSError:  # a missing file is named later, where its reading fails
        return os.path.realpath(path)
    return stat.st_dev, stat.st_ino


def denoise_all(args, path, noise_type, clip):
    """Draws a figure for each of `args.images` in `args.out`; exits with 1 if any failed."""
    with frozen_imports(), startup_notices_hidden():  # TensorFlow's import takes seconds: only once the arguments are good
        from dae.models import load_model

    try:
        model = load_model(path)
    except (DataError, OSError) as error:
        sys.exit(f"denoise: {error}")
    failed = 0
    for image_path in args.images:
        try:
            digit = to_mnist(read_grey(image_path), image_path).reshape(1, -1)
        except ImageError as error:
            print(f"denoise: {error}", file=sys.stderr)
            failed += 1
            continue
        rows = {"prepared": digit}
        if args.noise is not None:
            generator = noise.rng(args.seed, "test")
            rows[f"{noise_type} {args.noise:g}"] = digit = noise.add_noise(digit, args.noise, generator, clip, noise_type)
        rows[f"{path.stem}'s output"] = model(digit, training=False).numpy()
        out = args.out / f"{image_path.name}.denoised.png"
        figure = plots.side_by_side(rows, f"{image_path.name}, denoised by {path.name}")
        plots.save_figure(figure, out, dpi=100)
        print(f"denoise: {image_path} -> {out}")
    if failed:
        sys.exit(1)


if __name__ == "__main__":
    main()
