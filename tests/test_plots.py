import numpy as np
import pytest
from PIL import Image

from dae import plots
from dae.files import DataError


def test_one_of_each_class_takes_the_first_of_each_digit():
    labels = np.array([3, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0])
    assert plots.one_of_each_class(labels) == [1, 2, 3, 0, 5, 6, 7, 8, 9, 10]


def test_digit_grid_has_a_row_per_image_kind(tmp_path):
    images = np.random.default_rng(0).random((10, 784), dtype=np.float32)
    rows = {"original": images, "noisy": images + 0.5, "shallow": images, "deep": images}
    figure = plots.digit_grid(rows, "title")
    (ax,) = figure.axes
    assert [label.get_text() for label in ax.get_yticklabels()] == list(rows)
    mosaic = ax.get_images()[0].get_array()
    step = 28 + plots.DIGIT_GAP
    assert mosaic.shape == (4 * step - plots.DIGIT_GAP, 10 * step - plots.DIGIT_GAP)
    # row 1 (noisy), column 3: that image, in place
    np.testing.assert_array_equal(mosaic[step : step + 28, 3 * step : 3 * step + 28], rows["noisy"][3].reshape(28, 28))
    assert np.ma.getmaskarray(mosaic)[28:step].all()  # the gaps are blank, not pixels
    plots.save_figure(figure, tmp_path / "grid.png", dpi=50)
    with Image.open(tmp_path / "grid.png") as image:
        assert image.size == (575, 240)


def test_cost_curves_from_dvclive_histories(tmp_path):
    tsv = tmp_path / "cost.tsv"
    tsv.write_text("step\tcost\n1\t0.05\n2\t0.04\n")
    assert plots.read_curve(tsv) == ([1, 2], [0.05, 0.04])
    curves = {"shallow": {"train": ([1, 2], [0.05, 0.04]), "val": ([1, 2], [0.045, 0.041])}}
    figure = plots.cost_curves(curves)
    assert [line.get_label() for line in figure.axes[0].get_lines()] == [
        "shallow: training cost",
        "shallow: validation cost",
    ]
    plots.save_figure(figure, tmp_path / "curves.png", dpi=50)
    first = (tmp_path / "curves.png").read_bytes()
    plots.save_figure(plots.cost_curves(curves), tmp_path / "curves.png", dpi=50)
    assert (tmp_path / "curves.png").read_bytes() == first
    # No time and no software version in the file: PNG text and time chunks, by their type.
    chunks, at = [], 8
    while at < len(first):
        length = int.from_bytes(first[at : at + 4], "big")
        chunks.append(first[at + 4 : at + 8])
        at += 12 + length
    assert chunks[0] == b"IHDR" and chunks[-1] == b"IEND"
    assert not {b"tIME", b"tEXt", b"iTXt", b"zTXt"} & set(chunks)



def test_cost_curves_draw_every_model_however_many():
    """More models than the colour cycle has colours (ten): every one is still drawn, its two
    curves in one colour, and the colours start over."""
    names = [f"m{k}" for k in range(12)]
    figure = plots.cost_curves({name: {"train": ([1, 2], [0.05, 0.04]), "val": ([1, 2], [0.045, 0.041])} for name in names})
    lines = figure.axes[0].get_lines()
    assert [line.get_label() for line in lines] == [f"{name}: {split} cost" for name in names for split in ("training", "validation")]
    colors = [line.get_color() for line in lines[::2]]
    assert [line.get_color() for line in lines[1::2]] == colors
    assert len(set(colors[:10])) == 10 and colors[10:] == colors[:2]


def test_a_single_epoch_is_drawn_as_points_on_a_whole_epoch():
    """One epoch (`-S train.epochs=1`, the quick check) gives lines of one point, which draw nothing."""
    figure = plots.cost_curves({"m": {"train": ([1], [0.05]), "val": ([1], [0.045])}})
    axes = figure.axes[0]
    assert [(line.get_marker(), line.get_fillstyle()) for line in axes.get_lines()] == [("o", "full"), ("o", "none")]
    assert [tick for tick in axes.get_xticks() if axes.get_xlim()[0] <= tick <= axes.get_xlim()[1]] == [1]
    longer = plots.cost_curves({"m": {"train": ([1, 2], [0.05, 0.04]), "val": ([1, 2], [0.045, 0.041])}})
    assert {line.get_marker() for line in longer.axes[0].get_lines()} == {"None"}  # lines alone, as ever

def test_curve_rows_hold_every_model_split_and_epoch():
    curves = {
        "a": {"train": ([1, 2], [0.5, 0.4]), "val": ([1, 2], [0.45, 0.41])},
        "b": {"train": ([1], [0.3]), "val": ([1], [0.35])},
    }
    rows = plots.curve_rows(curves)
    assert rows[0] == {"model": "a", "split": "training", "epoch": 1, "cost": 0.5}
    assert [(r["model"], r["split"], r["epoch"]) for r in rows] == [
        ("a", "training", 1), ("a", "training", 2), ("a", "validation", 1), ("a", "validation", 2),
        ("b", "training", 1), ("b", "validation", 1),
    ]
    assert [r["cost"] for r in rows] == [0.5, 0.4, 0.45, 0.41, 0.3, 0.35]


def test_one_of_each_class_copes_with_a_split_that_lacks_some_digits():
    labels = np.array([7, 2, 1, 0, 4, 1])
    assert plots.one_of_each_class(labels) == [3, 2, 1, 4, 0]


@pytest.mark.parametrize(
    "text, problem",
    [(None, "cannot read"), ("", "cannot read"), ("step\tcost\n1\tabc\n", "cannot read"), ("step\tcost\n1\tnan\n", "non-finite values")],
)
def test_a_bad_history_names_its_file(tmp_path, text, problem):
    tsv = tmp_path / "cost.tsv"
    if text is not None:
        tsv.write_text(text)
    with pytest.raises(DataError, match=f"{tsv}: {problem}"):
        plots.read_curve(tsv)
