"""The autoencoders: dense (the reference's) or convolutional, the decoder mirroring the encoder
back to 784 pixels in [0, 1]."""

import io
import json
import zipfile
from pathlib import Path

import keras
import numpy as np

from dae.files import DataError

SIDE = 28
INPUT_SIZE = SIDE * SIDE
# Weights and biases drawn from U[-1, 1], as the reference's tf.random_uniform did.
REFERENCE_INITIALIZER = "reference_uniform"


def _initializers(name):
    if name == REFERENCE_INITIALIZER:
        return keras.initializers.RandomUniform(-1.0, 1.0), keras.initializers.RandomUniform(-1.0, 1.0)
    # Any Keras initializer by name, with Keras's usual zero biases.
    return keras.initializers.get(name), keras.initializers.Zeros()


def is_initializer(name, type="dense"):
    """True for REFERENCE_INITIALIZER and for the name of a Keras initializer that can draw the
    kernels of a model of `type` (a key of BUILDERS)."""
    if name == REFERENCE_INITIALIZER:
        return True
    if not isinstance(name, str):  # keras.initializers.get(None) returns None, not an error
        return False
    shape = KERNEL_SHAPES[type]
    try:
        # Drawn once for a small kernel of the type's shape: some registered names (`stft`, the base
        # class `Initializer`) only fail when called, and some only for some shapes (`identity`
        # draws 2-D kernels only), which would otherwise happen mid-stage.
        keras.initializers.get(name)(shape)
    except Exception:
        return False
    return True


# Each conv encoder layer halves the image (28, 14, 7): a third would not mirror back to 28.
MAX_CONV_LAYERS = 2


def is_activation(name):
    """True for the name of a Keras activation, e.g. `sigmoid` or `relu`."""
    if not isinstance(name, str):
        return False
    try:
        keras.activations.get(name)
    except Exception:
        return False
    return True


def build_dense(inputs, encoder, make_layer):
    """A dense autoencoder's layers from `inputs` to its output: `encoder` holds the units of the
    dense layers, e.g. [256, 128] gives 784-256-128-256-784."""
    x = inputs
    for units in [*encoder, *reversed(encoder[:-1])]:
        x = make_layer(keras.layers.Dense, units)(x)
    return make_layer(keras.layers.Dense, INPUT_SIZE, output=True)(x)


def build_conv(inputs, encoder, make_layer):
    """A convolutional autoencoder's layers from `inputs` to its output: `encoder` holds the
    filters of 3x3 convolutions of stride 2, each halving the image; the decoder mirrors them with
    transposed convolutions of stride 2, then one 3x3 convolution makes the image, as in the
    keras.io example "Convolutional autoencoder for image denoising" but with strided
    convolutions in place of its max pooling (a quarter of the first layer's arithmetic; and
    XLA, were a conv model compiled, has no deterministic max-pooling gradient)."""
    if not 1 <= len(encoder) <= MAX_CONV_LAYERS:
        raise ValueError(f"a conv encoder has 1 to {MAX_CONV_LAYERS} layers, got {encoder}")
    x = keras.layers.Reshape((SIDE, SIDE, 1))(inputs)
    for filters in encoder:
        x = make_layer(keras.layers.Conv2D, filters, kernel_size=3, strides=2, padding="same")(x)
    for filters in reversed(encoder):
        x = make_layer(keras.layers.Conv2DTranspose, filters, kernel_size=3, strides=2, padding="same")(x)
    x = make_layer(keras.layers.Conv2D, 1, output=True, kernel_size=3, padding="same")(x)
    return keras.layers.Reshape((INPUT_SIZE,))(x)


# The model types of params.yaml `models.<name>.type`, each with the builder of its layers, and a
# small kernel of the shape its layers' kernels have (for `is_initializer`).
BUILDERS = {"dense": build_dense, "conv": build_conv}
KERNEL_SHAPES = {"dense": (4, 3), "conv": (3, 3, 2, 4)}
MODEL_TYPES = tuple(BUILDERS)


def build_autoencoder(encoder, initializer=REFERENCE_INITIALIZER, name="autoencoder", type="dense", activation="sigmoid"):
    """An autoencoder of `type` (a key of BUILDERS) from flat noisy images to flat images, its
    output layer sigmoid (pixels in [0, 1]), its hidden layers' activation `activation` (the
    reference's sigmoid, or any Keras name, e.g. `relu`), its weights drawn by `initializer`."""
    if type not in BUILDERS:
        raise ValueError(f"unknown model type {type!r}: expected one of {', '.join(MODEL_TYPES)}")

    def make_layer(kind, size, output=False, **options):
        kernel_init, bias_init = _initializers(initializer)
        act = "sigmoid" if output else activation
        return kind(size, activation=act, kernel_initializer=kernel_init, bias_initializer=bias_init, **options)

    inputs = keras.Input(shape=(INPUT_SIZE,), name="noisy_image")
    return keras.Model(inputs, BUILDERS[type](inputs, encoder, make_layer), name=name)


def denoise(model, images, batch_size=1000):
    """`model`'s outputs for `images`, a thousand at a time: a conv model's activations for the
    whole test set at once would take gigabytes. (Without `predict`, which traces a function first.)"""
    return np.concatenate([model(images[i : i + batch_size], training=False).numpy() for i in range(0, len(images), batch_size)])


def output_spread(model, images):
    """How much `model`'s output depends on its input: the standard deviation of each output pixel
    over `images`, averaged over the pixels (about 0.19 for the clean MNIST digits themselves). A
    model whose hidden units all died (ReLUs stuck at 0) gives one fixed image whatever it is
    shown: its spread is about 0."""
    return float(denoise(model, images).std(axis=0).mean())


def compile_autoencoder(model, learning_rate, weight_decay=0.0):
    """Adam on the mean squared error. With `weight_decay`, decoupled weight decay (AdamW,
    Loshchilov and Hutter 2019): each step first shrinks every kernel by `learning_rate *
    weight_decay` of itself; biases are left alone, as is usual."""
    # epsilon=1e-8 is TF1's AdamOptimizer default, which the reference used (Keras's is 1e-7).
    optimizer = keras.optimizers.Adam(learning_rate, epsilon=1e-8, weight_decay=weight_decay or None)
    if weight_decay:
        optimizer.exclude_from_weight_decay(var_names=["bias"])
    model.compile(optimizer=optimizer, loss="mean_squared_error")
    return model


def _stable_ids(config, ids=None):
    """Number each `shared_object_id` by first appearance instead of by memory address."""
    ids = {} if ids is None else ids
    if isinstance(config, dict):
        return {
            key: ids.setdefault(value, len(ids) + 1) if key == "shared_object_id" else _stable_ids(value, ids)
            for key, value in config.items()
        }
    if isinstance(config, list):
        return [_stable_ids(item, ids) for item in config]
    return config


def load_model(path):
    """Load a `.keras` archive in Keras's safe mode (no code from the file runs) for inference,
    checked to map flat images to flat images; a damaged file raises DataError naming it."""
    if Path(path).suffix == ".keras" and Path(path).is_file() and not zipfile.is_zipfile(path):  # Keras would say "File not found"
        raise DataError(f"{path}: cannot load as a Keras model: not a zip archive, as a .keras file is (damaged, or another kind of file)")
    try:
        model = keras.models.load_model(path, compile=False, safe_mode=True)
    except Exception as error:  # Keras raises many kinds: zipfile, h5py, JSON, ValueError...
        raise DataError(f"{path}: cannot load as a Keras model: {type(error).__name__}: {error}") from error
    if tuple(model.input_shape) != (None, INPUT_SIZE) or tuple(model.output_shape) != (None, INPUT_SIZE):
        raise DataError(f"{path}: model maps {model.input_shape} to {model.output_shape}, expected (None, {INPUT_SIZE}) to (None, {INPUT_SIZE})")
    return model


def save_model(model, path):
    """Save a `.keras` archive whose bytes depend only on the model.

    Keras stamps the archive with the time of saving (the zip entries and `date_saved`) and
    names shared objects by their memory address (`shared_object_id` in `config.json`), which
    would change the file, and so `dvc.lock`, on every identical run. This rewrites the archive
    with a fixed time, without `date_saved`, and with the shared objects numbered in order.
    """
    buffer = io.BytesIO()
    model.save(path)
    with zipfile.ZipFile(path) as original, zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as stable:
        for item in sorted(original.infolist(), key=lambda i: i.filename):
            data = original.read(item)
            if item.filename == "metadata.json":
                metadata = json.loads(data)
                metadata.pop("date_saved", None)
                data = json.dumps(metadata, sort_keys=True).encode()
            elif item.filename == "config.json":
                data = json.dumps(_stable_ids(json.loads(data))).encode()
            stable.writestr(zipfile.ZipInfo(item.filename, date_time=(1980, 1, 1, 0, 0, 0)), data, zipfile.ZIP_DEFLATED)
    with open(path, "wb") as f:
        f.write(buffer.getvalue())
