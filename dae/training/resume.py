"""Resuming a killed run after its last finished epoch."""

import glob
import hashlib
import json
import re
import shutil
from pathlib import Path

import keras

from dae.files import atomic_path
from dae.models import INPUT_SIZE


class EpochBackup(keras.callbacks.Callback):
    """Keeps the state of the last finished epoch in `folder`, so that a killed run resumes there.

    Like keras.callbacks.BackupAndRestore, but each epoch's files are whole or absent: the costs so
    far, then the weights with the optimizer's state, each written to a temporary file and renamed.
    (Keras's callback rewrites one weights file in place and records the epoch after it, so a kill
    between the two would resume from the wrong epoch.) The files are removed when training ends.
    """

    def __init__(self, folder):
        super().__init__()
        self.folder = Path(folder)
        self.history = {}

    def restore(self, trainer):
        """Load the last saved epoch into the compiled `trainer`, and say so; return the number of epochs it had done.

        A backup that cannot be read (a disk fault, an edit by hand) is said so and dropped, and
        training starts from the beginning: never a run that fails the same way every time.
        """
        saved = sorted(self.folder.glob("epoch-*.weights.h5"))
        if not saved:
            return 0
        epoch = int(saved[-1].name.split(".")[0].removeprefix("epoch-"))
        try:
            self.history = json.loads((self.folder / f"epoch-{epoch:05d}.json").read_text())
            if sorted(self.history) != ["loss", "val_loss"] or any(len(v) != epoch for v in self.history.values()):
                raise ValueError(f"expected the costs of {epoch} epochs")
            trainer.build((None, INPUT_SIZE))
            trainer.optimizer.build(trainer.trainable_variables)  # its state (Adam's moments, step count) is in the file too
            trainer.load_weights(saved[-1])
        except Exception as error:  # h5py, JSON, Keras: any of them means the backup is unusable
            print(f"{self.folder}: cannot resume from epoch {epoch} ({type(error).__name__}: {error}); training from the start")
            self.history = {}
            for broken in self.folder.glob("epoch-*"):
                broken.unlink()
            return 0
        print(f"{self.folder}: resuming an interrupted run after epoch {epoch}, its last finished one")
        return epoch

    def on_epoch_end(self, epoch, logs=None):
        for key, value in logs.items():
            self.history.setdefault(key, []).append(float(value))
        stem = self.folder / f"epoch-{epoch + 1:05d}"
        with atomic_path(stem.with_suffix(".json")) as tmp:
            tmp.write_text(json.dumps(self.history))
        with atomic_path(stem.with_suffix(".weights.h5")) as tmp:
            self.model.save_weights(tmp)
        for old in self.folder.glob("epoch-*"):
            if not old.name.startswith(stem.name):
                old.unlink()

    def on_train_end(self, logs=None):
        for saved in self.folder.glob("epoch-*"):
            saved.unlink()


def resume_folder(root, name, settings, files):
    """The folder under `root` for the finished epochs of one training run, named by all that
    decides them: `settings` (JSON values) and the bytes of `files` (inputs and code), so that a
    run never resumes another's state. Folders of earlier settings of the same model, which
    nothing can resume any more, are removed."""
    digest = hashlib.sha256(json.dumps(settings, sort_keys=True).encode())
    for path in files:
        digest.update(Path(path).read_bytes())
    folder = Path(root) / f"{name}-{digest.hexdigest()[:16]}"
    mine = re.compile(re.escape(name) + "-[0-9a-f]{16}")  # not `deep-2-...` for `deep`
    for other in Path(root).glob(f"{glob.escape(name)}-*"):
        if mine.fullmatch(other.name) and other != folder:
            shutil.rmtree(other, ignore_errors=True)
    return folder
