"""The benchmarks' own checks of what they are asked to time (the timings themselves are not tested)."""

import subprocess
import sys

import pytest

from tests.conftest import PROJECT

PARAMS = "models:\n  small:\n    encoder: [8]\n  conv:\n    type: conv\n    encoder: [4]\n"


@pytest.mark.parametrize("models", ["conv", "smal"])
def test_train_speed_refuses_a_model_it_cannot_time_before_anything_else(tmp_path, models):
    """The reference's loop trains dense layers: a conv model or a mistyped name is refused by
    name, before the missing training data is even looked for."""
    (tmp_path / "params.yaml").write_text(PARAMS)
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks.train_speed", "--models", models],
        cwd=tmp_path, env={"PYTHONPATH": str(PROJECT)}, capture_output=True, text=True,
    )
    assert result.returncode == 2
    assert f"--models {models}: not a dense model of params.yaml `models` (its dense models: small)" in result.stderr
