import json
import subprocess
import sys

import pytest

from dae.spread import clashes, describe, group_by_settings, runs_from_exp_show, summarise
from tests.conftest import PROJECT


def state(rev, seed, noise_level, shallow_cost, train_cost, name=None, error=None, experiments=None):
    """One entry of `dvc exp show --json`, as DVC 3 writes it."""
    return {
        "rev": rev, "name": name, "error": error, "experiments": experiments,
        "data": {
            "rev": rev,
            "params": {"params.yaml": {"data": {"seed": seed, "noise_level": noise_level, "train": {"epochs": 20}}}},
            "metrics": {
                "reports/test_metrics.json": {"data": {"shallow": {"cost": shallow_cost}}},
                "dvclive/shallow/metrics.json": {"data": {"step": 20, "train": {"cost": train_cost}}},
                "dvclive/deep/metrics.json": {"data": {"step": 20, "train": {"cost": train_cost + 1}}},
            },
        },
    }


def experiments(*states, executor=None):
    return [{"revs": [s], "executor": executor, "name": s["name"]} for s in states]


EXP_SHOW = [
    state("workspace", 0, 0.6, 0.030, 0.5),  # the same run as the baseline: not counted twice
    state(
        "abc1234", 0, 0.6, 0.030, 0.5, name="main",
        experiments=experiments(
            state("e1", 1, 0.6, 0.032, 0.7, name="seed-1"),
            state("e2", 2, 0.6, 0.034, 0.9, name="seed-2"),
            state("e3", 0, 0.4, 0.020, 0.3, name="lower-noise"),
            state("e4", 3, 0.6, 0.5, 0.5, name="failed", error={"msg": "failed"}),
        ) + experiments(
            # Running in the queue: its files are still the baseline's, so it must not count.
            state("e5", 4, 0.6, 0.030, 0.5, name="running"), executor={"state": "running", "name": "dvc-task"},
        ) + experiments(
            state("e6", 5, 0.6, 0.036, 1.1, name="queued-done"), executor={"state": "success", "name": "dvc-task"},
        ),
    ),
]


def test_groups_differ_only_in_seed_and_count_each_seed_once():
    repeated = state("e7", 1, 0.6, 0.032, 0.7, name="seed-1-again")  # from the run cache: the same run
    runs = runs_from_exp_show(EXP_SHOW) + runs_from_exp_show([repeated])
    assert sorted(r["params"]["seed"] for r in group_by_settings(runs)[0][1]) == [0, 1, 2, 5]
    assert clashes(runs) == []  # the repeat gave the same metrics: no clash to tell
    groups = group_by_settings(runs_from_exp_show(EXP_SHOW))
    assert [(settings["noise_level"], sorted(r["params"]["seed"] for r in runs)) for settings, runs in groups] == [
        (0.6, [0, 1, 2, 5]), (0.4, [0]),
    ]



def test_a_seed_run_again_elsewhere_counts_once_from_the_experiment_and_is_named(tmp_path):
    """The committed seed 0 came from another machine; the same params run here as an experiment
    gave other results: the experiment's counts, and the clash is told, not hidden."""
    here = state("e8", 0, 0.6, 0.031, 0.6, name="seed-0-here")
    shown = [{**EXP_SHOW[1], "experiments": EXP_SHOW[1]["experiments"] + experiments(here)}]
    runs = runs_from_exp_show(shown)
    (settings, counted), _ = group_by_settings(runs)
    assert {run["params"]["seed"]: run["name"] for run in counted}[0] == "seed-0-here"
    assert [(s["noise_level"], seed, counted["name"], [run["name"] for run in others]) for s, seed, counted, others in clashes(runs)] == [
        (0.6, 0, "seed-0-here", ["main"]),
    ]
    saved = tmp_path / "exp_show.json"
    saved.write_text(json.dumps(shown))
    result = subprocess.run(
        [sys.executable, "-m", "tools.spread", "--from", str(saved), "--metrics", "shallow.cost"],
        cwd=PROJECT, capture_output=True, text=True, check=True,
    )
    assert result.stderr.splitlines() == [
        "spread: seed 0 (noise_level=0.6): seed-0-here and main ran the same params but differ "
        "(dvclive/deep/metrics.json:train.cost 1.600000 against 1.500000): another CPU or other code "
        "(README, What reproduces where); counted once, from seed-0-here"
    ]
    # 0.031, 0.032, 0.034, 0.036: the experiment's 0.031 in place of the commit's 0.030
    assert "noise_level=0.6: 4 seeds [0, 1, 2, 5]" in result.stdout and "0.033250" in result.stdout


def test_a_clash_names_only_the_runs_that_differ_from_the_one_counted():
    """Seed 0 three times: the commit, an experiment that repeated it (the run cache), and one
    from elsewhere. The repeat counts (the first experiment listed); only the other differs."""
    repeat = state("e8", 0, 0.6, 0.030, 0.5, name="seed-0-repeat")
    elsewhere = state("e9", 0, 0.6, 0.031, 0.6, name="seed-0-elsewhere")
    runs = runs_from_exp_show([{**EXP_SHOW[1], "experiments": experiments(repeat, elsewhere)}])
    [(_, seed, counted, others)] = clashes(runs)
    assert (seed, counted["name"], [run["name"] for run in others]) == (0, "seed-0-repeat", ["seed-0-elsewhere"])

def test_mean_sd_min_max_against_hand_computed_values():
    (_, runs), (_, single) = group_by_settings(runs_from_exp_show(EXP_SHOW))
    summary = summarise([run for run in runs if run["params"]["seed"] != 5])
    # 0.030, 0.032, 0.034: mean 0.032, sample sd sqrt((0.002² + 0 + 0.002²) / 2) = 0.002
    assert summary["shallow.cost"]["mean"] == pytest.approx(0.032)
    assert summary["shallow.cost"]["sd"] == pytest.approx(0.002)
    assert (summary["shallow.cost"]["min"], summary["shallow.cost"]["max"]) == (0.030, 0.034)
    # A key shared by several files is named with its file.
    assert summary["dvclive/shallow/metrics.json:train.cost"]["mean"] == pytest.approx(0.7)
    assert summary["dvclive/deep/metrics.json:train.cost"]["sd"] == pytest.approx(0.2)
    assert summary["shallow.cost"]["n"] == 3
    assert not [name for name in summary if "step" in name]  # dvclive's epoch count, no result
    # A group of one: its value, and no standard deviation.
    alone = summarise(single)["shallow.cost"]
    assert alone == {"n": 1, "mean": 0.020, "sd": None, "min": 0.020, "max": 0.020}


def test_command_prints_a_table_and_json(tmp_path):
    saved = tmp_path / "exp_show.json"
    saved.write_text(json.dumps(EXP_SHOW))
    command = [sys.executable, "-m", "tools.spread", "--from", str(saved), "--metrics", "shallow.cost"]
    table = subprocess.run(command, cwd=PROJECT, capture_output=True, text=True, check=True).stdout
    # 0.030, 0.032, 0.034, 0.036: mean 0.033, sample sd sqrt(0.00002 / 3) = 0.002582
    assert "noise_level=0.6: 4 seeds [0, 1, 2, 5]" in table
    assert "shallow.cost    0.033000   0.002582   0.030000   0.036000" in table
    assert "noise_level=0.4: 1 seed [0]" in table and "0.020000          -" in table
    report = json.loads(subprocess.run(command + ["--json"], cwd=PROJECT, capture_output=True, text=True, check=True).stdout)
    assert report[0]["settings"] == {"noise_level": 0.6} and report[0]["seeds"] == [0, 1, 2, 5]
    assert report[0]["metrics"]["shallow.cost"]["sd"] == pytest.approx((0.00002 / 3) ** 0.5)


def test_a_group_with_a_model_the_others_lack_is_told_apart_by_it(tmp_path):
    """An experiment that added a model: its group shows that model's settings; the others say
    they are without it, once, not each of its keys as None."""
    added = state("e9", 1, 0.6, 0.031, 0.6, name="with-tiny")
    added["data"]["params"]["params.yaml"]["data"]["models"] = {"tiny": {"encoder": [32], "epochs": 2}}
    shown = [{**EXP_SHOW[1], "experiments": EXP_SHOW[1]["experiments"] + experiments(added)}]
    (plain, _), _, (tiny, _) = group_by_settings(runs_from_exp_show(shown))
    keys = ["models.tiny.encoder", "models.tiny.epochs", "noise_level"]
    assert describe(tiny, keys) == "models.tiny.encoder=[32], models.tiny.epochs=2, noise_level=0.6"
    assert describe(plain, keys) == "noise_level=0.6, without models.tiny"
    assert describe({"seed_offset": 1}, ["noise_level", "seed_offset"]) == "seed_offset=1, without noise_level"
    # A model the group has, lacking one setting that another group gave it: that setting, not the model.
    assert describe({"models.tiny.encoder": [32]}, keys) == "models.tiny.encoder=[32], without models.tiny.epochs, without noise_level"
    saved = tmp_path / "exp_show.json"
    saved.write_text(json.dumps(shown))
    command = [sys.executable, "-m", "tools.spread", "--from", str(saved), "--metrics", "shallow.cost"]
    table = subprocess.run(command, cwd=PROJECT, capture_output=True, text=True, check=True).stdout
    assert [line.split(":")[0] for line in table.splitlines() if not line.startswith(" ")] == [
        "noise_level=0.6, without models.tiny", "noise_level=0.4, without models.tiny",
        "models.tiny.encoder=[32], models.tiny.epochs=2, noise_level=0.6",
    ]
    report = json.loads(subprocess.run(command + ["--json"], cwd=PROJECT, capture_output=True, text=True, check=True).stdout)
    assert [group["settings"] for group in report] == [
        {"noise_level": 0.6}, {"noise_level": 0.4}, {"models.tiny.encoder": [32], "models.tiny.epochs": 2, "noise_level": 0.6},
    ]


def test_a_heading_names_a_missing_setting_of_a_model_the_group_has(tmp_path):
    """The commit and an experiment with the same added model, the experiment giving it a setting
    more: that setting is all that varies, and the commit's group is headed without it, not
    without the model (which its varying settings alone would not show)."""
    def with_tiny(run, settings):
        run["data"]["params"]["params.yaml"]["data"]["models"] = {"tiny": settings}
        return run

    longer = with_tiny(state("e1", 1, 0.6, 0.031, 0.6, name="tiny-longer"), {"encoder": [32], "epochs": 2})
    commit = with_tiny(state("abc1234", 0, 0.6, 0.030, 0.5, name="main", experiments=experiments(longer)), {"encoder": [32]})
    saved = tmp_path / "exp_show.json"
    saved.write_text(json.dumps([commit]))
    table = subprocess.run(
        [sys.executable, "-m", "tools.spread", "--from", str(saved), "--metrics", "shallow.cost"], cwd=PROJECT, capture_output=True, text=True, check=True,
    ).stdout
    assert [line.split(":")[0] for line in table.splitlines() if not line.startswith(" ")] == [
        "without models.tiny.epochs", "models.tiny.epochs=2",
    ]


def test_command_names_the_metrics_when_none_matches(tmp_path):
    saved = tmp_path / "exp_show.json"
    saved.write_text(json.dumps(EXP_SHOW))
    result = subprocess.run(
        [sys.executable, "-m", "tools.spread", "--from", str(saved), "--metrics", "psnr"], cwd=PROJECT, capture_output=True, text=True,
    )
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.strip() == (
        "spread: --metrics psnr: no metric's name contains it (found: dvclive/deep/metrics.json:train.cost, "
        "dvclive/shallow/metrics.json:train.cost, shallow.cost)"
    )


@pytest.mark.parametrize("content", [None, "# a README, not JSON\n"], ids=["missing", "not-json"])
def test_command_names_a_saved_file_it_cannot_read(tmp_path, content):
    saved = tmp_path / "exp_show.json"
    if content is not None:
        saved.write_text(content)
    result = subprocess.run([sys.executable, "-m", "tools.spread", "--from", str(saved)], cwd=PROJECT, capture_output=True, text=True)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith(f"spread: --from {saved}: cannot read it as the JSON of `dvc exp show --json`: ")
