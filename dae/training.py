"""Training an autoencoder on noisy inputs against clean targets."""

import glob
import hashlib
import json
import os
import re
import shutil
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from dae.files import atomic_path
from dae.models import INPUT_SIZE, SIDE, build_autoencoder, compile_autoencoder

# At most this many batches are trained per compiled call (see BlockTraining). Larger blocks were no
# faster, and each holds more data in flight: 55 batches of 100 images took about 170 MiB more memory.
MAX_BATCHES_PER_BLOCK = 25


def batches_per_block(batches_per_epoch, limit=MAX_BATCHES_PER_BLOCK):
    """The largest divisor of `batches_per_epoch` up to `limit`, so that blocks never straddle an epoch."""
    return max(k for k in range(1, min(limit, batches_per_epoch) + 1) if batches_per_epoch % k == 0)


def training_blocks(
    images, batch_size, noise_level, seed, clip=False, stored_noisy=None, block=1, start=0, noise_type="gaussian", shift=0
):
    """An endless tf.data stream of (noisy, clean) blocks of shape [block, batch_size, 784]
    (with `block=None`, of plain batches of shape [batch_size, 784]).

    `images` are the uint8 training images; a batch holds them as `noise.to_unit` does, in
    [0, 1]. They stay uint8 until then, a quarter of the memory of float32 copies.

    Every epoch visits the images in a new order. Noise of `noise_type` is drawn afresh for every
    batch, as the reference did, unless a stored noisy copy of the images is given: batch k's noise comes
    from a stateless generator keyed by (seed, k), so the stream is the same on every run,
    however far ahead tf.data prefetches, and whatever the block size. `batch_size` must divide
    the number of images, so that no batch spans two epochs. `start` skips that many batches
    (before any noise is drawn): a resumed run goes on with the very batches it would have had.
    With `shift`, each clean image is first moved by up to that many pixels each way (`shifted`).
    """
    count = len(images)
    if images.dtype != np.uint8:
        raise ValueError(f"expected uint8 training images, got {images.dtype}")
    if stored_noisy is not None and stored_noisy.shape != (count, INPUT_SIZE):
        raise ValueError(f"expected a stored noisy copy of shape ({count}, {INPUT_SIZE}), got {stored_noisy.shape}")
    if isinstance(shift, bool) or not isinstance(shift, int) or not 0 <= shift < SIDE // 2:
        raise ValueError(f"expected a shift of 0 to {SIDE // 2 - 1} pixels, got {shift!r}")
    if shift and stored_noisy is not None:
        raise ValueError("a stored noisy copy is of the images as they are: it cannot be shifted")
    if count % batch_size or (count // batch_size) % (block or 1):
        raise ValueError(f"{count} images do not split into blocks of {block} batches of {batch_size}")
    images = tf.constant(images.reshape(count, -1))
    stored_noisy = None if stored_noisy is None else tf.constant(stored_noisy)

    def noisy_and_clean(number, index):
        targets = tf.cast(tf.gather(images, index), tf.float32) / 255.0  # as noise.to_unit
        if stored_noisy is not None:
            return tf.cast(tf.gather(stored_noisy, index), tf.float32), targets
        key = tf.stack([tf.constant(seed, tf.int64), number])
        if shift:
            targets = shifted(targets, shift, tf.random.experimental.stateless_fold_in(key, 1))
        return corrupt(targets, noise_type, noise_level, key, clip), targets

    def epochs(_=None):
        order = tf.data.Dataset.range(count).shuffle(count, seed=seed, reshuffle_each_iteration=True)
        return order.repeat()

    # Plain batches feed a distributed model, and Keras opens a distributed stream twice (to read
    # its shapes, then to train): the order is built afresh for each iterator, which otherwise
    # would start with the next epoch's. Not for blocks (one iterator): it costs a fifth of the speed.
    orders = epochs() if block else tf.data.Dataset.range(1).flat_map(epochs)
    batches = orders.batch(batch_size).enumerate().skip(start).map(noisy_and_clean)
    return (batches if block is None else batches.batch(block)).prefetch(1)


def shifted(images, shift, key):
    """Flat 28x28 `images`, each moved by its own whole number of pixels from -`shift` to `shift`
    down and across (from a stateless generator keyed by `key`), the uncovered border black.

    An augmentation: a dense model sees every digit at slightly different places, meant to keep
    it from learning the training digits by heart (in the README's search for a best model it did
    not pay within the time allowed: a shift of 1 raised the test cost). Ink moved past the
    border is lost: MNIST centres each digit by its centre of mass, not by its box, so some
    digits reach near the edge (of the 55,000 training digits, a move of 1 pixel into the worst
    corner crops ink of 1.3%, of 2 pixels 11%, of 4 pixels 62%).
    """
    count = tf.shape(images)[0]
    height = width = SIDE
    padded = tf.pad(tf.reshape(images, [count, height, width]), [[0, 0], [shift, shift], [shift, shift]])
    # Where each image's window starts in the padded image: `shift` is no move at all.
    starts = tf.random.stateless_uniform([count, 2], seed=key, minval=0, maxval=2 * shift + 1, dtype=tf.int32)
    rows = starts[:, :1] + tf.range(height)[tf.newaxis]
    columns = starts[:, 1:] + tf.range(width)[tf.newaxis]
    window = tf.gather(tf.gather(padded, rows, axis=1, batch_dims=1), columns, axis=2, batch_dims=1)
    return tf.reshape(window, [count, height * width])


def corrupt(clean, noise_type, noise_level, key, clip=False):
    """dae.noise.corrupt in TensorFlow, its random numbers from a stateless generator keyed by `key`."""
    if noise_type == "gaussian":
        noisy = clean + noise_level * tf.random.stateless_normal(tf.shape(clean), seed=key)
        return tf.clip_by_value(noisy, 0.0, 1.0) if clip else noisy
    draws = tf.random.stateless_uniform(tf.shape(clean), seed=key)
    return corrupt_with(clean, noise_type, noise_level, draws)


def corrupt_with(clean, noise_type, noise_level, draws):
    """Masking or salt and pepper from uniform `draws`, as dae.noise.corrupt (a test compares them)."""
    corrupted = draws < noise_level
    if noise_type == "masking":
        return tf.where(corrupted, tf.zeros_like(clean), clean)
    if noise_type == "salt_and_pepper":
        return tf.where(corrupted, tf.cast(draws >= noise_level / 2, clean.dtype), clean)
    raise ValueError(f"unknown noise type {noise_type!r}")


class BlockTraining(keras.Model):
    """Fits `autoencoder` a block of batches at a time, each block one XLA-compiled program.

    Keras turns `jit_compile` off whenever op determinism is on (some XLA ops lack a
    deterministic GPU kernel), and even with `steps_per_execution` it launches one compiled
    program per batch, which for models this small costs a good part of the arithmetic. So the
    loop over a block's batches is compiled here, as one program: the same steps, batch after
    batch, in the same order (a test compares them with Keras's own), and on a CPU as
    deterministic (a test checks bit-identical reruns).
    """

    def __init__(self, autoencoder, **kwargs):
        super().__init__(**kwargs)
        self.autoencoder = autoencoder

    def call(self, inputs, training=False):
        return self.autoencoder(inputs, training=training)

    @tf.function(jit_compile=True)
    def train_step(self, data):
        noisy, clean = data
        for step in tf.range(tf.shape(noisy)[0]):
            keras.Model.train_step(self, (noisy[step], clean[step]))
        return self.get_metrics_result()


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
        """Load the last saved epoch into the compiled `trainer`; return the number of epochs it had done.

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


def move_history(source, dest):
    """Move a dvclive folder's plots, then its summary (metrics.json), into `dest`: once the
    summary is there, the whole history is."""
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(dest / "plots", ignore_errors=True)
    os.replace(Path(source) / "plots", dest / "plots")
    os.replace(Path(source) / "metrics.json", dest / "metrics.json")


def strategy():
    """Mirrored over every GPU when there are several, else TensorFlow's default (one device)."""
    if len(tf.config.list_logical_devices("GPU")) > 1:
        return tf.distribute.MirroredStrategy()
    return tf.distribute.get_strategy()


# How the learning rate changes over training (params.yaml `train.schedule`).
SCHEDULES = ("constant", "cosine")


def learning_rate_schedule(learning_rate, schedule, steps):
    """`constant`: `learning_rate` throughout, as the reference; `cosine`: from `learning_rate`
    down to 0 at the last of `steps` along half a cosine (Loshchilov and Hutter, SGDR, 2017)."""
    if schedule == "constant":
        return learning_rate
    if schedule == "cosine":
        return keras.optimizers.schedules.CosineDecay(learning_rate, decay_steps=steps)
    raise ValueError(f"unknown learning rate schedule {schedule!r}: expected one of {', '.join(SCHEDULES)}")


def train_autoencoder(
    images, validation, *, encoder, initializer, learning_rate, batch_size, epochs, noise_level, clip, seed,
    noise_type="gaussian", type="dense", activation="sigmoid", schedule="constant", shift=0, weight_decay=0.0, stored_noisy=None,
    name="autoencoder",
    callbacks=(), backup=None, distribute=None,
):
    """Build and fit one autoencoder on uint8 `images`; `validation` is (noisy, clean) in [0, 1].

    The model is `build_autoencoder(encoder, initializer, type=type, activation=activation)`, its
    inputs noisy with `noise_type` at `noise_level` (see `training_blocks`), its learning rate
    changing by `schedule` (see `learning_rate_schedule`), its training images moved by up to
    `shift` pixels (see `shifted`), its kernels decayed by `weight_decay` (see
    `compile_autoencoder`). Returns the model and
    its history. With `backup`, a folder kept for these very arguments,
    training resumes after the last epoch saved there and gives the same weights as a run that
    was never stopped; the callbacks see the saved epochs' `on_epoch_end` again first.

    Seeds Keras, NumPy and Python from `seed` and turns on TensorFlow's op determinism, so the
    same arguments on the same machine give the same weights, bit for bit.

    The model is built in the scope of the tf.distribute strategy `distribute` (default:
    `strategy()`). With several replicas, Keras splits each batch between them and averages
    their gradients, one batch per step (a block of batches would be split between them instead);
    conv models too train one batch per step, by Keras alone.
    """
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()
    distribute = distribute or strategy()
    batches = len(images) // batch_size
    # Blocks of compiled steps for dense models on one device only. XLA compiles a CPU's
    # convolutions to far slower code than TensorFlow's own (oneDNN) kernels; conv models take
    # Keras's own steps on a GPU too (not timed there).
    single = distribute.num_replicas_in_sync == 1
    block = batches_per_block(batches) if single and type == "dense" else None
    if batch_size % distribute.num_replicas_in_sync:
        raise ValueError(f"a batch of {batch_size} does not split evenly between {distribute.num_replicas_in_sync} replicas")
    callbacks = list(callbacks)
    done = 0
    with distribute.scope():
        model = build_autoencoder(encoder, initializer, name=name, type=type, activation=activation)
        trainer = model if block is None else BlockTraining(model, name=f"{model.name}_training")
        compile_autoencoder(trainer, learning_rate_schedule(learning_rate, schedule, epochs * batches), weight_decay)
        if backup is not None:
            backup = EpochBackup(backup)
            done = backup.restore(trainer)
    if backup is not None:
        replay = keras.callbacks.CallbackList(callbacks, model=trainer)
        for epoch in range(done):
            replay.on_epoch_end(epoch, {key: values[epoch] for key, values in backup.history.items()})
        callbacks.append(backup)
    history = trainer.fit(
        training_blocks(images, batch_size, noise_level, seed, clip, stored_noisy, block, done * batches, noise_type, shift),
        steps_per_epoch=batches // (block or 1),
        initial_epoch=done,
        epochs=epochs,
        validation_data=validation,
        validation_batch_size=1000,  # forward passes only: the cost is the mean over all images either way
        shuffle=False,  # the blocks come shuffled already
        callbacks=callbacks,
        verbose=0,
    )
    return model, (backup.history if backup is not None else history.history)
