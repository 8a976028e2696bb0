import hashlib
import subprocess
import sys

import keras
import numpy as np
import pytest

from dae.models import build_autoencoder, compile_autoencoder, save_model
from tests.conftest import PROJECT


@pytest.mark.parametrize(
    "encoder, units, parameters",
    [([256], [256, 784], 402_448), ([256, 128], [256, 128, 256, 784], 468_368)],
)
def test_shapes_and_parameter_counts(encoder, units, parameters):
    model = build_autoencoder(encoder)
    assert model.input_shape == (None, 784) and model.output_shape == (None, 784)
    dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    assert [layer.units for layer in dense] == units
    assert all(layer.activation is keras.activations.sigmoid for layer in dense)
    assert model.count_params() == parameters


def test_reference_initializer_draws_weights_and_biases_from_minus_one_to_one():
    keras.utils.set_random_seed(0)
    for weights in build_autoencoder([256]).get_weights():
        assert weights.min() >= -1 and weights.max() <= 1
        assert weights.min() < -0.9 and weights.max() > 0.9  # spread over the whole interval


def test_keras_initializer_by_name_gets_zero_biases():
    kernel, bias = build_autoencoder([256], initializer="glorot_uniform").get_weights()[:2]
    assert np.abs(kernel).max() < 0.1  # glorot limit sqrt(6 / (784 + 256)) = 0.076
    assert not bias.any()


SAVE = """
import sys, keras
from dae.models import build_autoencoder, compile_autoencoder, save_model
from tests.conftest import PROJECT
keras.utils.set_random_seed(0)
save_model(compile_autoencoder(build_autoencoder([8, 4]), 0.01), sys.argv[1])
"""


def test_saved_model_bytes_depend_only_on_the_model(tmp_path):
    # Separate processes: Keras would otherwise write different memory addresses and times.
    for name in ("a.keras", "b.keras"):
        subprocess.run([sys.executable, "-c", SAVE, str(tmp_path / name)], check=True, cwd=PROJECT)
    digests = {hashlib.sha256((tmp_path / name).read_bytes()).hexdigest() for name in ("a.keras", "b.keras")}
    assert len(digests) == 1


def test_saved_model_loads_back_the_same(tmp_path):
    keras.utils.set_random_seed(0)
    model = compile_autoencoder(build_autoencoder([8, 4]), 0.01)
    save_model(model, tmp_path / "a.keras")
    loaded = keras.models.load_model(tmp_path / "a.keras", compile=False)
    x = np.random.default_rng(0).random((4, 784), dtype=np.float32)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert [(layer.name, layer.output.shape) for layer in loaded.layers] == [
        (layer.name, layer.output.shape) for layer in model.layers
    ]
