import numpy as np
import pytest

from dae import baselines, noise
from dae.metrics import cost
from dae.plots import robustness_curves
from dae.robustness import robustness
from tests.test_training import digits

LEVELS = [0.0, 0.3, 0.6, 1.0]


def halve(images):
    """A stand-in model: not a good denoiser, but a deterministic one."""
    return images * np.float32(0.5)


@pytest.mark.parametrize("clip", [False, True])
def test_one_row_per_level_and_denoiser_baselines_first(clip):
    rows = robustness(digits(400), digits(60, seed=1), {"half": halve, "same": lambda x: x}, LEVELS, seed=0, clip=clip)
    assert len(rows) == len(LEVELS) * 5
    assert [(r["noise_level"], r["denoiser"]) for r in rows[:5]] == [
        (0.0, name) for name in ("noisy_input", "clipped_input", "wiener", "half", "same")
    ]
    assert {r["kind"] for r in rows if r["denoiser"] in ("half", "same")} == {"model"}
    assert all(np.isfinite(r["cost"]) and r["cost"] >= 0 for r in rows)
    by = {(r["noise_level"], r["denoiser"]): r["cost"] for r in rows}
    for level in LEVELS:
        assert by[level, "same"] == by[level, "noisy_input"]  # a model that does nothing is the noisy input
    noisy = [by[level, "noisy_input"] for level in LEVELS]
    assert noisy[0] == 0 and noisy == sorted(noisy)  # one draw for all levels: more noise, more cost


def test_each_level_gets_its_own_wiener_filter_and_the_same_noise_draw():
    train, test = digits(400), digits(60, seed=1)
    rows = robustness(train, test, {}, [0.3, 0.8], seed=5)
    draws = noise.rng(5, "robustness").standard_normal(test.shape, dtype=np.float32)
    for level in (0.3, 0.8):
        noisy = test + np.float32(level) * draws
        refitted = baselines.denoise_linear(noisy, baselines.fit_wiener(train, level))
        found = {r["denoiser"]: r["cost"] for r in rows if r["noise_level"] == level}
        assert found["noisy_input"] == cost(noisy, test)
        assert found["wiener"] == pytest.approx(cost(refitted, test), rel=1e-9)
        assert found["wiener"] < found["clipped_input"] < found["noisy_input"]
    # the filter fitted at 0.3 is worse at 0.8 than the one refitted there
    noisy = test + np.float32(0.8) * draws
    stale = cost(baselines.denoise_linear(noisy, baselines.fit_wiener(train, 0.3)), test)
    assert stale > [r["cost"] for r in rows if r["noise_level"] == 0.8 and r["denoiser"] == "wiener"][0]


def test_the_robustness_figure_draws_a_line_per_denoiser():
    rows = robustness(digits(200), digits(30, seed=1), {"half": halve}, LEVELS, seed=0)
    figure = robustness_curves(rows, trained_level=0.6)
    labels = [line.get_label() for line in figure.axes[0].get_lines()]
    assert labels == ["noisy_input", "clipped_input", "wiener", "half", "trained at 0.6"]
    noisy_line = figure.axes[0].get_lines()[0]
    assert list(noisy_line.get_xdata()) == LEVELS[1:]  # its cost of 0 at level 0 has no place on a log scale
    # ... and a note says which costs were left out, and where
    notes = [text.get_text() for text in figure.axes[0].texts]
    assert notes == ["off the scale, cost below $10^{-4}$: noisy_input, clipped_input, wiener at level 0"]
    assert_note_under_the_axes(figure)
    without_level_0 = robustness_curves([row for row in rows if row["noise_level"] > 0], trained_level=0.6)
    assert len(without_level_0.axes[0].texts) == 0


def assert_note_under_the_axes(figure):
    """The note lies under the axes and their label, where it covers no line, and inside the
    figure, at the lowest and highest `evaluate.dpi` and the default."""
    for dpi in (20, 600, 100):
        figure.set_dpi(dpi)
        figure.canvas.draw()
        renderer = figure.canvas.get_renderer()
        note, label = (text.get_window_extent(renderer) for text in (figure.axes[0].texts[0], figure.axes[0].xaxis.label))
        # Inside within a pixel: at 20 dpi the text's extent rounds a tenth of one past the edge.
        assert -1 < note.y0 and note.y1 < label.y0 < figure.axes[0].get_window_extent(renderer).y0, f"dpi {dpi}"
        assert -1 < note.x0 and note.x1 < figure.bbox.x1 + 1, f"dpi {dpi}"


def test_a_long_note_is_wrapped_inside_the_figure():
    levels = [0.0, 0.001, 0.002, 0.003, 0.005, 0.008, 0.5]  # Gaussian noise below 0.01 costs under 1e-4
    rows = robustness(digits(200), digits(30, seed=1), {"a_rather_long_model_name": halve}, levels, seed=0)
    figure = robustness_curves(rows, trained_level=0.6)
    note = figure.axes[0].texts[0].get_text()
    assert note.count("at level") == 6 and note.count("\n") >= 2
    assert_note_under_the_axes(figure)


@pytest.mark.parametrize("noise_type", ["masking", "salt_and_pepper"])
def test_curves_for_the_corruptions_rise_with_the_level_and_end_at_the_mean_image(noise_type):
    train, test = digits(400), digits(60, seed=1)
    rows = robustness(train, test, {"same": lambda x: x}, LEVELS, seed=0, noise_type=noise_type)
    by = {(r["noise_level"], r["denoiser"]): r["cost"] for r in rows}
    noisy = [by[level, "noisy_input"] for level in LEVELS]
    assert noisy[0] == 0 and noisy == sorted(noisy) and noisy[-1] > 0
    for level in LEVELS:
        assert by[level, "wiener"] <= by[level, "noisy_input"] + 1e-6
        assert by[level, "clipped_input"] == by[level, "noisy_input"]  # already in [0, 1]
    # Every pixel corrupted: the refitted filter can only answer the mean training image.
    assert by[1.0, "wiener"] == pytest.approx(cost(np.broadcast_to(train.mean(axis=0), test.shape), test), rel=1e-4)
