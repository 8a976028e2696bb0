"""The spread of every metric over experiments that differ only in their seed.

Reads `dvc exp show --json` (the committed baseline and its experiments) and prints, for each
group of experiments whose params are equal but for `seed`, the number of seeds and the mean,
standard deviation, minimum and maximum of every metric. Works for any sweep: seeds crossed
with noise levels give one group per noise level. A seed run twice with different results
(another CPU, other code) counts once, an experiment's run before a commit's, and is named on
stderr.

    python -m tools.spread                 # a table
    python -m tools.spread --json          # the same as JSON
    python -m tools.spread --metrics cost  # only metrics whose name contains "cost"
"""

import argparse
import json
import subprocess
import sys

from dae.spread import clashes, describe, group_by_settings, runs_from_exp_show, summarise, varying_settings


def read_experiments(path=None):
    if path:
        try:
            with open(path) as f:
                return json.load(f)
        except (OSError, ValueError) as error:  # json's decode error is a ValueError
            sys.exit(f"spread: --from {path}: cannot read it as the JSON of `dvc exp show --json`: {error}")
    result = subprocess.run([sys.executable, "-m", "dvc", "exp", "show", "--json"], capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"spread: `dvc exp show --json` failed:\n{result.stderr}")
    return json.loads(result.stdout)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tools.spread", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--metrics", default="", help="only metrics whose name contains this text")
    parser.add_argument("--from", dest="source", help="read this saved `dvc exp show --json` output instead")
    args = parser.parse_args(argv)

    runs = runs_from_exp_show(read_experiments(args.source))
    groups = group_by_settings(runs)
    if not groups:
        sys.exit("spread: no experiment with metrics: run a sweep first, e.g. `dvc exp run --queue -S 'seed=1,2,3,4'` then `dvc queue start`")
    labels = varying_settings(groups)
    for settings, seed, counted, others in clashes(runs):
        where = describe(settings, labels)
        print(
            f"spread: seed {seed}{f' ({where})' if where else ''}: {counted['name']} and {', '.join(run['name'] for run in others)} "
            f"ran the same params but differ ({_first_difference(counted, others[0])}): another CPU or other code "
            f"(README, What reproduces where); counted once, from {counted['name']}",
            file=sys.stderr,
        )
    report = []
    for settings, runs in groups:
        summary = {name: stats for name, stats in summarise(runs).items() if args.metrics in name}
        report.append({
            "settings": {key: settings[key] for key in labels if key in settings},
            "seeds": sorted(run["params"].get("seed") for run in runs),
            "metrics": summary,
        })
    if not any(group["metrics"] for group in report):
        found = sorted({name for _, runs in groups for run in runs for name in run["metrics"]})
        sys.exit(f"spread: --metrics {args.metrics}: no metric's name contains it (found: {', '.join(found)})")
    if args.json:
        print(json.dumps(report, indent=2))
        return
    for group, (settings, _) in zip(report, groups):
        heading = describe(settings, labels) or "all experiments"  # all its settings: which models it has
        count = len(group["seeds"])
        print(f"{heading}: {count} seed{'s' if count != 1 else ''} {group['seeds']}")
        width = max(len(name) for name in group["metrics"]) if group["metrics"] else 10
        print(f"  {'metric':<{width}}  {'mean':>10} {'± sd':>10} {'min':>10} {'max':>10}")
        for name, stats in group["metrics"].items():
            sd = "-" if stats["sd"] is None else f"{stats['sd']:.6f}"
            print(f"  {name:<{width}}  {stats['mean']:>10.6f} {sd:>10} {stats['min']:>10.6f} {stats['max']:>10.6f}")


def _first_difference(run, other):
    """The first metric on which two runs differ, e.g. `shallow.cost 0.029368 against 0.030358`."""
    name = next(name for name in sorted({*run["metrics"], *other["metrics"]}) if run["metrics"].get(name) != other["metrics"].get(name))
    shown = [value if not isinstance(value, float) else f"{value:.6f}" for value in (run["metrics"].get(name), other["metrics"].get(name))]
    return f"{name} {shown[0]} against {shown[1]}"


if __name__ == "__main__":
    main()
