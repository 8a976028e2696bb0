"""Seconds per training epoch of one model, with and without TensorFlow's op determinism.

Run from the project root after `dvc repro prepare noise`:
    python -m benchmarks.epoch_time [model] [epochs]
Each setting runs in its own process, since op determinism cannot be turned off once on.
"""

import subprocess
import sys

CHILD = """
import sys, time
import keras, tensorflow as tf, yaml
from dae import noise
from dae.files import load_arrays
from dae.training import train_autoencoder

model, epochs, deterministic = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "on"
if not deterministic:
    tf.config.experimental.enable_op_determinism = lambda: None  # train_autoencoder turns it on
params = yaml.safe_load(open("params.yaml"))
clean = noise.to_unit(load_arrays("data/prepared/train.npz")["images"])
validation = (
    load_arrays("data/noisy/validation.npz")["images"].astype("float32"),
    noise.to_unit(load_arrays("data/prepared/validation.npz")["images"]),
)
times = []
class Clock(keras.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.perf_counter()
    def on_epoch_end(self, epoch, logs=None):
        times.append(time.perf_counter() - self.start)
train = params["train"]
train_autoencoder(
    clean, validation, encoder=params["models"][model]["encoder"], initializer=train["initializer"],
    learning_rate=train["learning_rate"], batch_size=train["batch_size"], epochs=epochs,
    noise_level=params["noise_level"], clip=params["noise"]["clip"], seed=params["seed"], callbacks=[Clock()],
)
best = min(times[1:] or times)  # the first epoch includes tracing
print(f"{model}, op determinism {sys.argv[3]}: {best:.2f} s an epoch (best of {len(times) - 1} after the first)")
"""


def main():
    model = sys.argv[1] if len(sys.argv) > 1 else "shallow"
    epochs = sys.argv[2] if len(sys.argv) > 2 else "4"
    for setting in ("on", "off"):
        subprocess.run([sys.executable, "-c", CHILD, model, epochs, setting], check=True)


if __name__ == "__main__":
    main()
