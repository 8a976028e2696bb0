"""How lean the pipeline is: the figures of the README's performance section, measured here.

Run from the project root after a `dvc repro` (it reruns stages and one experiment):
    python -m benchmarks.pipeline [--noise-level 0.5] [--skip-experiment]

Prints, for the workspace's params:
- the wall time of a no-op `dvc repro` (median of three);
- one full forced `dvc repro -f`: each stage's wall time (from DVC's `Running stage` line to the
  next, so DVC's own hashing and caching of its outputs count with it), its share of the total,
  and the peak resident memory of its process (the kernel's high-water mark, VmHWM, read every
  0.05 s);
- how much one `dvc exp run -S noise_level=...` adds to DVC's cache (`.dvc/cache`).
"""

import argparse
import json
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

from dae import params as p

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


def stage_of(command):
    """The dvc.yaml stage a `python -m stages.<name> [model]` command line runs, as DVC names it."""
    if "-m" in command and command.index("-m") + 1 < len(command):
        module = command[command.index("-m") + 1]
        if module.startswith("stages."):
            return "@".join([module.removeprefix("stages."), *command[command.index("-m") + 2 :]])
    return None


def processes():
    """(pid, parent pid, command line) of every process, from Linux's /proc."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                yield int(entry.name), parent, (entry / "cmdline").read_text().split("\0")[:-1]
            except (OSError, IndexError, ValueError):
                pass  # it ended while being read


def high_water_mib(pid):
    """The peak resident memory of a live process so far (Linux's VmHWM)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def full_run():
    """`dvc repro -f`, timed stage by stage from its output, with each stage's peak memory."""
    started = time.perf_counter()
    proc = subprocess.Popen(dvc("repro", "-f"), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    marks, peaks, lines = [], {}, []

    def read():
        for line in proc.stdout:
            lines.append(line)
            if line.startswith("Running stage '"):
                marks.append((line.split("'")[1], time.perf_counter()))

    reader = threading.Thread(target=read)
    reader.start()
    while proc.poll() is None:
        table = list(processes())
        tree = {proc.pid}
        for _ in range(4):  # dvc, its shell, the stage: a few generations deep
            tree |= {pid for pid, parent, _ in table if parent in tree}
        for pid, _, command in table:
            stage = stage_of(command) if pid in tree else None
            try:
                if stage:
                    peaks[stage] = max(peaks.get(stage, 0.0), high_water_mib(pid))
            except OSError:
                pass  # it ended between the listing and the reading
        time.sleep(0.05)
    reader.join()
    ended = time.perf_counter()
    if proc.returncode:
        sys.exit("`dvc repro -f` failed:\n" + "".join(lines[-30:]))
    ends = [at for _, at in marks[1:]] + [ended]
    rows = [(stage, end - begin, peaks.get(stage, 0.0)) for (stage, begin), end in zip(marks, ends)]
    return rows, ended - started


def cache_bytes(cache=Path(".dvc/cache")):
    return sum(f.stat().st_size for f in cache.rglob("*") if f.is_file())


def main():
    parser = argparse.ArgumentParser(prog="python -m benchmarks.pipeline", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--noise-level", type=float, default=0.5, help="the experiment's noise level, one not yet run")
    parser.add_argument("--skip-experiment", action="store_true", help="leave out the cache measurement")
    args = parser.parse_args()
    if not args.skip_experiment:  # checked now, not after the minutes of the full run
        try:
            noise_type, level, _ = p.noise(p.load_params())
        except p.ParamError as error:
            sys.exit(f"benchmark: {error}")
        high = p.max_noise_level(noise_type)
        if not 0 <= args.noise_level <= high or args.noise_level == level:
            parser.error(f"--noise-level {args.noise_level:g} is invalid: expected a level of {noise_type} noise from 0 to {high:g} other than params.yaml's {level:g}")
    if subprocess.run(["git", "status", "--porcelain"], capture_output=True, text=True, check=True).stdout.strip():
        sys.exit("benchmark: commit or stash your changes first: it reruns stages and restores the committed results")

    # Otherwise the first "no-op" would rerun the changed stages (as on a CPU whose training rounds
    # differ from the one that wrote dvc.lock: see the README's "What reproduces where").
    changed = json.loads(subprocess.run(dvc("status", "--json"), capture_output=True, text=True, check=True).stdout)
    if changed:
        sys.exit(f"benchmark: `dvc status` shows changes in {', '.join(changed)}: the workspace's outputs must be "
                 "those of dvc.lock before a no-op can be timed: run `dvc repro` first (on another CPU than the one of "
                 "the committed results, then commit its dvc.lock on a throwaway branch and run this there)")
    noop = [timed(*dvc("repro"))["seconds"] for _ in range(3)]
    print(f"no-op `dvc repro`: {statistics.median(noop):.2f} s (median of {', '.join(f'{s:.2f}' for s in noop)})")

    rows, total = full_run()
    print(f"\nA full forced `dvc repro -f`: {total:.0f} s in all, {total - sum(r[1] for r in rows):.1f} s of it before the first stage")
    print("| stage | wall time | share | peak memory |")
    print("| --- | --- | --- | --- |")
    for stage, seconds, peak in rows:
        print(f"| `{stage}` | {seconds:.1f} s | {100 * seconds / total:.1f}% | {peak:,.0f} MiB |")
    others = total - sum(seconds for stage, seconds, _ in rows if stage.startswith("train@"))
    print(f"everything but train (DVC's start included): {others:.1f} s, {100 * others / total:.1f}% of the total")

    if not args.skip_experiment:
        before = cache_bytes()
        started = time.perf_counter()
        try:
            timed(*dvc("exp", "run", "-S", f"noise_level={args.noise_level:g}"))
        finally:  # back to the committed results in the workspace, even after a failed run
            subprocess.run(["git", "checkout", "--", "."], check=True)
            subprocess.run(dvc("checkout", "-q"), check=True)
        added = cache_bytes() - before  # the experiment stays in `dvc exp show`, its outputs in the cache
        print(f"\n`dvc exp run -S noise_level={args.noise_level:g}`: {time.perf_counter() - started:.0f} s, "
              f"adds {added / 2**20:.1f} MiB ({added / 1e6:.1f} MB) to .dvc/cache")


if __name__ == "__main__":
    main()
