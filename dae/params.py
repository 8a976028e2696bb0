"""Reading `params.yaml` and checking each value before a stage does any work."""

import math
import numbers
from pathlib import Path

import yaml


class ParamError(ValueError):
    """A missing or invalid parameter; the message names the key, the value and what is allowed."""


def load_params(path="params.yaml"):
    path = Path(path)
    try:
        params = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as error:
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


def number(params, key, low=None, high=None, low_open=False):
    value = get(params, key)
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
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


def layer_sizes(params, key):
    value = get(params, key)
    if (
        not isinstance(value, list)
        or not value
        or any(isinstance(v, bool) or not isinstance(v, int) or v < 1 for v in value)
    ):
        raise _invalid(key, value, "a non-empty list of positive integers, e.g. [256, 128]")
    return value


# NumPy's and Keras's seeds are unsigned 32-bit integers.
MAX_SEED = 2**32 - 1


def seed(params, key="seed"):
    return integer(params, key, low=0, high=MAX_SEED)
