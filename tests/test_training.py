import functools
import json
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

import dae.training.stream
from dae import noise
from dae.models import build_autoencoder, compile_autoencoder
from dae.process import usable_cores
from dae.training import learning_rate_schedule, train_autoencoder
from dae.training.blocks import BlockTraining, batches_per_block
from dae.training.history import CostLog
from dae.training.resume import resume_folder
from dae.training.stream import corrupt_with, shifted, stream_threads, training_blocks, validation_batches


def digits(count, seed=0):
    """Stand-ins for digit images: ten bar-shaped templates in [0, 1] with a little jitter."""
    rng = np.random.default_rng(seed)
    templates = np.zeros((10, 28, 28), np.float32)
    for k in range(10):
        templates[k, 4 + 2 * k : 7 + 2 * k, 4:24] = 1.0
        templates[k, 4:24, 3 + 2 * k : 5 + 2 * k] = 1.0
    images = templates[rng.integers(0, 10, count)] * rng.uniform(0.8, 1.0, (count, 1, 1)).astype(np.float32)
    return images.reshape(count, 784)


def digit_bytes(count, seed=0):
    """`digits` as the uint8 images the training stage reads."""
    return np.round(digits(count, seed) * 255).astype(np.uint8).reshape(count, 28, 28)


def take_blocks(stream, count):
    return [tuple(part.numpy() for part in block) for block in stream.take(count)]


def sorted_rows(rows):
    return rows[np.lexsort(rows.T[::-1])]


def test_blocks_cover_every_image_once_an_epoch_with_fresh_noise():
    images = digit_bytes(300)
    clean = noise.to_unit(images)
    # 300 images, batches of 50: 6 batches an epoch, in blocks of 3.
    blocks = take_blocks(training_blocks(images, 50, 0.6, seed=0, block=3), 4)
    assert [noisy.shape for noisy, _ in blocks] == [(3, 50, 784)] * 4
    epochs = [np.concatenate([targets.reshape(-1, 784) for _, targets in blocks[i : i + 2]]) for i in (0, 2)]
    for seen in epochs:  # every image exactly once, converted exactly as noise.to_unit does
        np.testing.assert_array_equal(sorted_rows(seen), sorted_rows(clean))
    assert not np.array_equal(epochs[0], epochs[1])  # a new order every epoch
    draws = np.concatenate([(noisy - targets).reshape(-1, 784) for noisy, targets in blocks])
    assert abs(draws.std() - 0.6) < 0.01 and abs(draws.mean()) < 0.01
    # Fresh noise for every one of the 12 batches: no two batches' noise is alike.
    per_batch = draws.reshape(12, -1)
    correlation = np.corrcoef(per_batch) - np.eye(12)
    assert np.abs(correlation).max() < 0.05
    # The same seed gives the same stream, whatever the block size; another seed another one.
    again = take_blocks(training_blocks(images, 50, 0.6, seed=0, block=2), 6)
    for name, ours, theirs in (("noisy", blocks, again), ("clean", blocks, again)):
        part = 0 if name == "noisy" else 1
        np.testing.assert_array_equal(
            np.concatenate([b[part].reshape(-1, 784) for b in ours]),
            np.concatenate([b[part].reshape(-1, 784) for b in theirs]),
        )
    other = take_blocks(training_blocks(images, 50, 0.6, seed=1, block=3), 1)
    assert not np.array_equal(other[0][0], blocks[0][0])


def test_clipped_noise_stays_in_the_unit_interval():
    noisy, _ = take_blocks(training_blocks(digit_bytes(100), 50, 0.6, seed=0, clip=True), 1)[0]
    assert noisy.min() == 0.0 and noisy.max() == 1.0


@pytest.mark.parametrize("noise_type", ["masking", "salt_and_pepper"])
def test_corruption_in_tensorflow_is_the_same_as_in_numpy(noise_type):
    """Training draws its noise inside TensorFlow; from the same random numbers, it is the noise
    stage's, pixel for pixel."""
    clean = digits(20)
    draws = noise.draw(noise_type, clean.shape, noise.rng(0, "train"))
    for level in (0.0, 0.25, 0.5, 1.0):
        ours = corrupt_with(tf.constant(clean), noise_type, level, tf.constant(draws)).numpy()
        np.testing.assert_array_equal(ours, noise.corrupt(clean, noise_type, level, draws))


@pytest.mark.parametrize("noise_type", ["masking", "salt_and_pepper"])
def test_training_batches_carry_the_noise_type_asked_for(noise_type):
    blocks = take_blocks(training_blocks(digit_bytes(300), 50, 0.25, seed=0, block=3, noise_type=noise_type), 4)
    noisy, clean = (np.concatenate([block[part].reshape(-1, 784) for block in blocks]) for part in (0, 1))
    changed = noisy != clean
    replaced = np.unique(noisy[changed])
    assert set(replaced) == ({0.0} if noise_type == "masking" else {0.0, 1.0})
    # Where a corruption is visible at all (masking a dark pixel changes nothing), a quarter of the pixels.
    visible = clean > 0 if noise_type == "masking" else (clean > 0) & (clean < 1)
    assert abs(changed[visible].mean() - 0.25) < 0.02


def test_shifted_images_are_the_same_digits_moved_by_at_most_the_shift():
    images = digit_bytes(200)
    clean = noise.to_unit(images)
    key = tf.constant([0, 7], tf.int64)
    moved = shifted(tf.constant(clean), 2, key).numpy()
    assert moved.shape == clean.shape
    offsets = []
    for original, image in zip(clean.reshape(-1, 28, 28), moved.reshape(-1, 28, 28)):
        # the one move of at most 2 pixels each way that gives this image (the bars keep clear of the border)
        found = [
            (down, across)
            for down in range(-2, 3)
            for across in range(-2, 3)
            if np.array_equal(np.roll(original, (down, across), axis=(0, 1)), image)
        ]
        assert len(found) == 1
        offsets.append(found[0])
    assert len(set(offsets)) == 25  # every move of the 5 x 5 occurs among 200 images
    np.testing.assert_array_equal(shifted(tf.constant(clean), 2, key).numpy(), moved)  # stateless: same key, same moves
    assert not np.array_equal(shifted(tf.constant(clean), 2, tf.constant([0, 8], tf.int64)).numpy(), moved)


def test_a_shifted_stream_moves_the_clean_targets_and_adds_the_same_noise_to_them():
    images = digit_bytes(300)
    plain = take_blocks(training_blocks(images, 50, 0.6, seed=0, block=3), 2)
    moved = take_blocks(training_blocks(images, 50, 0.6, seed=0, block=3, shift=1), 2)
    for (noisy, targets), (moved_noisy, moved_targets) in zip(plain, moved):
        assert not np.array_equal(targets, moved_targets)
        # the same images in the same order, each moved by at most a pixel: the same ink
        np.testing.assert_allclose(targets.sum(axis=-1), moved_targets.sum(axis=-1), rtol=1e-5)
        # and the very noise of the unshifted stream
        np.testing.assert_allclose(moved_noisy - moved_targets, noisy - targets, atol=1e-6)
    with pytest.raises(ValueError, match="cannot be shifted"):
        training_blocks(images, 50, 0.6, seed=0, stored_noisy=np.zeros((300, 784), np.float16), shift=1)
    for wrong in (-1, 1.5, 14, True):
        with pytest.raises(ValueError, match="expected a shift of 0 to 13 pixels"):
            training_blocks(images, 50, 0.6, seed=0, shift=wrong)
    # plain batches (a conv model's, or several GPUs') are the same batches as blocks
    batches = take_blocks(training_blocks(images, 50, 0.6, seed=0, block=None, shift=1), 6)
    for part in (0, 1):
        np.testing.assert_array_equal(
            np.concatenate([b[part] for b in batches]), np.concatenate([b[part].reshape(-1, 784) for b in moved])
        )


def test_stored_noise_is_reused_instead_of_drawn():
    images = digit_bytes(20)
    stored = noise.to_unit(images) + 1.0
    noisy, targets = take_blocks(training_blocks(images, 20, 0.6, seed=0, stored_noisy=stored), 1)[0]
    np.testing.assert_array_equal(noisy, targets + 1.0)


def test_blocks_never_straddle_an_epoch():
    assert batches_per_block(550) == 25 and batches_per_block(550, limit=64) == 55
    assert batches_per_block(6) == 6 and batches_per_block(7) == 7 and batches_per_block(67) == 1
    with pytest.raises(ValueError, match="250 images do not split into blocks of 1 batches of 100"):
        training_blocks(digit_bytes(250), 100, 0.6, seed=0)
    with pytest.raises(ValueError, match="300 images do not split into blocks of 4 batches of 50"):
        training_blocks(digit_bytes(300), 50, 0.6, seed=0, block=4)


def test_blocks_refuse_images_that_are_not_uint8():
    with pytest.raises(ValueError, match="expected uint8 training images, got float32"):
        training_blocks(digits(100), 50, 0.6, seed=0)


def stream_options_are_set(dataset, threads=None):
    threads = threads or stream_threads(usable_cores())
    options = dataset.options()
    return (options.autotune.enabled, options.threading.private_threadpool_size, options.threading.max_intra_op_parallelism) == (False, threads, threads)


def test_the_streams_take_half_the_cores_at_least_one(monkeypatch):
    assert [stream_threads(cores) for cores in (1, 2, 3, 4, 16)] == [1, 1, 1, 2, 8]
    monkeypatch.setattr(dae.training.stream, "usable_cores", lambda: 16)
    assert stream_options_are_set(training_blocks(digit_bytes(300), 50, 0.6, seed=0, block=3), threads=8)


def test_training_and_validation_streams_run_on_threads_of_their_own_without_tf_data_autotuning():
    # Its thread sleeps up to a minute between rounds, and deleting an iterator waited out that
    # sleep: 15 to 19 s at the end of some trainings. Nothing in these streams is tuned by it.
    images = digit_bytes(300)
    validation = (digits(250, seed=1), digits(250, seed=2))
    for stream in (training_blocks(images, 50, 0.6, seed=0, block=3), training_blocks(images, 50, 0.6, seed=0, block=None)):
        assert stream_options_are_set(stream)
    assert stream_options_are_set(validation_batches(validation))


def test_the_stream_options_leave_the_batches_as_they_are(monkeypatch):
    # Batches of 1,000: enough for TensorFlow to split drawing their noise over threads where it may.
    images = digit_bytes(4000)
    ours = list(training_blocks(images, 1000, 0.6, seed=0, block=2).take(3).as_numpy_iterator())
    monkeypatch.setattr(dae.training.stream, "with_stream_options", lambda dataset: dataset)
    plain = training_blocks(images, 1000, 0.6, seed=0, block=2)
    assert not stream_options_are_set(plain)
    for (noisy, clean), (plain_noisy, plain_clean) in zip(ours, plain.take(3).as_numpy_iterator(), strict=True):
        assert noisy.tobytes() == plain_noisy.tobytes() and clean.tobytes() == plain_clean.tobytes()


def test_validation_batches_give_the_costs_of_keras_own_batching_of_the_arrays():
    keras.utils.set_random_seed(0)
    model = build_autoencoder([16])
    compile_autoencoder(model, 0.01)
    noisy, clean = digits(2500, seed=1), digits(2500, seed=2)  # two and a half batches of 1,000
    batches = [tuple(part.numpy() for part in batch) for batch in validation_batches((noisy, clean))]
    assert [len(batch[0]) for batch in batches] == [1000, 1000, 500]
    np.testing.assert_array_equal(np.concatenate([batch[0] for batch in batches]), noisy)
    np.testing.assert_array_equal(np.concatenate([batch[1] for batch in batches]), clean)
    assert model.evaluate(validation_batches((noisy, clean)), verbose=0) == model.evaluate(noisy, clean, batch_size=1000, verbose=0)


def test_a_block_of_steps_gives_the_weights_of_plain_keras_steps():
    """Block training computes what Keras's own fit computes, batch for batch."""
    keras.utils.set_random_seed(0)
    model = build_autoencoder([32, 16])
    initial = model.get_weights()
    clean = digits(50)
    noisy = noise.add_noise(clean, 0.6, noise.rng(0, "train"))
    plain = compile_autoencoder(keras.models.clone_model(model), 0.01)
    plain.set_weights(initial)
    plain.train_on_batch(noisy, clean)
    for _ in range(2):  # two steps: Adam's moments of the first step feed the second
        plain.train_on_batch(noisy[::-1], clean[::-1])
    blocks = compile_autoencoder(BlockTraining(model), 0.01)
    blocks.fit(
        tf.data.Dataset.from_tensors((np.stack([noisy, noisy[::-1], noisy[::-1]]), np.stack([clean, clean[::-1], clean[::-1]]))),
        shuffle=False,
        verbose=0,
    )
    for ours, keras_own in zip(model.get_weights(), plain.get_weights()):
        np.testing.assert_allclose(ours, keras_own, rtol=1e-5, atol=1e-6)
    assert not np.allclose(model.get_weights()[0], initial[0])


def short_run(seed=0, epochs=3, **overrides):
    images = digit_bytes(300)
    validation_clean = digits(100, seed=1)
    validation = (noise.add_noise(validation_clean, 0.6, noise.rng(0, "validation")), validation_clean)
    settings = dict(
        encoder=[32], initializer="reference_uniform", learning_rate=0.01, batch_size=50,
        epochs=epochs, noise_level=0.6, clip=False, seed=seed,
    )
    callbacks = [CostLog(), *overrides.pop("callbacks", [])]
    settings.update(overrides)
    return train_autoencoder(images, validation, callbacks=callbacks, **settings)


def test_short_training_lowers_the_cost(capsys):
    _, history = short_run(epochs=4)
    assert history["loss"][-1] < 0.8 * history["loss"][0]
    assert history["val_loss"][-1] < 0.8 * history["val_loss"][0]
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].startswith("Epoch: 1 cost: 0.") and " val_cost: 0." in printed[0]
    assert len(printed) == 4


def test_training_validates_on_batches_run_as_the_training_stream_is(monkeypatch):
    made = []

    def spy(validation, *args, **kwargs):
        made.append((validation, validation_batches(validation, *args, **kwargs)))
        return made[-1][1]

    monkeypatch.setattr(dae.training, "validation_batches", spy)
    short_run(epochs=1)
    (validation, dataset), = made
    assert len(validation[0]) == 100 and stream_options_are_set(dataset)


def test_cosine_schedule_decays_the_learning_rate_to_zero_by_the_last_step():
    assert learning_rate_schedule(0.01, "constant", 100) == 0.01
    cosine = learning_rate_schedule(0.01, "cosine", 100)
    assert [float(cosine(step)) for step in (0, 50, 100)] == pytest.approx([0.01, 0.005, 0.0], abs=1e-9)
    with pytest.raises(ValueError, match="unknown learning rate schedule 'linear'"):
        learning_rate_schedule(0.01, "linear", 100)


class LearningRates(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.rates = []

    def on_epoch_end(self, epoch, logs=None):
        self.rates.append(float(self.model.optimizer.learning_rate))


def test_training_with_the_cosine_schedule_ends_at_a_learning_rate_of_zero():
    rates = LearningRates()
    _, history = short_run(epochs=3, schedule="cosine", callbacks=[rates])
    assert history["loss"][-1] < 0.8 * history["loss"][0]
    # 300 images in batches of 50, 3 epochs: 18 steps, the rate after steps 6, 12 and 18.
    assert rates.rates == pytest.approx([0.01 * (1 + np.cos(np.pi * step / 18)) / 2 for step in (6, 12, 18)], abs=1e-7)


@pytest.mark.parametrize(
    "overrides",
    [
        {"type": "dense", "activation": "relu", "initializer": "glorot_uniform", "learning_rate": 0.001},
        {"type": "conv", "encoder": [4, 8], "activation": "relu", "initializer": "glorot_uniform", "learning_rate": 0.003},
        {"noise_type": "masking", "noise_level": 0.25},
        {"shift": 1},
        {"weight_decay": 0.05, "initializer": "glorot_uniform", "activation": "silu", "learning_rate": 0.003},
    ],
)
def test_each_model_type_and_noise_type_trains_and_lowers_the_cost(overrides):
    model, history = short_run(epochs=3, **overrides)
    assert history["loss"][-1] < 0.8 * history["loss"][0]
    assert model.input_shape == (None, 784) and model.output_shape == (None, 784)


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"encoder": [32, 16], "initializer": "glorot_uniform"},
        {"type": "conv", "encoder": [4, 8], "activation": "relu", "initializer": "glorot_uniform", "learning_rate": 0.003},
    ],
)
def test_identical_runs_give_identical_weights(overrides):
    first, first_history = short_run(epochs=2, **overrides)
    second, second_history = short_run(epochs=2, **overrides)
    assert first_history == second_history
    for a, b in zip(first.get_weights(), second.get_weights()):
        np.testing.assert_array_equal(a, b)
    other, _ = short_run(seed=1, epochs=2, **overrides)
    assert not np.array_equal(first.get_weights()[0], other.get_weights()[0])


def test_a_stream_started_later_gives_the_same_batches():
    images = digit_bytes(40)
    whole = take_blocks(training_blocks(images, batch_size=10, noise_level=0.6, seed=3), 7)
    later = take_blocks(training_blocks(images, batch_size=10, noise_level=0.6, seed=3, start=5), 2)
    for (noisy, clean), (noisy_later, clean_later) in zip(whole[5:], later):
        np.testing.assert_array_equal(noisy, noisy_later)
        np.testing.assert_array_equal(clean, clean_later)


def test_every_iterator_of_a_plain_batch_stream_starts_with_the_same_batches():
    """Keras opens a distributed stream twice (once for its shapes, once to train); each
    iterator must start with the first epoch's order, not continue the shuffle."""
    stream = training_blocks(digit_bytes(40), batch_size=10, noise_level=0.6, seed=3, block=None)
    first, second = take_blocks(stream, 6), take_blocks(stream, 6)
    for (noisy, clean), (noisy_again, clean_again) in zip(first, second):
        np.testing.assert_array_equal(noisy, noisy_again)
        np.testing.assert_array_equal(clean, clean_again)
    assert first[0][0].shape == (10, 784)  # plain batches, no block dimension
    assert not np.array_equal(sorted_rows(first[0][1]), sorted_rows(first[4][1]))  # yet a new order every epoch


# Two replicas on two logical CPUs: TensorFlow's devices are fixed once it starts, hence a process of its own.
MIRRORED = """
import json, sys
import numpy as np
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
from tests.test_training import short_run
mirrored = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
single, single_history = short_run(epochs=2)
model, history = short_run(epochs=2, distribute=mirrored)
print(json.dumps({
    "replicas": mirrored.num_replicas_in_sync,
    "variables": sorted({type(weight.value).__name__ for weight in model.weights}),
    "largest_difference": max(float(np.abs(a - b).max()) for a, b in zip(model.get_weights(), single.get_weights())),
    "history": history, "single_history": single_history,
}))
"""


def test_several_gpus_get_a_mirrored_strategy_one_device_the_default(monkeypatch):
    from dae import training

    monkeypatch.setattr(tf.distribute, "MirroredStrategy", lambda: "mirrored over every GPU")
    monkeypatch.setattr(tf.config, "list_logical_devices", lambda kind: ["GPU:0", "GPU:1"] if kind == "GPU" else ["CPU:0"])
    assert training.strategy() == "mirrored over every GPU"
    monkeypatch.setattr(tf.config, "list_logical_devices", lambda kind: ["GPU:0"] if kind == "GPU" else ["CPU:0"])
    assert training.strategy() is tf.distribute.get_strategy()


def test_training_under_a_mirrored_strategy_takes_the_same_steps():
    """Built in a MirroredStrategy's scope, the model's variables are mirrored and each batch is
    split between the replicas: the weights and costs are those of training on one device."""
    result = subprocess.run(
        [sys.executable, "-c", MIRRORED], cwd=Path(__file__).parents[1], capture_output=True, text=True, check=True
    )
    found = json.loads(result.stdout.splitlines()[-1])
    assert found["replicas"] == 2 and found["variables"] == ["MirroredVariable"]
    assert found["largest_difference"] < 1e-4
    for key in ("loss", "val_loss"):
        np.testing.assert_allclose(found["history"][key], found["single_history"][key], rtol=1e-5)
    assert found["history"]["loss"][-1] < 0.8 * found["history"]["loss"][0]


class EpochsBegun(keras.callbacks.Callback):
    """Records the epochs that training begins, which saved epochs replayed to the callbacks are not."""

    def __init__(self):
        super().__init__()
        self.epochs = []

    def on_epoch_begin(self, epoch, logs=None):
        self.epochs.append(epoch)


class Interrupt(keras.callbacks.Callback):
    """Stops training as a kill would, once `epochs` epochs have finished and been saved."""

    def __init__(self, epochs):
        super().__init__()
        self.epochs = epochs

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.epochs:
            raise KeyboardInterrupt


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        # Keras's own steps (no XLA blocks) and a schedule that must go on from the saved step.
        {"type": "conv", "encoder": [4, 8], "activation": "relu", "initializer": "glorot_uniform", "schedule": "cosine"},
    ],
)
def test_an_interrupted_run_resumes_to_the_weights_of_an_uninterrupted_one(tmp_path, capsys, overrides):
    run = functools.partial(short_run, **overrides)
    plain, plain_history = run(epochs=4)
    backed_up, history = run(epochs=4, backup=tmp_path / "whole")
    assert history == plain_history and not list((tmp_path / "whole").iterdir())  # removed once done
    for a, b in zip(plain.get_weights(), backed_up.get_weights()):
        np.testing.assert_array_equal(a, b)

    with pytest.raises(KeyboardInterrupt):
        run(epochs=4, backup=tmp_path / "cut", callbacks=[Interrupt(2)])
    assert sorted(path.name for path in (tmp_path / "cut").iterdir()) == ["epoch-00002.json", "epoch-00002.weights.h5"]
    capsys.readouterr()
    begun = EpochsBegun()
    resumed, resumed_history = run(epochs=4, backup=tmp_path / "cut", callbacks=[begun])
    assert begun.epochs == [2, 3]  # resumed: only the epochs after the saved ones trained
    assert resumed_history == plain_history
    for a, b in zip(plain.get_weights(), resumed.get_weights()):
        np.testing.assert_array_equal(a, b)
    # Said once the saved state is loaded; the saved epochs are replayed to the callbacks (the cost
    # log, dvclive), then the new ones follow.
    assert [line.split(" cost")[0] for line in capsys.readouterr().out.splitlines()] == [
        f"{tmp_path / 'cut'}: resuming an interrupted run after epoch 2, its last finished one",
        *(f"Epoch: {k}" for k in range(1, 5)),
    ]


def test_a_damaged_backup_is_dropped_and_training_starts_over(tmp_path, capsys):
    plain, plain_history = short_run(epochs=3)
    with pytest.raises(KeyboardInterrupt):
        short_run(epochs=3, backup=tmp_path, callbacks=[Interrupt(2)])
    (weights,) = tmp_path.glob("epoch-*.weights.h5")
    weights.write_bytes(weights.read_bytes()[:100])  # what a power cut or a full disk may leave
    capsys.readouterr()
    again, history = short_run(epochs=3, backup=tmp_path)
    assert "cannot resume from epoch 2" in capsys.readouterr().out
    assert history == plain_history
    for a, b in zip(plain.get_weights(), again.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_resume_folder_is_named_by_settings_and_files_and_replaces_only_its_own_models(tmp_path):
    data = tmp_path / "data.npz"
    data.write_bytes(b"images")
    root = tmp_path / "resume"
    first = resume_folder(root, "deep", {"epochs": 20}, [data])
    assert first == resume_folder(root, "deep", {"epochs": 20}, [data])
    first.mkdir(parents=True)
    neighbour = resume_folder(root, "deep-2", {"epochs": 20}, [data])
    neighbour.mkdir()
    assert resume_folder(root, "deep", {"epochs": 30}, [data]) != first
    assert not first.exists() and neighbour.exists()  # deep's old state gone, deep-2's kept
    data.write_bytes(b"other images")
    assert resume_folder(root, "deep-2", {"epochs": 20}, [data]) != neighbour
