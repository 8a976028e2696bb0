"""The costs of every epoch: printed, logged with dvclive, moved into place once training is done."""

import os
import shutil
from pathlib import Path

import keras


class CostLog(keras.callbacks.Callback):
    """Prints one line an epoch in the reference's style and logs both costs with dvclive."""

    def __init__(self, live=None):
        super().__init__()
        self.live = live

    def on_epoch_end(self, epoch, logs=None):
        cost, val_cost = logs["loss"], logs["val_loss"]
        print(f"Epoch: {epoch + 1} cost: {cost:.6f} val_cost: {val_cost:.6f}", flush=True)
        if self.live is not None:
            # Steps in the plots are epochs, counted from 1. No `next_step()`: it would rewrite
            # the summary (metrics.json) every epoch, so a killed run would leave one that looks
            # final; the stage writes it once, with `live.end()`, after saving the model.
            self.live.step = epoch + 1
            self.live.log_metric("train/cost", cost)
            self.live.log_metric("val/cost", val_cost)


def move_history(source, dest):
    """Move a dvclive folder's plots, then its summary (metrics.json), into `dest`: once the
    summary is there, the whole history is."""
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(dest / "plots", ignore_errors=True)
    os.replace(Path(source) / "plots", dest / "plots")
    os.replace(Path(source) / "metrics.json", dest / "metrics.json")
