"""Helpers for the end-to-end tests: a throwaway git repo holding the project, driven by the real `dvc` CLI."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from tests.conftest import PROJECT

# A sixth of the data and two epochs: every stage runs for real, in seconds, and the models
# already beat the mean image (measured: about 0.058 against 0.065).
TINY = {"prepare": {"validation_size": 500, "train_size": 10000, "test_size": 500}, "train": {"epochs": 2}}


def environment():
    env = dict(os.environ)
    # The stages run `python`: the one running the tests, with its packages.
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    env.update(
        DVC_NO_ANALYTICS="1",
        GIT_AUTHOR_NAME="test", GIT_AUTHOR_EMAIL="test@example.invalid",
        GIT_COMMITTER_NAME="test", GIT_COMMITTER_EMAIL="test@example.invalid",
    )
    return env


def run(repo, *command, check=True, env=None, timeout=None):
    result = subprocess.run(command, cwd=repo, env=env or environment(), capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(command)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


def dvc(repo, *args, **kwargs):
    return run(repo, sys.executable, "-m", "dvc", *args, **kwargs)


def ran(output):
    """Names of the stages a `dvc repro` or `dvc exp run` actually ran."""
    return {line.split("'")[1] for line in output.splitlines() if line.startswith("Running stage '")}


def set_params(repo, changes):
    path = repo / "params.yaml"
    params = yaml.safe_load(path.read_text())
    for section, values in changes.items():
        if isinstance(values, dict):
            params[section].update(values)
        else:
            params[section] = values
    path.write_text(yaml.safe_dump(params, sort_keys=False))


def copy_project(dest):
    """The project's files as git sees them (tracked and not ignored), without its results."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=PROJECT, capture_output=True, text=True, check=True,
    ).stdout.split("\0")
    for name in filter(None, listed):
        if name == "dvc.lock" or name.startswith(("reports/", "dvclive/")) or not (PROJECT / name).is_file():
            continue
        (dest / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(PROJECT / name, dest / name)


def new_repo(path, changes=TINY):
    """The project copied to `path` with `changes` to its params, committed to a new git repo."""
    copy_project(path)
    set_params(path, changes)
    run(path, "git", "init", "-q", "-b", "main")
    run(path, "git", "add", "-A")
    run(path, "git", "commit", "-qm", "tiny pipeline")
    return path


def model_names(repo):
    """The models of the repo's params.yaml, in order."""
    return list(yaml.safe_load((repo / "params.yaml").read_text())["models"])


def metrics(repo):
    return json.loads((repo / "reports/test_metrics.json").read_text())


def restore(repo):
    """Back to the committed results, the cached outputs from DVC's cache."""
    run(repo, "git", "checkout", "--", ".")
    dvc(repo, "checkout", "-q")
