"""The spread of metrics over runs that differ only in their seed."""

import math
import statistics


def group_by_settings(runs, varying="seed"):
    """Group runs whose params are equal but for `varying`.

    `runs` is a list of {"name": ..., "params": {key: value}, "metrics": {key: number}}, and
    "experiment": True for an experiment (not a commit). A seed that appears twice in one group
    counts once: with equal metrics it is the same deterministic run twice (say, the baseline and
    an experiment that repeated it from DVC's run cache); with different ones, the same params
    ran on another CPU or with other code (see `clashes`), and an experiment's run counts, not a
    commit's, whose results may come from another machine. Returns [(settings, [run, ...]), ...]
    in the order the groups first appear.
    """
    return [(settings, [_counted(repeats) for repeats in by_seed.values()]) for settings, by_seed in _groups(runs, varying)]


def clashes(runs, varying="seed"):
    """[(settings, seed, counted, [run, ...]), ...]: for each seed and settings with runs whose
    metrics differ, the run that counts (see `group_by_settings`) and those that differ from it."""
    found = []
    for settings, by_seed in _groups(runs, varying):
        for seed, repeats in by_seed.items():
            counted = _counted(repeats)
            differing = [run for run in repeats if run["metrics"] != counted["metrics"]]
            if differing:
                found.append((settings, seed, counted, differing))
    return found


def _groups(runs, varying):
    groups = {}
    for run in runs:
        settings = {key: value for key, value in run["params"].items() if key != varying}
        group = groups.setdefault(repr(sorted(settings.items())), (settings, {}))
        group[1].setdefault(run["params"].get(varying), []).append(run)
    return list(groups.values())


def _counted(repeats):
    """The first experiment among runs of the same params, in the order `dvc exp show --json`
    lists them, else the first run."""
    return next((run for run in repeats if run.get("experiment")), repeats[0])


def summarise(runs):
    """{metric: {"n", "mean", "sd", "min", "max"}} over `runs`; sd is the sample standard
    deviation, None for a single run. Metrics missing from a run are left out for it."""
    names = sorted({name for run in runs for name in run["metrics"]})
    summary = {}
    for name in names:
        values = [run["metrics"][name] for run in runs if _is_number(run["metrics"].get(name))]
        if not values:
            continue
        summary[name] = {
            "n": len(values),
            "mean": statistics.fmean(values),
            "sd": statistics.stdev(values) if len(values) > 1 else None,
            "min": min(values),
            "max": max(values),
        }
    return summary


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def varying_settings(groups):
    """The param keys whose values differ between groups: what tells the groups apart."""
    keys = sorted({key for settings, _ in groups for key in settings})
    return [key for key in keys if len({repr(settings.get(key)) for settings, _ in groups}) > 1]


def describe(settings, keys):
    """A group's heading: `key=value` for each of `keys` that its settings have, then `without
    <key>` for the others, a model the group lacks named once (`without models.tiny`, not each of
    its keys), e.g. "noise_level=0.6, without models.tiny"."""
    present = [f"{key}={settings[key]}" for key in keys if key in settings]
    absent = dict.fromkeys(_absent(key, settings) for key in keys if key not in settings)
    return ", ".join([*present, *(f"without {key}" for key in absent)])


def _absent(key, settings):
    """`models.<name>` for a key of a model that `settings` lacks altogether, else the key itself
    (a model the group has, without one of its settings: `models.<name>.epochs`)."""
    parts = key.split(".")
    model = ".".join(parts[:2])
    if parts[0] == "models" and len(parts) > 2 and not any(other.startswith(model + ".") for other in settings):
        return model
    return key


def runs_from_exp_show(states):
    """Runs (see `group_by_settings`) from the JSON of `dvc exp show --json`: the committed
    baselines and their finished experiments, not the workspace; failed, queued or running
    ones are left out.

    A metric is named by its key in its file, or `file:key` where several files share the key
    (each dvclive/<model>/metrics.json has a `train.cost`). dvclive's `step` beside them, the
    last epoch's number, is a count rather than a result, and is left out.
    """
    found = []

    def visit(state, experiment=False):
        data = state.get("data") or {}
        if state.get("rev") != "workspace" and not state.get("error") and data.get("metrics"):
            found.append((state.get("name") or state.get("rev"), data, experiment))
        for experiment_range in state.get("experiments") or []:
            executor = experiment_range.get("executor") or {}
            if executor.get("state", "success") != "success":
                continue  # queued or running: its files are still the baseline's
            for child in experiment_range.get("revs") or []:
                visit(child, experiment=True)

    for state in states:
        visit(state)
    files_of = {}
    for _, data, _ in found:
        for path, result in data["metrics"].items():
            for key in _metrics_of(result):
                files_of.setdefault(key, set()).add(path)
    runs = []
    for name, data, experiment in found:
        params = {}
        for result in data.get("params", {}).values():
            params.update(_flatten((result or {}).get("data") or {}))
        metrics = {
            (key if len(files_of[key]) == 1 else f"{path}:{key}"): value
            for path, result in data["metrics"].items()
            for key, value in _metrics_of(result).items()
        }
        runs.append({"name": name, "params": params, "metrics": metrics, "experiment": experiment})
    return runs


def _metrics_of(result):
    """A metrics file's values from `dvc exp show --json`, flat, without dvclive's `step`."""
    return {key: value for key, value in _flatten((result or {}).get("data") or {}).items() if key != "step"}


def _flatten(tree, prefix=""):
    flat = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat
