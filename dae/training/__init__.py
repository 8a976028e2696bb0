"""Training an autoencoder on noisy inputs against clean targets: `train_autoencoder`.

Its parts: `stream` (the tf.data stream of noisy and clean batches), `blocks` (a block of
batches per XLA-compiled call), `resume` (a killed run resumed after its last finished epoch)
and `history` (the costs of every epoch).
"""

import keras
import tensorflow as tf

from dae.models import build_autoencoder, compile_autoencoder
from dae.training.blocks import BlockTraining, batches_per_block
from dae.training.resume import EpochBackup
from dae.training.stream import training_blocks, validation_batches


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
    `shift` pixels (see `stream.shifted`), its kernels decayed by `weight_decay` (see
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
        validation_data=validation_batches(validation),
        shuffle=False,  # the blocks come shuffled already
        callbacks=callbacks,
        verbose=0,
    )
    return model, (backup.history if backup is not None else history.history)
