import hashlib
import subprocess
import sys
import zipfile

import keras
import numpy as np
import pytest

from dae.files import DataError
from dae.models import BUILDERS, KERNEL_SHAPES, REFERENCE_INITIALIZER, build_autoencoder, compile_autoencoder, denoise, is_activation, is_initializer, load_model, output_spread, save_model
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


def test_dense_hidden_activation_from_params_and_a_sigmoid_output():
    dense = [layer for layer in build_autoencoder([64, 32], activation="relu").layers if isinstance(layer, keras.layers.Dense)]
    assert [layer.activation for layer in dense] == [keras.activations.relu] * 3 + [keras.activations.sigmoid]


def test_conv_autoencoder_halves_the_image_per_layer_and_mirrors_back():
    model = build_autoencoder([8, 16], initializer="glorot_uniform", type="conv", activation="relu")
    assert model.input_shape == (None, 784) and model.output_shape == (None, 784)
    convs = [layer for layer in model.layers if isinstance(layer, (keras.layers.Conv2D, keras.layers.Conv2DTranspose))]
    assert [(layer.filters, layer.output.shape[1]) for layer in convs] == [(8, 14), (16, 7), (16, 14), (8, 28), (1, 28)]
    assert [layer.activation for layer in convs] == [keras.activations.relu] * 4 + [keras.activations.sigmoid]
    images = np.random.default_rng(0).random((3, 784), dtype=np.float32)
    out = model(images).numpy()
    assert out.shape == (3, 784) and 0 <= out.min() and out.max() <= 1


def test_unknown_types_and_too_deep_conv_encoders_are_refused():
    with pytest.raises(ValueError, match="unknown model type 'rnn'"):
        build_autoencoder([8], type="rnn")
    with pytest.raises(ValueError, match="a conv encoder has 1 to 2 layers"):
        build_autoencoder([8, 8, 8], type="conv")


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


def test_load_model_gives_back_the_saved_weights(tmp_path):
    model = build_autoencoder([16])
    save_model(model, tmp_path / "m.keras")
    loaded = load_model(tmp_path / "m.keras")
    for saved, restored in zip(model.get_weights(), loaded.get_weights(), strict=True):
        np.testing.assert_array_equal(saved, restored)


@pytest.mark.parametrize(
    "damage, reason",
    [("truncate", "not a zip archive"), ("garbage", "not a zip archive, as a .keras file is"), ("entry", "JSONDecodeError")],
)
def test_a_damaged_model_file_names_itself(tmp_path, damage, reason):
    path = tmp_path / "m.keras"
    save_model(build_autoencoder([16]), path)
    if damage == "entry":  # a sound zip archive whose model description is not JSON: Keras's own error
        with zipfile.ZipFile(path) as archive:
            entries = {name: archive.read(name) for name in archive.namelist()}
        with zipfile.ZipFile(path, "w") as archive:
            for name, data in entries.items():
                archive.writestr(name, b"{not json" if name == "config.json" else data)
    else:
        path.write_bytes(path.read_bytes()[:1000] if damage == "truncate" else b"not a model")
    with pytest.raises(DataError, match=f"{path}: cannot load as a Keras model: {reason}") as refused:
        load_model(path)
    assert "File not found" not in str(refused.value)  # Keras's reason for a file that is not a zip


def test_a_model_of_the_wrong_shape_is_refused(tmp_path):
    inputs = keras.Input(shape=(10,))
    save_model(keras.Model(inputs, keras.layers.Dense(784)(inputs)), tmp_path / "m.keras")
    with pytest.raises(DataError, match=r"m.keras: model maps \(None, 10\) to \(None, 784\), expected"):
        load_model(tmp_path / "m.keras")


@pytest.mark.parametrize(
    "name, valid",
    [(REFERENCE_INITIALIZER, True), ("glorot_uniform", True), ("he_normal", True), (None, False), ("", False), ("glorot", False), (3, False), (["zeros"], False), ("stft", False), ("Initializer", False)],
)
def test_is_initializer(name, valid):
    assert is_initializer(name) is valid
    assert is_initializer(name, "conv") is valid


def test_an_initializer_for_2d_kernels_only_is_refused_for_a_conv_model():
    assert is_initializer("identity", "dense") and not is_initializer("identity", "conv")
    # Each model type has a kernel to try an initializer on.
    assert set(KERNEL_SHAPES) == set(BUILDERS)


@pytest.mark.parametrize("name, valid", [("relu", True), ("sigmoid", True), ("gelu", True), ("relux", False), (None, False), (3, False)])
def test_is_activation(name, valid):
    assert is_activation(name) is valid


def test_denoise_runs_the_model_a_thousand_images_at_a_time():
    model = build_autoencoder([8, 4], type="conv", initializer="glorot_uniform")
    seen = []

    def counting(images, training):
        seen.append(len(images))
        return model(images, training=training)

    images = np.random.default_rng(0).random((2500, 784), dtype=np.float32)
    out = denoise(counting, images)
    assert seen == [1000, 1000, 500] and out.shape == (2500, 784)
    np.testing.assert_allclose(out, model(images).numpy(), atol=1e-6)


def test_a_model_whose_units_died_is_told_from_one_that_denoises():
    images = np.random.default_rng(0).random((300, 784), dtype=np.float32)
    keras.utils.set_random_seed(0)
    # Untrained, with the reference's U[-1, 1] weights: its output varies by about 0.23 a pixel here.
    live = build_autoencoder([16], activation="relu")
    dead = build_autoencoder([16], activation="relu")
    # Every hidden ReLU below 0 for every image in [0, 1]: the output is sigmoid of the last biases.
    kernel, bias = dead.layers[1].get_weights()
    dead.layers[1].set_weights([-np.abs(kernel), np.full_like(bias, -1.0)])
    assert output_spread(live, images) > 0.1  # the train stage warns below 0.01
    assert output_spread(dead, images) < 1e-5  # one image, but for float32 rounding


def test_weight_decay_shrinks_the_kernels_of_one_step_and_leaves_the_biases():
    """AdamW's step is Adam's from kernels first shrunk by learning_rate * weight_decay of themselves."""
    rng = np.random.default_rng(0)
    noisy, clean = rng.random((20, 784), dtype=np.float32), rng.random((20, 784), dtype=np.float32)
    trained = {}
    for weight_decay in (0.0, 0.5):
        keras.utils.set_random_seed(3)
        # The reference's U[-1, 1] biases: zero biases (glorot_uniform's) would come out the same decayed or not.
        model = compile_autoencoder(build_autoencoder([16], "reference_uniform", activation="relu"), 0.01, weight_decay)
        before = [w.copy() for w in model.get_weights()]
        model.train_on_batch(noisy, clean)
        trained[weight_decay] = model.get_weights()
    for start, plain, decayed, variable in zip(before, trained[0.0], trained[0.5], model.weights):
        if "bias" in variable.path:
            assert np.abs(start).min() > 0  # a decay would show
            np.testing.assert_array_equal(decayed, plain)
        else:
            np.testing.assert_allclose(plain - decayed, 0.01 * 0.5 * start, atol=1e-6)
            assert np.abs(plain - decayed).max() > 1e-4  # the decay is there to see
