"""Training an autoencoder on noisy inputs against clean targets."""

import math

import keras
import tensorflow as tf

from dae import noise
from dae.models import build_autoencoder, compile_autoencoder


def noisy_batches(clean, batch_size, noise_level, generator, clip=False, noisy=None):
    """Yield (noisy, clean) batches without end, in a new order every epoch.

    Noise is drawn afresh for every batch, as the reference did, unless a stored `noisy` copy
    of `clean` is given. One sequential generator makes the stream the same on every run,
    however far ahead Keras prefetches.
    """
    while True:
        order = generator.permutation(len(clean))
        for start in range(0, len(clean), batch_size):
            index = order[start : start + batch_size]
            targets = clean[index]
            inputs = noisy[index] if noisy is not None else noise.add_noise(targets, noise_level, generator, clip)
            yield inputs, targets


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
    clean, validation, *, encoder, initializer, learning_rate, batch_size, epochs,
    noise_level, clip, seed, stored_noisy=None, name="autoencoder", callbacks=(),
):
    """Build and fit one autoencoder; `validation` is (noisy, clean). Returns the trained model.

    Seeds Keras, NumPy and Python from `seed` and turns on TensorFlow's op determinism, so the
    same arguments on the same machine give the same weights, bit for bit.
    """
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()
    model = compile_autoencoder(build_autoencoder(encoder, initializer, name=name), learning_rate)
    batches = noisy_batches(
        clean, batch_size, noise_level, noise.rng(seed, "training_batches"), clip, noisy=stored_noisy
    )
    model.fit(
        batches,
        steps_per_epoch=math.ceil(len(clean) / batch_size),
        epochs=epochs,
        shuffle=False,  # the batches come shuffled already
        validation_data=validation,
        validation_batch_size=batch_size,
        callbacks=list(callbacks),
        verbose=0,
    )
    return model
