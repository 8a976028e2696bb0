"""Training an autoencoder on noisy inputs against clean targets."""

import math

import keras

from dae.noise import add_noise


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
            inputs = noisy[index] if noisy is not None else add_noise(targets, noise_level, generator, clip)
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


def fit(model, batches, num_train, batch_size, epochs, validation, callbacks=()):
    """Train for `epochs` passes over `num_train` images; returns the Keras history."""
    return model.fit(
        batches,
        steps_per_epoch=math.ceil(num_train / batch_size),
        epochs=epochs,
        validation_data=validation,
        validation_batch_size=batch_size,
        callbacks=list(callbacks),
        verbose=0,
    )
