"""Training an autoencoder on noisy inputs against clean targets."""

import keras
import numpy as np
import tensorflow as tf

from dae.models import INPUT_SIZE, build_autoencoder, compile_autoencoder

# At most this many batches are trained per compiled call (see BlockTraining).
MAX_BATCHES_PER_BLOCK = 64


def batches_per_block(batches_per_epoch, limit=MAX_BATCHES_PER_BLOCK):
    """The largest divisor of `batches_per_epoch` up to `limit`, so that blocks never straddle an epoch."""
    return max(k for k in range(1, min(limit, batches_per_epoch) + 1) if batches_per_epoch % k == 0)


def training_blocks(images, batch_size, noise_level, seed, clip=False, stored_noisy=None, block=1):
    """An endless tf.data stream of (noisy, clean) blocks of shape [block, batch_size, 784].

    `images` are the uint8 training images; a batch holds them as `noise.to_unit` does, in
    [0, 1]. They stay uint8 until then, a quarter of the memory of float32 copies.

    Every epoch visits the images in a new order. Noise is drawn afresh for every batch, as the
    reference did, unless a stored noisy copy of the images is given: batch k's noise comes
    from a stateless generator keyed by (seed, k), so the stream is the same on every run,
    however far ahead tf.data prefetches, and whatever the block size. `batch_size` must divide
    the number of images, so that no batch spans two epochs.
    """
    count = len(images)
    if images.dtype != np.uint8:
        raise ValueError(f"expected uint8 training images, got {images.dtype}")
    if stored_noisy is not None and stored_noisy.shape != (count, INPUT_SIZE):
        raise ValueError(f"expected a stored noisy copy of shape ({count}, {INPUT_SIZE}), got {stored_noisy.shape}")
    if count % batch_size or (count // batch_size) % block:
        raise ValueError(f"{count} images do not split into blocks of {block} batches of {batch_size}")
    images = tf.constant(images.reshape(count, -1))
    stored_noisy = None if stored_noisy is None else tf.constant(stored_noisy)

    def corrupt(number, index):
        targets = tf.cast(tf.gather(images, index), tf.float32) / 255.0  # as noise.to_unit
        if stored_noisy is not None:
            return tf.cast(tf.gather(stored_noisy, index), tf.float32), targets
        draws = tf.random.stateless_normal(tf.shape(targets), seed=tf.stack([tf.constant(seed, tf.int64), number]))
        noisy = targets + noise_level * draws
        return (tf.clip_by_value(noisy, 0.0, 1.0) if clip else noisy), targets

    order = tf.data.Dataset.range(count).shuffle(count, seed=seed, reshuffle_each_iteration=True)
    batches = order.repeat().batch(batch_size).enumerate().map(corrupt)
    return batches.batch(block).prefetch(1)


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
            self.live.step = epoch + 1  # steps in the plots are epochs, counted from 1
            self.live.log_metric("train/cost", cost)
            self.live.log_metric("val/cost", val_cost)
            self.live.next_step()


def train_autoencoder(
    images, validation, *, encoder, initializer, learning_rate, batch_size, epochs,
    noise_level, clip, seed, stored_noisy=None, name="autoencoder", callbacks=(),
):
    """Build and fit one autoencoder on uint8 `images`; `validation` is (noisy, clean) in [0, 1].

    Returns the model and its history.

    Seeds Keras, NumPy and Python from `seed` and turns on TensorFlow's op determinism, so the
    same arguments on the same machine give the same weights, bit for bit.
    """
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()
    model = build_autoencoder(encoder, initializer, name=name)
    batches = len(images) // batch_size
    block = batches_per_block(batches)
    trainer = BlockTraining(model, name=f"{model.name}_training")
    compile_autoencoder(trainer, learning_rate)
    history = trainer.fit(
        training_blocks(images, batch_size, noise_level, seed, clip, stored_noisy, block),
        steps_per_epoch=batches // block,
        epochs=epochs,
        validation_data=validation,
        validation_batch_size=1000,  # forward passes only: the cost is the mean over all images either way
        shuffle=False,  # the blocks come shuffled already
        callbacks=list(callbacks),
        verbose=0,
    )
    return model, history.history
