"""The figures: a grid of digits before and after denoising, and the cost curves."""

import csv
import itertools
import math
import textwrap

import matplotlib

matplotlib.use("Agg")  # files only, no screen needed

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from dae.files import DataError, atomic_path  # noqa: E402
from dae.idx import IMAGE_SHAPE, NUM_CLASSES  # noqa: E402

# White pixels between the digits of `digit_grid`.
DIGIT_GAP = 2


def one_of_each_class(labels):
    """Index of the first image of each class 0 to 9 that `labels` holds (a small test split may lack some)."""
    return [int(found[0]) for digit in range(NUM_CLASSES) if len(found := np.flatnonzero(labels == digit))]


def digit_grid(rows, title):
    """`rows` maps a row label (original, noisy, each model) to flat images, one column each,
    drawn as one mosaic image: one `imshow` instead of a subplot per digit (1.1 s, for six rows)."""
    columns = len(next(iter(rows.values())))
    height, width = IMAGE_SHAPE
    step_down, step_across = height + DIGIT_GAP, width + DIGIT_GAP
    mosaic = np.full((len(rows) * step_down - DIGIT_GAP, columns * step_across - DIGIT_GAP), np.nan)  # NaN: the gaps
    for row, images in enumerate(rows.values()):
        for column, image in enumerate(images):
            mosaic[row * step_down : row * step_down + height, column * step_across : column * step_across + width] = np.reshape(image, IMAGE_SHAPE)
    figure, ax = plt.subplots(figsize=(columns + 1.5, len(rows) + 0.8))  # room for the labels and the title
    # Fixed [0, 1] scale so the unclipped noise shows as saturated specks, not a rescaled image.
    ax.imshow(mosaic, cmap=plt.get_cmap("gray").with_extremes(bad="white"), vmin=0.0, vmax=1.0, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([row * step_down + height / 2 for row in range(len(rows))], labels=list(rows), fontsize=11)
    ax.tick_params(length=0)
    ax.spines[:].set_visible(False)
    figure.suptitle(title)
    figure.tight_layout()
    return figure


def read_curve(tsv_path):
    """(steps, values) of a dvclive metric history: a TSV with a `step` column and the metric's.
    A missing, empty or malformed file, or a non-finite value, raises DataError naming it."""
    try:
        with open(tsv_path, newline="") as f:
            rows = list(csv.DictReader(f, delimiter="\t"))
        value_column = [column for column in rows[0] if column not in ("step", "timestamp")][0]
        steps, values = [int(row["step"]) for row in rows], [float(row[value_column]) for row in rows]
    except (OSError, IndexError, KeyError, TypeError, ValueError) as error:
        raise DataError(f"{tsv_path}: cannot read as a dvclive history (step and value columns): {error!r}") from error
    if not all(math.isfinite(value) for value in values):
        raise DataError(f"{tsv_path}: non-finite values")
    return steps, values


def curve_rows(histories):
    """The cost curves of `cost_curves` as one long table: a row per model, split and epoch.

    One file holds every model, so the interactive chart of `dvc plots show` follows the
    models of params.yaml, each in its own colour, with no edit to dvc.yaml.
    """
    names = {"train": "training", "val": "validation"}
    return [
        {"model": model, "split": names[split], "epoch": epoch, "cost": cost}
        for model, curves in histories.items()
        for split, (epochs, costs) in curves.items()
        for epoch, cost in zip(epochs, costs)
    ]


def cost_curves(histories):
    """`histories` maps a model to {"train": (epochs, costs), "val": (epochs, costs)}."""
    figure, ax = plt.subplots(figsize=(7, 4.5))
    # The colours repeat after ten models rather than leave the eleventh out.
    colors = itertools.cycle(plt.rcParams["axes.prop_cycle"].by_key()["color"])
    for color, (model, curves) in zip(colors, histories.items()):
        marker = "o" if len(curves["train"][0]) == 1 else None  # a line of one epoch is a point: show it
        ax.plot(*curves["train"], color=color, marker=marker, label=f"{model}: training cost")
        ax.plot(*curves["val"], color=color, marker=marker, fillstyle="none", linestyle="--", label=f"{model}: validation cost")
    ax.set_xlabel("epoch")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))  # whole epochs, even for one
    ax.set_ylabel("cost (mean squared error)")
    ax.grid(True, alpha=0.3)
    ax.legend()
    figure.tight_layout()
    return figure


def save_figure(figure, path, dpi):
    # No timestamp in the PNG, so the same figure gives the same bytes on every run.
    try:
        with atomic_path(path) as tmp:
            figure.savefig(tmp, dpi=dpi, metadata={"Software": None})
    finally:
        plt.close(figure)


# 40 dB of PSNR: a cost below this is no denoising task at all.
MIN_COST_SHOWN = 1e-4
# Characters in a line of the robustness figure's note: about the width of its axes at 8 points.
NOTE_WIDTH = 100


def robustness_curves(rows, trained_level, noise_type="gaussian"):
    """Test cost against test noise level, a line per denoiser of `rows` (dae.robustness), the
    baselines dashed, on a log scale from MIN_COST_SHOWN. The costs below it (the baselines' on
    noiseless images, 0 or rounding errors of it) are left out, and a note under the axes names them."""
    figure, ax = plt.subplots(figsize=(7.5, 4.5))
    shown, off_scale = [], {}  # off_scale: level -> the denoisers whose cost there the log scale cannot show
    for row in rows:
        if row["cost"] >= MIN_COST_SHOWN:
            shown.append(row)
        else:
            off_scale.setdefault(row["noise_level"], []).append(row["denoiser"])
    for name in dict.fromkeys(row["denoiser"] for row in rows):
        mine = [row for row in shown if row["denoiser"] == name]
        dashes = "--" if mine and mine[0]["kind"] == "baseline" else "-"
        ax.plot([r["noise_level"] for r in mine], [r["cost"] for r in mine], dashes, marker="o", markersize=3, label=name)
    ax.axvline(trained_level, color="gray", linestyle=":", label=f"trained at {trained_level:g}")
    ax.set_yscale("log")
    ax.set_xlabel(f"{noise_type} noise level of the test images")
    if off_scale:  # just under the x axis's label, where it covers no line whatever the data or the dpi
        where = "; ".join(f"{', '.join(names)} at level {level:g}" for level, names in off_scale.items())
        # Wrapped to the figure's width, however many levels and names it lists.
        note = textwrap.fill(f"off the scale, cost below $10^{{{math.log10(MIN_COST_SHOWN):.0f}}}$: {where}", NOTE_WIDTH)
        ax.annotate(note, (1, 0), xycoords=("axes fraction", ax.xaxis.label), xytext=(0, -4), textcoords="offset points",
                    ha="right", va="top", fontsize=8, color="dimgray")
    ax.set_ylabel("test cost (mean squared error)")
    ax.set_title("Test cost by noise level (baselines dashed, the Wiener filter refitted at each)", fontsize=11)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(loc="upper left", fontsize=9)
    figure.tight_layout()
    return figure


def side_by_side(images, title):
    """Flat 28x28 images side by side, each under its label (`images` maps labels to images)."""
    figure, axes = plt.subplots(1, len(images), figsize=(2.2 * len(images), 2.8), squeeze=False)
    for ax, (label, image) in zip(axes[0], images.items()):
        ax.imshow(np.reshape(image, IMAGE_SHAPE), cmap="gray", vmin=0.0, vmax=1.0)
        ax.set_title(label, fontsize=10)
        ax.set_xticks([])
        ax.set_yticks([])
    figure.suptitle(title, fontsize=10)
    figure.tight_layout()
    return figure
