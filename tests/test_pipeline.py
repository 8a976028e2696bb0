"""End to end: the real `dvc` CLI and TensorFlow on a tiny configuration, in a throwaway git repo."""

import csv
import html
import json
import re
import shutil
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
import vl_convert
import yaml
from dvc.repo import Repo

from dae import noise
from dae.files import load_arrays
from dae.params import BASELINE_NAMES
from dae.plots import MIN_COST_SHOWN
from tests.conftest import PROJECT
from tests.e2e import dvc, environment, metrics, model_names, new_repo, ran, restore, run, set_params

def rendered(chart):
    """A chart of `dvc plots show/diff --json` as Vega itself draws it: SVG, through vl-convert."""
    return vl_convert.vegalite_to_svg(chart["content"])


def drawn_lines(svg, *fields):
    """{(the values of `fields`): (colour, dash pattern)} of every line a rendered chart draws;
    each line is named by the tooltip fields of its first point (Vega joins them with "; ", which
    no model name or DVC revision here holds)."""
    lines = {}
    for path in re.findall(r'<path [^>]*aria-roledescription="line mark"[^>]*>', svg):
        label = dict(item.split(": ", 1) for item in html.unescape(_attribute(path, "aria-label")).split("; "))
        key = tuple(label[field] for field in fields)
        assert key not in lines, f"two lines for {key}"
        lines[key] = (_attribute(path, "stroke"), _attribute(path, "stroke-dasharray"))
    return lines


def legend_dashes(svg):
    """The dash patterns that a rendered chart's legend symbols show as drawn lines: a stroked
    horizontal segment (a filled circle, Vega-Lite's symbol for a line with points, shows none)."""
    symbols = re.findall(r'<g class="mark-symbol role-legend-symbol"[^>]*>(<path [^>]*>)', svg)
    return [_attribute(path, "stroke-dasharray") for path in symbols
            if re.fullmatch(r"M-[\d.]+,0L[\d.]+,0", _attribute(path, "d") or "") and _attribute(path, "stroke-dasharray")
            and _attribute(path, "stroke") not in (None, "transparent", "none")]


def _attribute(element, name):
    found = re.search(f' {name}="([^"]*)"', element)
    return found and found.group(1)


@pytest.fixture(scope="module")
def first_repro(tmp_path_factory, mnist_mirror):
    """The throwaway repo after its first `dvc repro`, committed, and what that run printed."""
    repo = new_repo(tmp_path_factory.mktemp("pipeline"))
    first = dvc(repo, "repro")
    run(repo, "git", "add", "-A")
    run(repo, "git", "commit", "-qm", "results")
    return repo, first.stdout + first.stderr


@pytest.fixture
def repo(first_repro):
    return first_repro[0]


def test_repro_runs_every_stage_then_nothing(first_repro):
    repo, output = first_repro
    names = model_names(repo)
    assert ran(output) == {"fetch", "prepare", "noise", "wiener", *(f"train@{name}" for name in names), "evaluate"}
    assert "Epoch: 1 cost: " in output
    # Only the project's own lines: none of TensorFlow's start-up notices (dae/process.py),
    # which on some CPUs come before its log level applies ("oneDNN custom operations are on").
    assert "cpu_feature_guard" not in output and "absl::InitializeLog" not in output
    assert "rebuild TensorFlow" not in output
    assert not re.search(r"^[IWE]\d{4} ", output, re.MULTILINE)  # absl's info, warning and error lines
    scores = metrics(repo)
    assert list(scores) == [*BASELINE_NAMES, *names]
    assert scores["wiener"]["cost"] < scores["clipped_input"]["cost"] < scores["noisy_input"]["cost"]
    # A model must beat predicting the mean training image whatever the input, which already
    # beats the noisy input (0.36) and an all-black output (0.10) by far.
    train = noise.to_unit(load_arrays(repo / "data/prepared/train.npz")["images"])
    test = noise.to_unit(load_arrays(repo / "data/prepared/test.npz")["images"])
    mean_image_cost = float(((test - train.mean(axis=0)) ** 2).mean())
    assert 0.05 < mean_image_cost < scores["noisy_input"]["cost"]
    for name in names:
        assert scores[name]["cost"] < mean_image_cost
        assert (repo / f"models/{name}.keras").is_file()
        assert (repo / f"dvclive/{name}/metrics.json").is_file()
    for figure in ("digits.png", "cost_curves.png", "robustness.png"):
        assert (repo / "reports" / figure).read_bytes().startswith(b"\x89PNG")
    again = dvc(repo, "repro", "noise")
    assert ran(again.stdout) == set() and "Data and pipelines are up to date." in again.stdout
    assert ran(dvc(repo, "repro").stdout) == set()


def test_lock_check_passes_on_a_fresh_clone_and_catches_stale_code(repo, tmp_path):
    clone = tmp_path / "clone"
    run(tmp_path, "git", "clone", "-q", str(repo), str(clone))
    check = [sys.executable, str(clone / ".ci/check_lock.py")]
    assert "matches" in run(clone, *check).stdout
    with open(clone / "stages/train.py", "a") as f:
        f.write("# an edit\n")
    set_params(clone, {"train": {"learning_rate": 0.001}})
    stale = run(clone, *check, check=False)
    assert stale.returncode != 0
    for name in model_names(clone):
        assert f"train@{name}: deps stages/train.py: modified" in stale.stderr
        assert f"train@{name}: params params.yaml `train`: modified" in stale.stderr


def test_plots_show_draws_each_figure_once_with_a_colour_per_model(repo, tmp_path):
    shown = json.loads(dvc(repo, "plots", "show", "--json").stdout)["data"]
    assert sorted(shown) == [
        "reports/cost_curves.csv", "reports/cost_curves.png", "reports/digits.png",
        "reports/robustness.csv", "reports/robustness.png",
    ]
    (chart,) = shown["reports/cost_curves.csv"]
    spec = chart["content"]
    assert spec["encoding"]["color"]["field"] == "series" and spec["encoding"]["strokeDash"]["field"] == "split"
    assert spec["title"] == "Training and validation cost per epoch"
    # The data behind the chart names the models of params.yaml, each with both splits.
    rows = list(csv.DictReader((repo / "reports/cost_curves.csv").read_text().splitlines()))
    assert sorted({(r["model"], r["split"]) for r in rows}) == [
        (model, split) for model in sorted(yaml.safe_load((repo / "params.yaml").read_text())["models"])
        for split in ("training", "validation")
    ]
    page = tmp_path / "page"
    dvc(repo, "plots", "show", "--out", str(page))
    html = (page / "index.html").read_text()
    assert html.count("<img") == 3  # the three PNG figures, once each
    # The robustness chart: a line per denoiser, baselines and models, at every level of params.yaml.
    (chart,) = shown["reports/robustness.csv"]
    # As Vega draws it: a colour per denoiser, the models solid and the baselines dashed, as the legend shows.
    svg = rendered(chart)
    lines = drawn_lines(svg, "denoiser", "kind")
    params = yaml.safe_load((repo / "params.yaml").read_text())
    assert sorted(lines) == sorted([*((name, "baseline") for name in BASELINE_NAMES), *((name, "model") for name in params["models"])])
    assert len({colour for colour, _ in lines.values()}) == len(lines)
    assert models_solid_baselines_dashed(lines)
    assert sorted(legend_dashes(svg)) == ["1,0", "4,2"]
    assert chart["content"]["encoding"]["y"]["scale"]["type"] == "log"
    # ... leaving out what a log scale cannot show, where the PNG does, and saying so
    (cut,) = [step["filter"] for step in chart["content"]["transform"] if "filter" in step]
    subtitle = chart["content"]["title"]["subtitle"]
    assert float(cut.split(">=")[1]) == MIN_COST_SHOWN == float(re.search(r"below (\S+) ", subtitle).group(1))
    assert "left out" in subtitle
    rows = list(csv.DictReader((repo / "reports/robustness.csv").read_text().splitlines()))
    denoisers = [*BASELINE_NAMES, *params["models"]]
    assert [(float(r["noise_level"]), r["denoiser"]) for r in rows] == [
        (level, name) for level in params["evaluate"]["noise_levels"] for name in denoisers
    ]
    assert {r["kind"] for r in rows if r["denoiser"] in params["models"]} == {"model"}
    # Levels that do not start at 0 put a baseline's row first: the models stay the solid lines.
    assert ran(dvc(repo, "exp", "run", "-S", "evaluate.noise_levels=[0.3,0.6]").stdout) == {"evaluate"}
    (chart,) = json.loads(dvc(repo, "plots", "show", "--json").stdout)["data"]["reports/robustness.csv"]
    assert models_solid_baselines_dashed(drawn_lines(rendered(chart), "denoiser", "kind"))
    restore(repo)


def models_solid_baselines_dashed(lines):
    """Whether every model's line of `drawn_lines(..., "denoiser", "kind")` is solid, every baseline's dashed alike."""
    dashes = {kind: {dash for (_, line_kind), (_, dash) in lines.items() if line_kind == kind} for kind in ("model", "baseline")}
    return dashes == {"model": {"1,0"}, "baseline": {"4,2"}}


def test_score_refuses_a_filter_or_model_that_params_yaml_no_longer_describes(repo):
    """`tools.score` scores under params.yaml's noise: not with a Wiener filter fitted, or models
    trained, for other params before `dvc repro` has caught up."""
    set_params(repo, {"noise_level": 0.3})
    stale = run(repo, sys.executable, "-m", "tools.score", check=False)
    assert stale.returncode == 1 and stale.stdout == ""
    assert stale.stderr.startswith("score: wiener, ") and "out of date (`dvc status` says why): run `dvc repro` first" in stale.stderr
    assert all(f"train@{name}" in stale.stderr for name in model_names(repo))
    run(repo, "git", "checkout", "--", "params.yaml")
    # While another DVC command holds the workspace, it cannot check: it says so, without a traceback.
    with Repo(str(repo)) as other, other.lock:
        busy = run(repo, sys.executable, "-m", "tools.score", check=False)
    assert busy.returncode == 1 and busy.stderr.startswith("score: cannot check the pipeline with `dvc status`: ")
    assert "Traceback" not in busy.stderr
    scored = run(repo, sys.executable, "-m", "tools.score").stdout.splitlines()
    assert scored[0].startswith("score: 500 test images, gaussian noise 0.6 drawn with seed 1")
    assert [line.split(":")[0] for line in scored[1:]] == [f"score {name}" for name in [*BASELINE_NAMES, *model_names(repo)]]


def test_evaluation_changes_rerun_only_evaluate(repo):
    set_params(repo, {"evaluate": {"dpi": 60}})
    assert ran(dvc(repo, "repro").stdout) == {"evaluate"}
    with open(repo / "dae/plots.py", "a") as f:
        f.write("# an edit to the plotting code\n")
    assert ran(dvc(repo, "repro").stdout) == {"evaluate"}
    restore(repo)
    assert ran(dvc(repo, "repro").stdout) == set()


def test_a_change_of_the_test_split_retrains_nothing(repo):
    """The train stages depend on the noisy validation split (data/noisy), not on the noisy test split."""
    set_params(repo, {"prepare": {"test_size": 400}})
    assert ran(dvc(repo, "repro").stdout) == {"prepare", "noise", "evaluate"}
    assert len(load_arrays(repo / "data/noisy_test.npz")["images"]) == 400
    restore(repo)
    assert ran(dvc(repo, "repro").stdout) == set()


def test_invalid_param_fails_before_any_work_naming_key_and_value(repo):
    set_params(repo, {"noise_level": -0.5})
    failed = dvc(repo, "repro", check=False)
    assert failed.returncode != 0
    assert "params.yaml: `noise_level` = -0.5 is invalid: expected a number >= 0" in failed.stdout + failed.stderr
    assert not (repo / "data/noisy").exists() and not (repo / "data/noisy_test.npz").exists()  # removed by DVC, nothing half-written
    restore(repo)


def test_exp_run_with_another_noise_level(repo):
    baseline = metrics(repo)
    result = dvc(repo, "exp", "run", "-S", "noise_level=0.4")
    names = model_names(repo)
    trained = {f"train@{name}" for name in names}
    assert ran(result.stdout) == {"noise", "wiener", *trained, "evaluate"}
    diff = json.loads(dvc(repo, "metrics", "diff", "--json").stdout)["reports/test_metrics.json"]
    for key in [f"{name}.cost" for name in [*BASELINE_NAMES, *names]]:
        assert diff[key]["old"] == baseline[key.split(".")[0]]["cost"]
        assert diff[key]["new"] != diff[key]["old"]
    shown = dvc(repo, "exp", "show", "--csv").stdout
    header = shown.splitlines()[0].split(",")
    assert {"noise_level", *(f"{name}.cost" for name in names)} <= set(header)
    assert any(row.split(",")[header.index("noise_level")] == "0.4" for row in shown.splitlines()[1:])
    # The same experiment again, from the baseline: every stage comes back from the run cache.
    restore(repo)
    again = dvc(repo, "exp", "run", "-S", "noise_level=0.4").stdout
    assert ran(again) == set()
    for stage in ("noise", "wiener", *trained, "evaluate"):
        assert f"Stage '{stage}' is cached - skipping run" in again
    for name in names:
        assert metrics(repo)[name]["cost"] == diff[f"{name}.cost"]["new"]


@pytest.mark.parametrize("noise_type", ["masking", "salt_and_pepper"])
def test_exp_run_with_another_noise_type(repo, noise_type):
    result = dvc(repo, "exp", "run", "-S", f"noise_type={noise_type}", "-S", "noise_level=0.25")
    names = model_names(repo)
    assert ran(result.stdout) == {"noise", "wiener", *(f"train@{name}" for name in names), "evaluate"}
    clean = noise.to_unit(load_arrays(repo / "data/prepared/test.npz")["images"])
    noisy = load_arrays(repo / "data/noisy_test.npz")["images"].astype("float32")
    changed = ~np.isclose(noisy, clean, atol=2e-3)  # kept pixels differ by float16's rounding only
    assert set(np.unique(noisy[changed])) == ({0.0} if noise_type == "masking" else {0.0, 1.0})
    visible = (clean > 0.01) & (clean < 0.99)  # where either corruption changes the pixel
    assert abs(changed[visible].mean() - 0.25) < 0.02
    scores = metrics(repo)
    assert list(scores) == [*BASELINE_NAMES, *names]
    assert scores["clipped_input"] == scores["noisy_input"]  # these noisy pixels are in [0, 1] already
    assert scores["wiener"]["cost"] < scores["noisy_input"]["cost"]
    train = noise.to_unit(load_arrays(repo / "data/prepared/train.npz")["images"])
    mean_image_cost = float(((clean - train.mean(axis=0)) ** 2).mean())
    for name in names:
        assert scores[name]["cost"] < mean_image_cost
    with open(repo / "reports/robustness.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 11 * len([*BASELINE_NAMES, *names]) and float(rows[-1]["noise_level"]) == 1.0
    restore(repo)


def test_a_model_added_with_its_own_settings_is_trained_and_shown_everywhere(repo):
    """A conv model with its own activation, initializer and learning rate, added from the command
    line as the README's Best model is: only it trains, and every output lists it."""
    added = "+models.tiny_conv={type: conv, encoder: [8, 16], activation: relu, initializer: glorot_uniform, learning_rate: 0.003}"
    result = dvc(repo, "exp", "run", "-S", added, "-n", "with-tiny-conv")
    assert ran(result.stdout) == {"train@tiny_conv", "evaluate"}
    assert "train tiny_conv: conv encoder [8, 16]" in result.stdout
    names = model_names(repo)
    assert names[-1] == "tiny_conv"
    assert list(metrics(repo)) == [*BASELINE_NAMES, *names]
    for table in ("cost_curves.csv", "robustness.csv"):
        with open(repo / "reports" / table) as f:
            shown = {row.get("model") or row.get("denoiser") for row in csv.DictReader(f)}
        assert "tiny_conv" in shown
    with zipfile.ZipFile(repo / "models/tiny_conv.keras") as archive:
        layers = [layer["class_name"] for layer in json.loads(archive.read("config.json"))["config"]["layers"]]
    assert layers.count("Conv2D") == 3 and layers.count("Conv2DTranspose") == 2
    # `dvc plots diff` against the commit, as Vega draws it: every line apart, more than ten of them.
    diff = json.loads(dvc(repo, "plots", "diff", "--json").stdout)["data"]
    (chart,) = diff["reports/robustness.csv"]
    svg = rendered(chart)
    lines = drawn_lines(svg, "denoiser", "revision")
    revisions = {revision for _, revision in lines}
    assert len(revisions) == 2 and len(lines) == 2 * len(BASELINE_NAMES) + 2 * len(names) - 1 > 10
    assert len(set(lines.values())) == len(lines)
    # ... each denoiser in one colour, each revision in one dash, as the legends say
    for position, count in ((0, len(BASELINE_NAMES) + len(names)), (1, len(revisions))):
        shared = {}
        for key, style in lines.items():
            shared.setdefault(key[position], set()).add(style[position])
        assert len(shared) == count and all(len(styles) == 1 for styles in shared.values())
    assert sorted(legend_dashes(svg)) == sorted({dash for _, dash in lines.values()})
    (chart,) = diff["reports/cost_curves.csv"]
    lines = drawn_lines(rendered(chart), "model", "revision", "split")
    assert len(lines) == 2 * (2 * len(names) - 1) and len(set(lines.values())) == len(lines)
    restore(repo)
    # Back on the commit, `dvc checkout` leaves the model's dvclive/ folder holding DVC's .gitignore:
    # no input of evaluate (.dvcignore), so nothing is out of date and nothing reruns.
    assert [path.name for path in (repo / "dvclive/tiny_conv").iterdir()] == [".gitignore"]
    assert "Data and pipelines are up to date." in dvc(repo, "status").stdout
    assert ran(dvc(repo, "repro").stdout) == set()
    # Nor does evaluate's own check of stray files count it.
    assert ran(dvc(repo, "repro", "--force", "--single-item", "evaluate").stdout) == {"evaluate"}
    # Applied, the experiment's metrics.json of the new model comes from git, untracked; `git
    # checkout .` or `dvc exp apply` of another experiment leaves it, an input of evaluate, until deleted.
    dvc(repo, "exp", "run", "-S", "evaluate.dpi=50", "-n", "dpi-50")  # another experiment, evaluate only
    restore(repo)
    for back in (lambda: restore(repo), lambda: dvc(repo, "exp", "apply", "dpi-50")):
        dvc(repo, "exp", "apply", "with-tiny-conv")
        back()
        assert (repo / "dvclive/tiny_conv/metrics.json").is_file() and not (repo / "dvclive/tiny_conv/plots").exists()
        assert "modified:           dvclive" in dvc(repo, "status").stdout
        refused = run(repo, sys.executable, "-m", "stages.evaluate", check=False)  # as `dvc repro` would, but DVC removes the reports first
        assert refused.returncode != 0 and "evaluate: dvclive/tiny_conv belong to no model" in refused.stderr
        shutil.rmtree(repo / "dvclive/tiny_conv")
        assert "Data and pipelines are up to date." in dvc(repo, "status").stdout
    restore(repo)



def test_a_model_removed_by_an_experiment_is_gone_from_every_output(repo):
    """`-S '~models.<name>'` after another experiment: DVC deletes the removed stage's cached
    outputs but keeps its git-tracked metrics.json, which that experiment rewrote; evaluate names
    the folder, and once it is deleted the same experiment completes, only evaluate running.
    With the folder deleted first, as the README says, the named experiment completes at once.
    Back on the commit, `dvc checkout` brings the model back."""
    *kept, removed = model_names(repo)
    dvc(repo, "exp", "run", "-S", "noise_level=0.45")  # every model trained again
    failed = dvc(repo, "exp", "run", "-S", f"~models.{removed}", check=False)
    assert failed.returncode != 0 and f"evaluate: dvclive/{removed} belong to no model" in failed.stdout + failed.stderr
    assert not (repo / f"models/{removed}.keras").exists() and not (repo / f"dvclive/{removed}/plots").exists()
    shutil.rmtree(repo / "dvclive" / removed)
    assert ran(dvc(repo, "exp", "run").stdout) == {"evaluate"}
    assert list(metrics(repo)) == [*BASELINE_NAMES, *kept]
    with open(repo / "reports/robustness.csv") as f:
        assert removed not in {row["denoiser"] for row in csv.DictReader(f)}
    restore(repo)
    assert (repo / f"models/{removed}.keras").is_file()
    assert "Data and pipelines are up to date." in dvc(repo, "status").stdout
    shutil.rmtree(repo / "dvclive" / removed)
    assert ran(dvc(repo, "exp", "run", "-S", f"~models.{removed}", "-n", f"without-{removed}").stdout) == {"evaluate"}
    assert not (repo / f"models/{removed}.keras").exists()
    assert list(metrics(repo)) == [*BASELINE_NAMES, *kept]
    assert f"without-{removed}" in dvc(repo, "exp", "list", "--name-only").stdout.split()
    restore(repo)
    assert (repo / f"models/{removed}.keras").is_file() and (repo / f"dvclive/{removed}/metrics.json").is_file()
    assert "Data and pipelines are up to date." in dvc(repo, "status").stdout


def test_push_then_pull_in_a_second_clone_retrains_nothing(repo, tmp_path):
    restore(repo)  # the committed results, which a clone checks out
    remote = tmp_path / "remote"
    dvc(repo, "remote", "add", "--local", "-d", "storage", str(remote))
    dvc(repo, "push")
    clone = tmp_path / "clone"
    run(tmp_path, "git", "clone", "-q", str(repo), str(clone))
    dvc(clone, "remote", "add", "--local", "-d", "storage", str(remote))
    dvc(clone, "pull")
    for name in model_names(clone):
        assert (clone / f"models/{name}.keras").read_bytes() == (repo / f"models/{name}.keras").read_bytes()
        assert (clone / f"dvclive/{name}/plots/metrics/train/cost.tsv").is_file()
    assert "Data and pipelines are up to date." in dvc(clone, "status").stdout
    again = dvc(clone, "repro")
    assert ran(again.stdout) == set() and "Data and pipelines are up to date." in again.stdout


def test_artifacts_get_downloads_every_model_from_the_remote(repo, tmp_path):
    """The models are a DVC artifact: `dvc artifacts get` downloads them from the remote that a
    clone's committed config names (the clone has neither a cache nor a workspace copy)."""
    restore(repo)
    remote = tmp_path / "remote"
    dvc(repo, "remote", "add", "--local", "--force", "-d", "storage", str(remote))
    dvc(repo, "push")
    clone = tmp_path / "clone"
    run(tmp_path, "git", "clone", "-q", str(repo), str(clone))
    dvc(clone, "remote", "add", "-d", "storage", str(remote))
    run(clone, "git", "commit", "-qam", "the remote, for everyone")
    # A version in DVC's model registry (an annotated git tag `autoencoders@v0.0.1`), which
    # `dvc artifacts get` looks for; the `gto` CLI comes with DVC.
    registered = run(clone, str(Path(sys.executable).parent / "gto"), "register", "autoencoders")
    assert "autoencoders@v0.0.1" in registered.stdout + registered.stderr
    fetched = tmp_path / "fetched"
    # The first repo's cache set aside: the remote is the only place the models can come from.
    aside = tmp_path / "cache-aside"
    shutil.move(repo / ".dvc/cache", aside)
    try:
        dvc(tmp_path, "artifacts", "get", str(clone), "autoencoders", "-o", str(fetched))
    finally:
        shutil.move(aside, repo / ".dvc/cache")
    names = model_names(clone)
    assert sorted(path.name for path in fetched.glob("*.keras")) == sorted(f"{name}.keras" for name in names)
    for name in names:
        assert (fetched / f"{name}.keras").read_bytes() == (repo / f"models/{name}.keras").read_bytes()


def test_fetch_refuses_a_corrupt_mirror_and_keeps_nothing(tmp_path, mnist_mirror):
    mirror = tmp_path / "mirror"
    shutil.copytree(mnist_mirror, mirror)
    (mirror / "t10k-labels-idx1-ubyte.gz").chmod(0o644)
    with open(mirror / "t10k-labels-idx1-ubyte.gz", "ab") as f:
        f.write(b"corruption")
    project = tmp_path / "project"
    project.mkdir()
    shutil.copytree(PROJECT / "stages", project / "stages")
    shutil.copytree(PROJECT / "dae", project / "dae")
    env = environment()
    # No other source reachable: the public mirrors go through a proxy that refuses connections.
    env.update(MNIST_MIRROR=str(mirror), https_proxy="http://127.0.0.1:9", http_proxy="http://127.0.0.1:9")
    failed = run(project, sys.executable, "-m", "stages.fetch", check=False, env=env)
    assert failed.returncode != 0
    assert "could not fetch t10k-labels-idx1-ubyte.gz from any source" in failed.stderr
    assert f"{mirror}: sha256 checksum mismatch: expected f7ae60f9" in failed.stderr
    assert "ossci-datasets" in failed.stderr and "cvdf-datasets" in failed.stderr
    assert "MNIST_MIRROR" in failed.stderr
    assert sorted(p.name for p in (project / "data").iterdir()) == []
