import io
import math
import subprocess
import sys
from pathlib import Path

import pytest
from dvc.utils.serialize import parse_yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from dae import params as p
from tests.conftest import PROJECT

PARAMS = {
    "seed": 0,
    "noise_level": 0.6,
    "train": {"epochs": 20, "flag": True, "learning_rate": 0.01, "noise": "fresh"},
    "models": {"deep": {"encoder": [256, 128]}},
}


def test_valid_values_pass():
    assert p.integer(PARAMS, "train.epochs", low=1) == 20
    assert p.number(PARAMS, "noise_level", low=0) == 0.6
    assert p.number(PARAMS, "train.learning_rate", low=0, low_open=True) == 0.01
    assert p.boolean(PARAMS, "train.flag") is True
    assert p.choice(PARAMS, "train.noise", ["fresh", "stored"]) == "fresh"
    assert p.layer_sizes(PARAMS, "models.deep.encoder") == [256, 128]


@pytest.mark.parametrize(
    "check, params, message",
    [
        (lambda d: p.number(d, "noise_level", low=0), {"noise_level": -0.1}, "`noise_level` = -0.1 is invalid: expected a number >= 0"),
        (lambda d: p.number(d, "noise_level", low=0), {"noise_level": "0.4"}, "`noise_level` = '0.4' is invalid: expected a finite number"),
        (lambda d: p.number(d, "noise_level", low=0), {"noise_level": float("inf")}, "`noise_level` = inf is invalid: expected a finite number"),
        (lambda d: p.number(d, "lr", low=0), {"lr": float("nan")}, "`lr` = nan is invalid: expected a finite number"),
        (lambda d: p.seed(d), {"seed": 2**32}, "`seed` = 4294967296 is invalid: expected an integer <= 4294967295"),
        (lambda d: p.seed(d), {"seed": -1}, "`seed` = -1 is invalid: expected an integer >= 0"),
        (lambda d: p.number(d, "lr", low=0, low_open=True), {"lr": 0}, "`lr` = 0 is invalid: expected a number > 0"),
        (lambda d: p.integer(d, "a.epochs", low=1), {"a": {"epochs": 0}}, "`a.epochs` = 0 is invalid: expected an integer >= 1"),
        (lambda d: p.integer(d, "a.epochs", low=1), {"a": {"epochs": 2.5}}, "`a.epochs` = 2.5 is invalid: expected an integer"),
        (lambda d: p.integer(d, "a.epochs", low=1), {"a": {"epochs": True}}, "`a.epochs` = True is invalid: expected an integer"),
        (lambda d: p.integer(d, "dpi", high=600), {"dpi": 601}, "`dpi` = 601 is invalid: expected an integer <= 600"),
        (lambda d: p.boolean(d, "clip"), {"clip": "yes"}, "`clip` = 'yes' is invalid: expected true or false"),
        (lambda d: p.choice(d, "noise", ["fresh", "stored"]), {"noise": "new"}, "expected one of 'fresh', 'stored'"),
        (lambda d: p.layer_sizes(d, "encoder"), {"encoder": [256, 0]}, "expected a non-empty list of integers from 1 to 100000"),
        (lambda d: p.layer_sizes(d, "encoder"), {"encoder": []}, "expected a non-empty list of integers from 1 to 100000"),
        (lambda d: p.layer_sizes(d, "encoder"), {"encoder": [10**6]}, "expected a non-empty list of integers from 1 to 100000"),
        (lambda d: p.noise_level(d), {"noise_level": 11}, "`noise_level` = 11 is invalid: expected a number <= 10.0"),
        (lambda d: p.noise_level(d), {"noise_level": -1}, "`noise_level` = -1 is invalid: expected a number >= 0"),
        (p.noise, {"noise_type": "speckle", "noise_level": 0.5, "noise": {"clip": False}}, "`noise_type` = 'speckle' is invalid: expected one of 'gaussian', 'masking', 'salt_and_pepper'"),
        (p.noise, {"noise_type": "masking", "noise_level": 1.5, "noise": {"clip": False}}, "`noise_level` = 1.5 is invalid: expected a number <= 1.0"),
        (p.noise, {"noise_type": "salt_and_pepper", "noise_level": 0.2, "noise": {"clip": True}}, "`noise.clip` = True is invalid: expected false with `noise_type` 'salt_and_pepper'"),
        (lambda d: p.noise_levels(d, "levels", "masking"), {"levels": [0.5, 2.0]}, "expected 1 to 100 increasing numbers from 0 to 1 (for masking noise)"),
        (lambda d: p.model_names(d), {"models": {}}, "`models` = {} is invalid: expected a mapping of model names"),
        (lambda d: p.model_names(d), {"models": None}, "`models` = None is invalid: expected a mapping of model names"),
        (lambda d: p.model_names(d), {"models": {"../up": {}}}, "model name '../up' under `models` is invalid: expected 1 to 64 letters"),
        (lambda d: p.model_names(d), {"models": {"a b": {}}}, "model name 'a b' under `models` is invalid"),
        (lambda d: p.model_names(d), {"models": {"a/b": {}}}, "model name 'a/b' under `models` is invalid"),
        (lambda d: p.model_names(d), {"models": {1: {}}}, "model name 1 under `models` is invalid"),
        (lambda d: p.model_names(d), {"models": {"noisy_input": {}}}, "model name 'noisy_input' under `models` is invalid: it is a baseline's name"),
        (lambda d: p.number(d, "lr"), {"lr": 10**400}, f"`lr` = {10**400} is invalid: expected a finite number"),
        (lambda d: p.model_names(d), {"models": {"deep": {}, "Deep": {}}}, "model names 'deep' and 'Deep' under `models` are invalid together: they differ only in case"),
        (lambda d: p.shift(d, "m"), {"models": {"m": {"shift": 2}}, "train": {"noise": "stored"}}, "`models.m.shift` = 2 is invalid with `train.noise: stored`"),
        (lambda d: p.shift(d, "m"), {"models": {"m": {}}, "train": {"shift": 5}}, "`train.shift` = 5 is invalid: expected an integer <= 4"),
        (
            lambda d: p.evaluate_settings(d, "gaussian"),
            {"evaluate": {"noise_levels": [0.0, 0.5], "robustness_images": 10, "dpi": 5}},
            "`evaluate.dpi` = 5 is invalid: expected an integer >= 20",
        ),
        (lambda d: p.model_names(d), {"models": {"deep": [256]}}, "`models.deep` = [256] is invalid: expected a mapping of the model's settings"),
        (lambda d: p.integer(d, "train.epochs"), {"train": {}}, "missing parameter `train.epochs`"),
    ],
)
def test_invalid_values_name_the_key_value_and_what_is_allowed(check, params, message):
    with pytest.raises(p.ParamError) as error:
        check(params)
    assert message in str(error.value)


def test_load_params_refuses_a_malformed_file(tmp_path):
    bad = tmp_path / "params.yaml"
    bad.write_text("seed: [1, 2\n")
    with pytest.raises(p.ParamError, match="params.yaml: cannot read parameters"):
        p.load_params(bad)
    bad.write_text("- just a list\n")
    with pytest.raises(p.ParamError, match="expected a mapping of parameters, got list"):
        p.load_params(bad)


def test_model_names_keep_their_order():
    assert p.model_names({"models": {"shallow": {}, "deep-2": {}, "x_1": {}}}) == ["shallow", "deep-2", "x_1"]


def test_load_params_reads_yaml_as_dvc_does(tmp_path):
    """YAML 1.2, as DVC: PyYAML (YAML 1.1) would read 1e-3 as a string and yes as true."""
    path = tmp_path / "params.yaml"
    text = "learning_rate: 1e-3\nclip: yes\nlevel: .inf\n"
    path.write_text(text)
    params = p.load_params(path)
    assert params == {"learning_rate": 0.001, "clip": "yes", "level": math.inf}
    assert params == parse_yaml(text, str(path))
    assert p.number(params, "learning_rate", low=0, low_open=True) == 0.001
    with pytest.raises(p.ParamError, match="`clip` = 'yes' is invalid: expected true or false"):
        p.boolean(params, "clip")


def test_the_project_params_pass_every_check():
    """The project's own params.yaml, through the checks of the library and of the first training
    (every model's settings, `train`'s, `prepare.train_size` against the batch sizes, the stored
    noise against shifts, `evaluate`'s)."""
    params = p.load_params(PROJECT / "params.yaml")
    names = p.model_names(params)
    noise_type, level, _ = p.noise(params)
    assert noise_type in p.NOISE_TYPES and 0 <= level <= p.max_noise_level(noise_type) and p.seed(params) >= 0
    for split in ("validation", "test"):  # the training split's size the first training checks
        p.integer(params, f"prepare.{split}_size", low=1)
    script = "import sys; from stages.train import read_params; read_params(sys.argv[1])"
    checked = subprocess.run([sys.executable, "-c", script, names[0]], cwd=PROJECT, capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr


# Property-based: whatever value a key holds, a check either returns it unchanged and within its
# bounds, or raises a ParamError that names the key and shows the value.
ANY_VALUE = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=6,
)


def outcome(check, value):
    try:
        return check({"key": value}), None
    except p.ParamError as error:
        return None, str(error)


@settings(max_examples=300, deadline=None)
@given(value=ANY_VALUE | st.integers(min_value=-5, max_value=20))
def test_integer_accepts_exactly_the_integers_in_range(value):
    result, error = outcome(lambda d: p.integer(d, "key", low=1, high=10), value)
    valid = type(value) is int and 1 <= value <= 10
    if valid:
        assert result == value and error is None
    else:
        assert error.startswith(f"params.yaml: `key` = {value!r} is invalid: expected an integer")


@settings(max_examples=300, deadline=None)
@given(value=ANY_VALUE | st.floats(min_value=-1, max_value=12))
def test_noise_level_accepts_exactly_finite_numbers_from_0_to_10(value):
    result, error = outcome(lambda d: p.noise_level(d, "key"), value)
    valid = type(value) in (int, float) and math.isfinite(value) and 0 <= value <= p.MAX_NOISE_LEVEL
    if valid:
        assert result == value and error is None
    else:
        assert error.startswith(f"params.yaml: `key` = {value!r} is invalid: expected a")


@settings(max_examples=300, deadline=None)
@given(name=st.text(max_size=70) | st.sampled_from(["..", ".", "a/../b", "CON", "x" * 65, "noisy_input", "-a", "a.b"]))
def test_a_model_name_is_accepted_only_as_a_plain_file_name_inside_its_folder(name):
    result, error = outcome(lambda d: p.model_names(d, "key"), {name: {}})
    if error is None:
        assert result == [name]
        # It names one file directly inside models/, and a DVC stage `train@<name>`.
        path = Path("models") / f"{name}.keras"
        assert path.parent == Path("models") and path.name == f"{name}.keras"
        assert name not in p.BASELINE_NAMES and not name.startswith(("-", ".", "_"))
        assert all(c.isascii() and (c.isalnum() or c in "_-") for c in name)
    else:
        assert f"model name {name!r} under `key` is invalid" in error


FINITE_VALUE = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=6,
)


@settings(max_examples=100, deadline=None)
@given(params=st.dictionaries(st.text(min_size=1, max_size=6), FINITE_VALUE, min_size=1, max_size=4))
def test_params_round_trip_through_dvcs_yaml(params, tmp_path_factory):
    """Whatever YAML DVC reads, the stages read to the same values."""
    stream = io.StringIO()
    YAML().dump(params, stream)
    text = stream.getvalue()
    path = tmp_path_factory.mktemp("params") / "params.yaml"
    path.write_text(text)
    assert p.load_params(path) == parse_yaml(text, str(path))


@pytest.mark.parametrize(
    "value, message",
    [
        ([0.0, 0.5, 1.0], None),
        ([0, 2], None),
        ([], "1 to 100 increasing numbers"),
        ([0.5, 0.5], "1 to 100 increasing numbers"),
        ([1.0, 0.5], "1 to 100 increasing numbers"),
        ([0.1, -0.1], "1 to 100 increasing numbers"),
        ([0.1, 11], "1 to 100 increasing numbers"),
        ([0.1, True], "1 to 100 increasing numbers"),
        ([0.1, float("nan")], "1 to 100 increasing numbers"),
        (0.5, "1 to 100 increasing numbers"),
        ("0.1, 0.2", "1 to 100 increasing numbers"),
    ],
)
def test_noise_levels_are_an_increasing_list_of_valid_levels(value, message):
    params = {"evaluate": {"noise_levels": value}}
    if message is None:
        assert p.noise_levels(params, "evaluate.noise_levels") == [float(v) for v in value]
    else:
        with pytest.raises(p.ParamError, match=f"`evaluate.noise_levels` = .* is invalid: expected {message}"):
            p.noise_levels(params, "evaluate.noise_levels")
