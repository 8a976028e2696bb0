import pytest

from dae import params as p

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
        (lambda d: p.layer_sizes(d, "encoder"), {"encoder": [256, 0]}, "expected a non-empty list of positive integers"),
        (lambda d: p.layer_sizes(d, "encoder"), {"encoder": []}, "expected a non-empty list of positive integers"),
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
