"""evaluate: score every model on the noisy test set and draw the figures."""

import json
import math
import sys
from pathlib import Path

from dae.process import frozen_imports, startup_notices_hidden

with frozen_imports(), startup_notices_hidden():
    import numpy as np
    import tensorflow as tf

    from dae import baselines, noise
    from dae import params as p
    from dae import plots
    from dae.files import IMAGES, LABELS, NOISY_IMAGES, DataError, atomic_path, load_arrays, same_count, save_csv
    from dae.metrics import image_qualities
    from dae.models import denoise, load_model
    from dae.robustness import robustness

PREPARED = Path("data/prepared")
NOISY_TEST = Path("data/noisy_test.npz")
WIENER = Path("data/wiener")
MODELS = Path("models")
HISTORIES = Path("dvclive")
REPORTS = Path("reports")


def main():
    try:
        params = p.load_params()
        model_names = p.model_names(params)
        noise_type, noise_level, clip = p.noise(params)
        seed = p.seed(params)
        test_levels, robustness_images, dpi = p.evaluate_settings(params, noise_type)
    except p.ParamError as error:
        sys.exit(f"evaluate: {error}")
    paths = [MODELS / f"{name}.keras" for name in model_names]
    missing = [str(path) for path in paths if not path.exists()]
    if missing:
        sys.exit(f"evaluate: no trained model at {', '.join(missing)}: run `dvc repro` to train it")
    # This stage depends on the whole models/ and dvclive/ folders (dvc.yaml cannot list one file per
    # model), so anything else in them, e.g. a removed model's files, would count as its input.
    # Not DVC's own .gitignore files, which DVC does not hash (the patterns of .dvcignore): a removed
    # model's folder holding only its .gitignore, as `dvc checkout` leaves it, is no stray.
    expected = {*paths, *(HISTORIES / name / entry for name in model_names for entry in ("metrics.json", "plots"))}
    folders = {MODELS, HISTORIES, *(HISTORIES / name for name in model_names)}

    def holder(path):  # what in models/, dvclive/ or dvclive/<model>/ holds a stray file
        while path.parent not in folders:
            path = path.parent
        return str(path)

    hidden = {MODELS / ".gitignore", *HISTORIES.glob("*/.gitignore")}
    inputs = [path for folder in (MODELS, HISTORIES) for path in folder.rglob("*") if not path.is_dir() and path not in hidden]
    stray = sorted({holder(path) for path in inputs if not expected.intersection([path, *path.parents])})
    if stray:
        sys.exit(
            f"evaluate: {', '.join(stray)} belong to no model of params.yaml `models`, yet would count as inputs "
            "of this stage: delete them (or add their model back), then rerun"
        )

    tf.config.experimental.enable_op_determinism()  # bit-identical metrics on every run
    try:
        test = load_arrays(PREPARED / "test.npz", images=IMAGES, labels=LABELS)
        # The training images only refit the Wiener filter for clipped noise; the spectrum does for unclipped.
        train = load_arrays(PREPARED / "train.npz", images=IMAGES, labels=LABELS)["images"] if clip else None
        noisy = load_arrays(NOISY_TEST, images=NOISY_IMAGES)["images"]
        same_count({PREPARED / "test.npz": test["images"], NOISY_TEST: noisy})
        wiener = load_arrays(WIENER / "fit.npz", **baselines.WIENER_FIT)
        spectrum = load_arrays(WIENER / "spectrum.npz", **baselines.SPECTRUM)
        models = {name: load_model(path) for name, path in zip(model_names, paths)}
        curves = {
            name: {split: plots.read_curve(HISTORIES / name / "plots" / "metrics" / split / "cost.tsv") for split in ("train", "val")}
            for name in model_names
        }
    except DataError as error:
        sys.exit(f"evaluate: {error}")
    clean, noisy = noise.to_unit(test["images"]), noisy.astype("float32")
    reconstructions = {name: denoise(model, noisy) for name, model in models.items()}

    # The baselines every model must beat: do nothing, clip to the pixels' range, the best linear denoiser.
    baseline_outputs = baselines.outputs(noisy, wiener)
    metrics = image_qualities({**baseline_outputs, **reconstructions}, clean)
    broken = [f"{name}.{key}" for name, scores in metrics.items() for key, value in scores.items() if not math.isfinite(value)]
    if broken:
        sys.exit(f"evaluate: non-finite metrics {', '.join(broken)}: nothing written")
    for name, scores in metrics.items():  # flushed: shown at once, not after the figures are drawn
        print(f"evaluate {name}: cost {scores['cost']:.6f}  psnr {scores['psnr']:.2f} dB  ssim {scores['ssim']:.4f}", flush=True)

    shown = plots.one_of_each_class(test["labels"])
    rows = {"original": clean[shown], f"noisy\ncost {metrics['noisy_input']['cost']:.4f}": noisy[shown]}
    rows[f"Wiener filter\ncost {metrics['wiener']['cost']:.4f}"] = baseline_outputs["wiener"][shown]
    rows.update({f"{name}\ncost {metrics[name]['cost']:.4f}": images[shown] for name, images in reconstructions.items()})
    title = f"One test digit of each class: original, with {noise_type} noise of level {noise_level:g}, and denoised (test cost)"
    plots.save_figure(plots.digit_grid(rows, title), REPORTS / "digits.png", dpi)

    plots.save_figure(plots.cost_curves(curves), REPORTS / "cost_curves.png", dpi)
    save_csv(REPORTS / "cost_curves.csv", plots.curve_rows(curves))

    denoisers = {name: (lambda images, model=model: denoise(model, images)) for name, model in models.items()}
    clean_train = noise.to_unit(train) if clip else None
    spectrum = tuple(spectrum[name] for name in baselines.SPECTRUM)  # by name, not by order in the file
    # A fifth of the test images, in a fifth of the time, spread evenly over the file: its first
    # and second halves come from different writers (MNIST's SD-3 and SD-1), the first easier.
    subset = clean[np.linspace(0, len(clean) - 1, min(robustness_images, len(clean))).astype(int)]
    levels = robustness(clean_train, subset, denoisers, test_levels, seed, clip, spectrum, noise_type)
    plots.save_figure(plots.robustness_curves(levels, noise_level, noise_type), REPORTS / "robustness.png", dpi)
    save_csv(REPORTS / "robustness.csv", levels)
    # Metrics last (DVC removes the old outputs first): a run whose figures fail leaves no metrics.
    with atomic_path(REPORTS / "test_metrics.json") as tmp:
        tmp.write_text(json.dumps(metrics, indent=2) + "\n")


if __name__ == "__main__":
    main()
