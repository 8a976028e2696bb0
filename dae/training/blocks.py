"""Training a block of batches per call, each block one XLA-compiled program."""

import keras
import tensorflow as tf

# At most this many batches are trained per compiled call (see BlockTraining). Larger blocks were no
# faster, and each holds more data in flight: 55 batches of 100 images took about 170 MiB more memory.
MAX_BATCHES_PER_BLOCK = 25


def batches_per_block(batches_per_epoch, limit=MAX_BATCHES_PER_BLOCK):
    """The largest divisor of `batches_per_epoch` up to `limit`, so that blocks never straddle an epoch."""
    return max(k for k in range(1, min(limit, batches_per_epoch) + 1) if batches_per_epoch % k == 0)


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
