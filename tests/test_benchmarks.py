"""The benchmarks' own checks of what they are asked to time (the timings themselves are not tested)."""

import subprocess
import sys

import pytest

from tests.conftest import PROJECT

PARAMS = "models:\n  small:\n    encoder: [8]\n  conv:\n    type: conv\n    encoder: [4]\n"


def train_speed(folder, *args):
    return subprocess.run(
        [sys.executable, "-m", "benchmarks.train_speed", *args],
        cwd=folder, env={"PYTHONPATH": str(PROJECT)}, capture_output=True, text=True,
    )


@pytest.mark.parametrize("models", ["conv", "smal"])
def test_train_speed_refuses_a_model_it_cannot_time_before_anything_else(tmp_path, models):
    """The reference's loop trains dense layers: a conv model or a mistyped name is refused by
    name, before the missing training data is even looked for."""
    (tmp_path / "params.yaml").write_text(PARAMS)
    result = train_speed(tmp_path, "--models", models)
    assert result.returncode == 2
    assert f"--models {models}: not a dense model of params.yaml `models` (its dense models: small)" in result.stderr


def test_train_speed_refuses_no_rounds(tmp_path):
    (tmp_path / "params.yaml").write_text(PARAMS)
    result = train_speed(tmp_path, "--rounds", "0")
    assert result.returncode == 2 and "--rounds must be at least 1" in result.stderr


def test_train_speed_says_which_models_it_leaves_out(tmp_path):
    (tmp_path / "params.yaml").write_text(PARAMS)
    result = train_speed(tmp_path)  # stops at the missing training data, after choosing the models
    assert "benchmark: leaving out conv (type conv): the reference's loop trains dense layers only" in result.stdout
    assert result.returncode == 1 and "data/prepared/train.npz is missing" in result.stderr
