"""The training stream: noisy and clean batches of the training images, drawn by tf.data."""

import numpy as np
import tensorflow as tf

from dae.models import INPUT_SIZE, SIDE
from dae.process import usable_cores


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
    return with_stream_options((batches if block is None else batches.batch(block)).prefetch(1))


def validation_batches(validation, batch_size=1000):
    """The (noisy, clean) validation images in batches of `batch_size` for Keras's validation
    pass: the same costs as Keras's own batching of the arrays, run as the training stream is (`with_stream_options`)."""
    return with_stream_options(tf.data.Dataset.from_tensor_slices(tuple(validation)).batch(batch_size))  # a list would stack


def stream_threads(cores):
    """Threads for the input streams: half the cores, at least one. The training step keeps the
    rest busy; on a 2-core Xeon, one thread made epochs 2 to 5% faster than TensorFlow's default
    of all the cores (more cores were not measured)."""
    return max(1, cores // 2)


def with_stream_options(dataset):
    """`dataset` as the training and validation streams run: without tf.data's autotuning, on
    `stream_threads` threads of tf.data's own.

    Autotuning gains these streams nothing (no AUTOTUNE in them; for validation it would only add a
    prefetch), but its thread sleeps ever longer between rounds, up to a minute, and deleting an
    iterator could wait out its sleep: at the end of training that took 15 to 19 s in about half
    the runs; after each epoch's validation pass, up to 20 ms. The threads keep the noise's
    arithmetic (mostly its normal draws) off the cores the training step uses; the numbers are the
    same on any number of them, as the generator is keyed by batch.
    """
    threads = stream_threads(usable_cores())
    options = tf.data.Options()
    options.autotune.enabled = False
    options.threading.private_threadpool_size = threads
    options.threading.max_intra_op_parallelism = threads
    return dataset.with_options(options)


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
