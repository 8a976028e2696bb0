"""Seconds per training epoch of one model, with and without TensorFlow's op determinism.

Run from the project root after `dvc repro prepare noise`:
    python -m benchmarks.epoch_time [model] [epochs]
Each setting runs in its own process, since op determinism cannot be turned off once on.
"""

import subprocess
import sys

CHILD = """
import sys, time
import keras, tensorflow as tf
from dae.training import train_autoencoder
from stages.train import load_training_data, read_params

model, epochs, deterministic = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "on"
if not deterministic:
    tf.config.experimental.enable_op_determinism = lambda: None  # train_autoencoder turns it on
config = read_params(model)  # the train stage's own params and data, all but the epochs
config["epochs"] = epochs
clean, validation, config["stored_noisy"] = load_training_data(config.pop("stored_noise"))
times = []
class Clock(keras.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.perf_counter()
    def on_epoch_end(self, epoch, logs=None):
        times.append(time.perf_counter() - self.start)
train_autoencoder(clean, validation, callbacks=[Clock()], **config)
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
