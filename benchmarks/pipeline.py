"""How lean the pipeline is: the figures of the README's performance section, measured here.

Run from the project root after a `dvc repro` (it reruns stages and one experiment):
    python -m benchmarks.pipeline [--noise-level 0.5] [--skip-experiment]

Prints, for the workspace's params:
- the wall time of a no-op `dvc repro` (median of three);
- each stage forced to run alone (`dvc repro -f -s <stage>`): wall time, share of the total and
  peak resident memory of its largest process;
- how much one `dvc exp run -S noise_level=...` adds to DVC's cache (`.dvc/cache`).
"""

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import yaml

# Runs one command and reports its wall time and the peak memory of its largest descendant.
TIMED = """
import json, resource, subprocess, sys, time
start = time.perf_counter()
result = subprocess.run(sys.argv[1:], capture_output=True, text=True)
print(json.dumps({"rc": result.returncode, "seconds": time.perf_counter() - start,
                  "peak_mib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
                  "stderr": result.stderr[-2000:]}))
"""


def timed(*command):
    out = subprocess.run([sys.executable, "-c", TIMED, *command], capture_output=True, text=True, check=True)
    result = json.loads(out.stdout)
    if result["rc"] != 0:
        sys.exit(f"{' '.join(command)} failed:\n{result['stderr']}")
    return result


def dvc(*args):
    return [sys.executable, "-m", "dvc", *args]


def stage_names():
    """Stages in pipeline order, with each `foreach` expanded the way DVC names them."""
    stages = yaml.safe_load(Path("dvc.yaml").read_text())["stages"]
    models = yaml.safe_load(Path("params.yaml").read_text())["models"]
    for name, stage in stages.items():
        yield from ([f"{name}@{model}" for model in models] if "foreach" in stage else [name])


def cache_bytes(cache=Path(".dvc/cache")):
    return sum(f.stat().st_size for f in cache.rglob("*") if f.is_file())


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--noise-level", default="0.5", help="the experiment's noise level, one not yet run")
    parser.add_argument("--skip-experiment", action="store_true", help="leave out the cache measurement")
    args = parser.parse_args()
    if subprocess.run(["git", "status", "--porcelain"], capture_output=True, text=True, check=True).stdout.strip():
        sys.exit("benchmark: commit or stash your changes first: it reruns stages and restores the committed results")

    noop = [timed(*dvc("repro"))["seconds"] for _ in range(3)]
    print(f"no-op `dvc repro`: {statistics.median(noop):.2f} s (median of {', '.join(f'{s:.2f}' for s in noop)})")

    rows = [(stage, timed(*dvc("repro", "-f", "-s", stage))) for stage in stage_names()]
    total = sum(r["seconds"] for _, r in rows)
    print(f"\nEvery stage forced, one at a time: {total:.0f} s in all")
    print("| stage | wall time | share | peak memory |")
    print("| --- | --- | --- | --- |")
    for stage, r in rows:
        print(f"| `{stage}` | {r['seconds']:.1f} s | {100 * r['seconds'] / total:.0f}% | {r['peak_mib']:,.0f} MiB |")
    others = sum(r["seconds"] for stage, r in rows if not stage.startswith("train@"))
    print(f"stages other than train: {others:.1f} s, {100 * others / total:.0f}% of the total")

    if not args.skip_experiment:
        before = cache_bytes()
        started = time.perf_counter()
        timed(*dvc("exp", "run", "-S", f"noise_level={args.noise_level}"))
        added = cache_bytes() - before
        print(f"\n`dvc exp run -S noise_level={args.noise_level}`: {time.perf_counter() - started:.0f} s, "
              f"adds {added / 2**20:.1f} MiB ({added / 1e6:.1f} MB) to .dvc/cache")
        # Back to the committed results in the workspace; the experiment stays in `dvc exp show`.
        subprocess.run(["git", "checkout", "--", "."], check=True)
        subprocess.run(dvc("checkout", "-q"), check=True)


if __name__ == "__main__":
    main()
