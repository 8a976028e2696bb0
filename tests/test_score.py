"""The score command: trained models on freshly drawn test noise."""

import shutil
import subprocess
import sys

import keras
import numpy as np

from dae import baselines, noise
from dae.files import save_arrays
from dae.metrics import cost
from dae.models import build_autoencoder, save_model
from tests.conftest import PROJECT, default_logging
from tests.e2e import model_names
from tests.test_training import digit_bytes


def score(folder, *args):
    env = default_logging(PYTHONPATH=str(PROJECT))
    return subprocess.run([sys.executable, "-m", "tools.score", *args], cwd=folder, env=env, capture_output=True, text=True)


def test_scores_each_model_on_noise_of_another_seed(tmp_path):
    shutil.copy(PROJECT / "params.yaml", tmp_path)
    names = model_names(tmp_path)
    chosen = names[-1]
    images = digit_bytes(50)
    (tmp_path / "data/prepared").mkdir(parents=True)
    save_arrays(tmp_path / "data/prepared/test.npz", images=images, labels=np.zeros(50, np.uint8))
    (tmp_path / "data/wiener").mkdir()
    fit = baselines.fit_wiener(noise.to_unit(digit_bytes(200)), 0.6)
    save_arrays(tmp_path / "data/wiener/fit.npz", **fit)
    (tmp_path / "models").mkdir()
    keras.utils.set_random_seed(0)
    for name in names:
        save_model(build_autoencoder([8]), tmp_path / "models" / f"{name}.keras")
    result = score(tmp_path, "--model", chosen, "--seed", "5")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # none of TensorFlow's start-up notices (dae.process.startup_notices_hidden)
    lines = result.stdout.splitlines()
    assert lines[0] == "score: 50 test images, gaussian noise 0.6 drawn with seed 5"
    clean = noise.to_unit(images)
    noisy = noise.add_noise(clean, 0.6, noise.rng(5, "test"))
    assert lines[1:4] == [
        f"score noisy_input: cost {cost(noisy, clean):.6f}",
        f"score clipped_input: cost {cost(np.clip(noisy, 0, 1), clean):.6f}",
        f"score wiener: cost {cost(baselines.denoise_linear(noisy, fit), clean):.6f}",
    ]
    model = keras.models.load_model(tmp_path / "models" / f"{chosen}.keras", compile=False)
    assert lines[4:] == [f"score {chosen}: cost {cost(model(noisy).numpy(), clean):.6f}"]
    # By default, the params' seed plus one: never the test noise that evaluate scored.
    assert score(tmp_path).stdout.splitlines()[0].endswith("drawn with seed 1")
    (tmp_path / "data/wiener/fit.npz").rename(tmp_path / "fit.npz")
    unfitted = score(tmp_path)
    assert unfitted.returncode == 1 and unfitted.stderr.strip() == (
        "score: no Wiener filter at data/wiener/fit.npz: run `dvc repro wiener` to fit it, or `dvc pull` to fetch it from a DVC remote"
    )
    (tmp_path / "fit.npz").rename(tmp_path / "data/wiener/fit.npz")
    shutil.rmtree(tmp_path / "models")
    untrained = score(tmp_path)
    assert untrained.returncode == 1 and untrained.stderr.strip() == (
        f"score: no trained model at {', '.join(f'models/{name}.keras' for name in names)}: run `dvc repro` to train it, "
        "or `dvc pull` to fetch it from a DVC remote"
    )
    refused = score(tmp_path, "--model", "wide")
    assert refused.returncode == 2 and f"--model wide: not in params.yaml `models` (found: {', '.join(names)})" in refused.stderr
