"""Training throughput, side by side: this project's training against the reference's own loop.

Run from the project root after `dvc repro prepare`:
    python -m benchmarks.train_speed [--epochs 3] [--rounds 2] [--models NAME ...]

For each dense model of params.yaml, or those named by --models (the reference's loop has no
conv counterpart), at the reference's settings (batch 100, Adam 0.01, Gaussian noise 0.6 drawn
afresh per batch, the 55,000 training images), each measurement runs in its own process, ours
and the reference's alternating, so that drift on a shared machine hits both. The first epoch of each
run (tracing and compiling) is left out. Prints a table: seconds per epoch (best run), images
per second, the ratio of the two, the achieved GFLOP/s and the peak resident memory.
"""

import argparse
import json
import platform
import statistics
import subprocess
import sys
from pathlib import Path

from dae import params as p
from dae.files import atomic_path
from dae.process import usable_cores

TRAIN = Path("data/prepared/train.npz")
VALIDATION = Path("data/prepared/validation.npz")
SETTINGS = dict(batch_size=100, learning_rate=0.01, noise_level=0.6, seed=0)

# One child process per measurement; each ends with this JSON line: its epoch times without
# the first, and its peak resident memory (ru_maxrss is in bytes on macOS, KiB elsewhere).
# Each child sets up its process as the stages do (dae.process: NumPy's BLAS settings, TensorFlow's
# log level, the imports kept out of the garbage collector's reach), ours and the reference's alike.
REPORT = """
import json, resource, sys
from dae.process import frozen_imports, setup_entry_point
setup_entry_point()
def report(times, images):
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / (2**20 if sys.platform == "darwin" else 1024)
    return json.dumps({"epoch_s": times[1:], "images": images, "peak_mib": peak})
"""

OURS = REPORT + """
import json, sys, time
with frozen_imports():
    import keras
    from dae import noise
    from dae.files import load_arrays
    from dae.training import train_autoencoder

encoder, epochs, settings = json.loads(sys.argv[1]), int(sys.argv[2]), json.loads(sys.argv[3])
images = load_arrays(sys.argv[4])["images"]
validation_clean = noise.to_unit(load_arrays(sys.argv[5])["images"])
validation = (noise.add_noise(validation_clean, settings["noise_level"], noise.rng(0, "validation")), validation_clean)
times = []
class Clock(keras.callbacks.Callback):  # the training part of an epoch, not the validation after it
    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.perf_counter()
    def on_test_begin(self, logs=None):
        times.append(time.perf_counter() - self.start)
train_autoencoder(images, validation, encoder=encoder, initializer="reference_uniform", epochs=epochs,
                  clip=False, callbacks=[Clock()], **settings)
print(report(times, len(images)))
"""

# The reference's loop as it was written: TensorFlow 1 graph, placeholders, Session.run with
# feed_dict, noise drawn with NumPy for every batch, Adam on the MSE, op determinism on as ours.
REFERENCE = REPORT + """
import json, sys, time
with frozen_imports():
    import numpy as np
    import tensorflow as tf
    from dae import noise
    from dae.files import load_arrays

tf.compat.v1.disable_eager_execution()
tf.config.experimental.enable_op_determinism()
encoder, epochs, settings = json.loads(sys.argv[1]), int(sys.argv[2]), json.loads(sys.argv[3])
clean = noise.to_unit(load_arrays(sys.argv[4])["images"])
sizes = [784, *encoder, *reversed(encoder[:-1]), 784]
tf.compat.v1.set_random_seed(settings["seed"])
x = tf.compat.v1.placeholder(tf.float32, [None, 784])
y = tf.compat.v1.placeholder(tf.float32, [None, 784])
layer = x
for n_in, n_out in zip(sizes[:-1], sizes[1:]):
    weights = tf.Variable(tf.random.uniform([n_in, n_out], -1, 1))
    biases = tf.Variable(tf.random.uniform([n_out], -1, 1))
    layer = tf.nn.sigmoid(tf.matmul(layer, weights) + biases)
cost = tf.reduce_mean(tf.square(layer - y))
optimizer = tf.compat.v1.train.AdamOptimizer(settings["learning_rate"]).minimize(cost)
session = tf.compat.v1.Session()
session.run(tf.compat.v1.global_variables_initializer())
rng = np.random.default_rng(settings["seed"])
batch, times = settings["batch_size"], []
for epoch in range(epochs):
    start = time.perf_counter()
    order = rng.permutation(len(clean))
    for first in range(0, len(clean), batch):
        targets = clean[order[first:first + batch]]
        noisy = targets + settings["noise_level"] * rng.standard_normal(targets.shape)
        session.run([optimizer, cost], {x: noisy, y: targets})
    times.append(time.perf_counter() - start)
print(report(times, len(clean)))
"""


def flops_per_image(encoder):
    """FLOPs of one training step per image: two per multiply-add of the matmuls, forward and
    backward (two backward products a layer, one for the first, whose input needs no gradient)."""
    sizes = [784, *encoder, *reversed(encoder[:-1]), 784]
    products = [a * b for a, b in zip(sizes[:-1], sizes[1:])]
    return 2 * (3 * sum(products) - products[0])


def measure(code, encoder, epochs):
    result = subprocess.run(
        [sys.executable, "-c", code, json.dumps(encoder), str(epochs), json.dumps(SETTINGS), str(TRAIN), str(VALIDATION)],
        capture_output=True, text=True, check=False,
    )
    if result.returncode != 0:
        sys.exit(f"benchmark child failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def cpu_name():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def main():
    parser = argparse.ArgumentParser(prog="python -m benchmarks.train_speed", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=3, help="epochs per run, the first left out (default 3)")
    parser.add_argument("--rounds", type=int, default=2, help="runs of each, alternating (default 2)")
    parser.add_argument("--models", nargs="+", help="dense models of params.yaml (default: all of them)")
    parser.add_argument("--json", type=Path, help="also write the table as JSON to this file")
    args = parser.parse_args()
    if args.epochs < 2:
        parser.error("--epochs must be at least 2: the first epoch is left out")
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    if args.json and not args.json.parent.is_dir():  # now, not after the minutes of timing
        parser.error(f"--json {args.json}: no folder {args.json.parent} to write it in")
    try:
        params = p.load_params()
        types = {name: p.get(params, f"models.{name}").get("type", "dense") for name in p.model_names(params)}
        # The reference's loop trains dense layers: a conv model has no counterpart to time against.
        dense = {name: p.layer_sizes(params, f"models.{name}.encoder") for name, kind in types.items() if kind == "dense"}
    except p.ParamError as error:
        sys.exit(f"benchmark: {error}")
    unknown = [name for name in args.models or [] if name not in dense]
    if unknown:
        parser.error(f"--models {', '.join(unknown)}: not a dense model of params.yaml `models` (its dense models: {', '.join(dense)})")
    left_out = [f"{name} (type {kind})" for name, kind in types.items() if kind != "dense"]
    if left_out and not args.models:
        print(f"benchmark: leaving out {', '.join(left_out)}: the reference's loop trains dense layers only")
    names = args.models or list(dense)
    if not TRAIN.exists():
        sys.exit(f"benchmark: {TRAIN} is missing: run `dvc repro prepare` first")

    rows = []
    for name in names:
        encoder = dense[name]
        runs = {"ours": [], "reference": []}
        for _ in range(args.rounds):
            for label, code in (("ours", OURS), ("reference", REFERENCE)):
                runs[label].append(measure(code, encoder, args.epochs))
        row = {"model": name, "encoder": encoder}
        for label, results in runs.items():
            epoch_s = min(t for r in results for t in r["epoch_s"])
            row[label] = {
                "epoch_s": epoch_s,
                "median_epoch_s": statistics.median(t for r in results for t in r["epoch_s"]),
                "images_per_s": results[0]["images"] / epoch_s,
                "gflops": results[0]["images"] * flops_per_image(encoder) / epoch_s / 1e9,
                "peak_mib": max(r["peak_mib"] for r in results),
            }
        row["speedup"] = row["reference"]["epoch_s"] / row["ours"]["epoch_s"]
        row["median_speedup"] = row["reference"]["median_epoch_s"] / row["ours"]["median_epoch_s"]
        rows.append(row)

    print(f"CPU: {cpu_name()}, {usable_cores()} cores; "
          f"{args.rounds} runs each of {args.epochs - 1} timed epochs, alternating")
    print("| model | loop | s / epoch (best) | s / epoch (median) | images / s | GFLOP/s | peak memory |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for row in rows:
        for label in ("ours", "reference"):
            r = row[label]
            print(f"| {row['model']} | {label} | {r['epoch_s']:.2f} | {r['median_epoch_s']:.2f} | "
                  f"{r['images_per_s']:,.0f} | {r['gflops']:.1f} | {r['peak_mib']:,.0f} MiB |")
    for row in rows:
        print(f"{row['model']}: ours is {row['speedup']:.2f}x the reference's throughput "
              f"(best epochs; {row['median_speedup']:.2f}x on medians)")
    if args.json:
        with atomic_path(args.json) as tmp:
            tmp.write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()
