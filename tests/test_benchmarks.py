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


def test_train_speed_refuses_a_json_file_it_could_not_write_before_timing(tmp_path):
    (tmp_path / "params.yaml").write_text(PARAMS)
    result = train_speed(tmp_path, "--json", str(tmp_path / "missing" / "table.json"))
    assert result.returncode == 2 and f"--json {tmp_path / 'missing' / 'table.json'}: no folder {tmp_path / 'missing'}" in result.stderr


@pytest.mark.parametrize("level", ["abc", "-1", "11", "0.6"])
def test_pipeline_refuses_a_noise_level_it_could_not_run_before_timing(tmp_path, level):
    """Checked against params.yaml's noise type (Gaussian: 0 to 10) and level (0.6), before the
    benchmark looks at git or DVC: this folder is neither."""
    (tmp_path / "params.yaml").write_text((PROJECT / "params.yaml").read_text())
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks.pipeline", "--noise-level", level],
        cwd=tmp_path, env={"PYTHONPATH": str(PROJECT)}, capture_output=True, text=True,
    )
    assert result.returncode == 2 and "--noise-level" in result.stderr and "Traceback" not in result.stderr
    if level != "abc":  # argparse's own message for a non-number
        assert "expected a level of gaussian noise from 0 to 10 other than params.yaml's 0.6" in result.stderr
