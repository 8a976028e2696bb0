"""Score trained models, beside the baselines, on the test images with freshly drawn noise:
does a test cost hold on noise that the pipeline never drew?

    python -m tools.score                         # every model of params.yaml, noise seed `seed` + 1
    python -m tools.score --model best --seed 7   # one model, another draw

The noise is of the pipeline's type and level (params.yaml `noise_type`, `noise_level`,
`noise.clip`), drawn with `--seed` (default: params.yaml `seed` + 1; `seed` itself would give
the test noise that evaluate scored); the cost is the same mean squared error as evaluate's,
over all the test images. The baselines are evaluate's: the noisy input, the same clipped, and
the `wiener` stage's filter. It refuses to score while `dvc status` finds the Wiener filter or
a model out of date (a filter fitted for another noise level, say), or cannot tell (another DVC
command holding the workspace).
"""

import argparse
import sys
from pathlib import Path

from dae import baselines, noise
from dae import params as p
from dae.files import IMAGES, LABELS, DataError, load_arrays
from dae.metrics import cost
from dae.process import frozen_imports, startup_notices_hidden

TEST = Path("data/prepared/test.npz")
WIENER_FIT = Path("data/wiener/fit.npz")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tools.score", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", action="append", help="a model name of params.yaml `models` (default: every one); repeatable")
    parser.add_argument("--seed", type=int, help="seed of the fresh test noise (default: params.yaml `seed` + 1)")
    args = parser.parse_args(argv)
    if args.seed is not None and not 0 <= args.seed <= p.MAX_SEED:
        parser.error(f"--seed {args.seed} is invalid: expected 0 to {p.MAX_SEED}")
    try:
        params = p.load_params()
        names = p.model_names(params)
        noise_type, noise_level, clip = p.noise(params)
        seed = p.seed(params)
    except p.ParamError as error:
        sys.exit(f"score: {error}")
    if args.seed is None:
        args.seed = (seed + 1) % (p.MAX_SEED + 1)
    unknown = [name for name in args.model or [] if name not in names]
    if unknown:
        parser.error(f"--model {', '.join(unknown)}: not in params.yaml `models` (found: {', '.join(names)})")

    paths = {name: Path("models") / f"{name}.keras" for name in args.model or names}
    missing = [str(path) for path in paths.values() if not path.exists()]
    if missing:
        sys.exit(f"score: no trained model at {', '.join(missing)}: run `dvc repro` to train it, or `dvc pull` to fetch it from a DVC remote")
    if not WIENER_FIT.exists():
        sys.exit(f"score: no Wiener filter at {WIENER_FIT}: run `dvc repro wiener` to fit it, or `dvc pull` to fetch it from a DVC remote")
    stale = out_of_date(["wiener", *(f"train@{name}" for name in paths)])
    if stale:
        # A filter fitted, or a model trained, for other params would be scored under these params' name.
        sys.exit(f"score: {', '.join(stale)} out of date (`dvc status` says why): run `dvc repro` first")

    with frozen_imports(), startup_notices_hidden():  # TensorFlow's import takes seconds: only once the arguments are good
        from dae.models import denoise, load_model

    try:
        clean = noise.to_unit(load_arrays(TEST, images=IMAGES, labels=LABELS)["images"])
        fit = load_arrays(WIENER_FIT, **baselines.WIENER_FIT)
        models = {name: load_model(path) for name, path in paths.items()}
    except (DataError, OSError) as error:
        sys.exit(f"score: {error}")
    # The "test" stream of another seed: the same kind of draw as evaluate's, not the same numbers.
    noisy = noise.add_noise(clean, noise_level, noise.rng(args.seed, "test"), clip, noise_type)
    print(f"score: {len(clean)} test images, {noise_type} noise {noise_level:g} drawn with seed {args.seed}")
    for name, output in baselines.outputs(noisy, fit).items():
        print(f"score {name}: cost {cost(output, clean):.6f}")
    for name, model in models.items():
        print(f"score {name}: cost {cost(denoise(model, noisy), clean):.6f}")


def out_of_date(stages):
    """The stages among `stages` and those they depend on that `dvc status` finds out of date;
    none outside a DVC project (files copied by hand are taken as they are). Exits, saying why,
    where `dvc status` cannot run."""
    from dvc.exceptions import DvcException, NotDvcRepoError
    from dvc.repo import Repo

    try:
        with Repo(".") as repo:
            return list(repo.status(targets=stages, with_deps=True))
    except NotDvcRepoError:
        return []
    except DvcException as error:  # another `dvc repro` holding the workspace, say
        sys.exit(f"score: cannot check the pipeline with `dvc status`: {error}")


if __name__ == "__main__":
    main()
