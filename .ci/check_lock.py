"""Fail when dvc.lock no longer matches the code, params and commands it records.

Outputs that are merely absent are fine: a fresh clone has no DVC cache, so it lacks every
cached output (data/, models/), and a folder of such outputs cannot be compared either.
Anything else that `dvc status` reports (modified code or committed metrics, changed params or commands, a stage
missing from dvc.lock) means the committed results may not be what the committed code makes.
"""

import json
import subprocess
import sys
from pathlib import Path, PurePosixPath

import yaml

ABSENT = {"deleted", "not in cache"}


def produced_paths(lock_path="dvc.lock"):
    with open(lock_path) as f:
        stages = yaml.safe_load(f).get("stages", {})
    return [PurePosixPath(out["path"]) for stage in stages.values() for out in stage.get("outs", [])]


def stale_entries(status, produced):
    def is_produced(path):
        path = PurePosixPath(path)
        return any(path == out or out in path.parents for out in produced)

    def holds_absent_outputs(path):
        # A folder of other stages' outputs (models/) cannot be compared while they are absent.
        path = PurePosixPath(path)
        return any(path in out.parents and not Path(out).exists() for out in produced)

    def acceptable(kind, path, state):
        if state in ABSENT:
            return is_produced(path)
        return kind == "changed deps" and state == "modified" and holds_absent_outputs(path)

    for stage, changes in status.items():
        for change in changes:
            if isinstance(change, str):  # e.g. "changed command", "always changed"
                yield f"{stage}: {change}"
                continue
            for kind, entries in change.items():
                for path, state in entries.items():
                    if isinstance(state, dict):  # a params file: {key: state}
                        yield from (f"{stage}: params {path} `{key}`: {s}" for key, s in state.items())
                    elif not acceptable(kind, path, state):
                        yield f"{stage}: {kind.removeprefix('changed ')} {path}: {state}"


def main():
    result = subprocess.run(
        [sys.executable, "-m", "dvc", "status", "--json"], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        sys.exit(f"check_lock: `dvc status` failed:\n{result.stderr}")
    stale = list(stale_entries(json.loads(result.stdout or "{}"), produced_paths()))
    if stale:
        sys.exit(
            "dvc.lock is stale: it does not record what the committed code and params produce:\n  "
            + "\n  ".join(stale)
            + "\nRun `dvc repro` and commit dvc.lock with the metrics and figures it produces."
        )
    print("check_lock: dvc.lock matches the committed code and params")


if __name__ == "__main__":
    main()
