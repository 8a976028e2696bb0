"""Reading `params.yaml` and checking each value before a stage does any work."""

import math
import numbers
import re
from pathlib import Path

from ruamel.yaml import YAML, YAMLError


class ParamError(ValueError):
    """A missing or invalid parameter; the message names the key, the value and what is allowed."""


def load_params(path="params.yaml"):
    """Parse `path` as DVC does (ruamel.yaml's safe loader, YAML 1.2), so that both read the same values:
    `1e-3` is a number and `yes` a string to both, where PyYAML's YAML 1.1 would differ."""
    path = Path(path)
    try:
        params = YAML(typ="safe").load(path.read_text())
    except (OSError, YAMLError) as error:
        raise ParamError(f"{path}: cannot read parameters: {error}") from error
    if not isinstance(params, dict):
        raise ParamError(f"{path}: expected a mapping of parameters, got {type(params).__name__}")
    return params


def get(params, key):
    """Look up a dotted key such as `train.batch_size`."""
    value = params
    for part in key.split("."):
        if not isinstance(value, dict) or part not in value:
            raise ParamError(f"params.yaml: missing parameter `{key}`")
        value = value[part]
    return value


def _invalid(key, value, expected):
    return ParamError(f"params.yaml: `{key}` = {value!r} is invalid: expected {expected}")


def _check_range(key, value, kind, low, high, low_open):
    if low is not None and (value <= low if low_open else value < low):
        raise _invalid(key, value, f"{kind} {'>' if low_open else '>='} {low}")
    if high is not None and value > high:
        raise _invalid(key, value, f"{kind} <= {high}")


def integer(params, key, low=None, high=None):
    value = get(params, key)
    # bool is an int in Python, but `epochs: true` is a mistake, not 1.
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise _invalid(key, value, "an integer")
    _check_range(key, value, "an integer", low, high, low_open=False)
    return int(value)


def _as_float(value):
    try:
        return float(value)
    except OverflowError:  # an integer beyond a float's range, which YAML allows
        return math.inf


def number(params, key, low=None, high=None, low_open=False):
    value = get(params, key)
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(_as_float(value)):
        raise _invalid(key, value, "a finite number")
    _check_range(key, value, "a number", low, high, low_open)
    return float(value)


def boolean(params, key):
    value = get(params, key)
    if not isinstance(value, bool):
        raise _invalid(key, value, "true or false")
    return value


def choice(params, key, allowed):
    value = get(params, key)
    if value not in allowed:
        raise _invalid(key, value, "one of " + ", ".join(map(repr, allowed)))
    return value


# Per layer, far beyond anything that trains on MNIST on one machine: a typo with extra zeros
# stops here with its key named, not in a failed allocation deep inside TensorFlow.
MAX_UNITS = 100_000


def layer_sizes(params, key):
    value = get(params, key)
    if (
        not isinstance(value, list)
        or not value
        or any(isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= MAX_UNITS for v in value)
    ):
        raise _invalid(key, value, f"a non-empty list of integers from 1 to {MAX_UNITS}, e.g. [256, 128]")
    return value


# The baselines' names in the metrics, beside the models' (dae/baselines.py).
BASELINE_NAMES = ("noisy_input", "clipped_input", "wiener")
# A model's name becomes a file name (models/<name>.keras) and part of a DVC stage name
# (train@<name>): letters, digits, `_` and `-` only, so it cannot leave its folder.
MODEL_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")


def model_names(params, key="models"):
    """The names of the models under `key`, in order, each a safe file name and no baseline's."""
    models = get(params, key)
    if not isinstance(models, dict) or not models:
        raise _invalid(key, models, "a mapping of model names to their settings, e.g. {my_model: {encoder: [256]}}")
    for name, settings in models.items():
        if not isinstance(name, str) or not MODEL_NAME.fullmatch(name):
            raise ParamError(
                f"params.yaml: model name {name!r} under `{key}` is invalid: expected 1 to 64 letters, "
                "digits, `_` or `-`, starting with a letter or digit"
            )
        if name in BASELINE_NAMES:
            raise ParamError(
                f"params.yaml: model name {name!r} under `{key}` is invalid: it is a baseline's name in the "
                f"metrics ({', '.join(BASELINE_NAMES)})"
            )
        twin = next((other for other in models if other != name and isinstance(other, str) and other.lower() == name.lower()), None)
        if twin is not None:
            raise ParamError(
                f"params.yaml: model names {name!r} and {twin!r} under `{key}` are invalid together: they differ "
                "only in case, and their files would clash where case does not count (macOS, Windows)"
            )
        if not isinstance(settings, dict):
            raise _invalid(f"{key}.{name}", settings, "a mapping of the model's settings, e.g. {encoder: [256]}")
    return list(models)


# Ten times the pixel range: already pure noise, and far from float16's overflow in stored noise.
MAX_NOISE_LEVEL = 10.0


# `noise_type`: the corruptions of dae/noise.py.
NOISE_TYPES = ("gaussian", "masking", "salt_and_pepper")


def max_noise_level(noise_type):
    """Gaussian noise's level is a standard deviation; the other types' a probability, at most 1."""
    return MAX_NOISE_LEVEL if noise_type == "gaussian" else 1.0


def noise_level(params, key="noise_level", noise_type="gaussian"):
    return number(params, key, low=0, high=max_noise_level(noise_type))


def noise(params):
    """`noise_type` and `noise_level`, the level checked against what the type allows, and
    `noise.clip`, which only Gaussian noise can need (the others stay in [0, 1])."""
    noise_type = choice(params, "noise_type", NOISE_TYPES)
    try:
        level = noise_level(params, "noise_level", noise_type)
    except ParamError as error:
        raise ParamError(f"{error} for `noise_type` {noise_type!r}") from None
    clip = boolean(params, "noise.clip")
    if clip and noise_type != "gaussian":
        raise _invalid("noise.clip", clip, f"false with `noise_type` {noise_type!r}, whose pixels stay in [0, 1]")
    return noise_type, level, clip


# NumPy's and Keras's seeds are unsigned 32-bit integers.
MAX_SEED = 2**32 - 1


def seed(params, key="seed"):
    return integer(params, key, low=0, high=MAX_SEED)


def noise_levels(params, key, noise_type="gaussian"):
    """A non-empty list of distinct noise levels, each as `noise_level` allows for `noise_type`, in increasing order."""
    value = get(params, key)
    high = max_noise_level(noise_type)
    if (
        not isinstance(value, list)
        or not 1 <= len(value) <= 100
        or any(isinstance(v, bool) or not isinstance(v, numbers.Real) or not 0 <= _as_float(v) <= high for v in value)
        or any(b <= a for a, b in zip(value, value[1:]))
    ):
        raise _invalid(key, value, f"1 to 100 increasing numbers from 0 to {high:g} (for {noise_type} noise), e.g. [0.0, 0.5, 1.0]")
    return [float(v) for v in value]


def model_key(params, name, setting):
    """The key a model's `setting` is read from: its own under `models.<name>`, else the shared
    `train` section's."""
    return f"models.{name}.{setting}" if setting in get(params, f"models.{name}") else f"train.{setting}"


def stored_noise(params):
    """True for `train.noise: stored` (train on the noise stage's stored noisy copy), False for
    `fresh` (noise drawn afresh for every batch)."""
    return choice(params, "train.noise", ["fresh", "stored"]) == "stored"


# Moves of more than a few pixels crop most digits (4 pixels into a corner crops ink of 62% of
# the training digits): larger ones would train on a different picture of MNIST.
MAX_SHIFT = 4


def shift(params, name):
    """Model `name`'s random shift of the training images, in pixels; none with stored noise."""
    key = model_key(params, name, "shift")
    value = integer(params, key, low=0, high=MAX_SHIFT)
    if value and stored_noise(params):
        raise ParamError(
            f"params.yaml: `{key}` = {value} is invalid with `train.noise: stored`: the stored noisy "
            "images cannot be shifted; expected 0, or `train.noise: fresh`"
        )
    return value


def evaluate_settings(params, noise_type):
    """The evaluate stage's own settings: the noise levels of the robustness curves (of
    `noise_type`), how many test images they use, and the figures' resolution in dpi."""
    levels = noise_levels(params, "evaluate.noise_levels", noise_type)
    return levels, integer(params, "evaluate.robustness_images", low=1), integer(params, "evaluate.dpi", low=20, high=600)
