import numpy as np
import pytest

from dae import noise
from dae.training import CostLog, noisy_batches, train_autoencoder


def digits(count, seed=0):
    """Stand-ins for digit images: ten bar-shaped templates in [0, 1] with a little jitter."""
    rng = np.random.default_rng(seed)
    templates = np.zeros((10, 28, 28), np.float32)
    for k in range(10):
        templates[k, 4 + 2 * k : 7 + 2 * k, 4:24] = 1.0
        templates[k, 4:24, 3 + 2 * k : 5 + 2 * k] = 1.0
    images = templates[rng.integers(0, 10, count)] * rng.uniform(0.8, 1.0, (count, 1, 1)).astype(np.float32)
    return images.reshape(count, 784)


def test_batches_cover_every_image_once_an_epoch_with_fresh_noise():
    clean = digits(250)
    batches = noisy_batches(clean, 100, 0.6, noise.rng(0, "training_batches"))
    epochs = [[next(batches) for _ in range(3)] for _ in range(2)]
    for epoch in epochs:
        assert [len(targets) for _, targets in epoch] == [100, 100, 50]
        seen = np.concatenate([targets for _, targets in epoch])
        np.testing.assert_array_equal(np.sort(seen, axis=0), np.sort(clean, axis=0))
    noise_1 = np.concatenate([inputs - targets for inputs, targets in epochs[0]])
    noise_2 = np.concatenate([inputs - targets for inputs, targets in epochs[1]])
    assert abs(noise_1.std() - 0.6) < 0.01
    assert not np.allclose(np.sort(noise_1.ravel()), np.sort(noise_2.ravel()))


def test_stored_noise_is_reused_instead_of_drawn():
    clean = digits(20)
    stored = clean + 1.0
    inputs, targets = next(noisy_batches(clean, 20, 0.6, noise.rng(0, "training_batches"), noisy=stored))
    np.testing.assert_array_equal(inputs, targets + 1.0)


def short_run(seed=0, epochs=3, **overrides):
    clean = digits(300)
    validation_clean = digits(100, seed=1)
    validation = (noise.add_noise(validation_clean, 0.6, noise.rng(0, "validation")), validation_clean)
    settings = dict(
        encoder=[32], initializer="reference_uniform", learning_rate=0.01, batch_size=50,
        epochs=epochs, noise_level=0.6, clip=False, seed=seed,
    )
    settings.update(overrides)
    log = CostLog()
    model = train_autoencoder(clean, validation, callbacks=[log], **settings)
    return model, model.history.history


def test_short_training_lowers_the_cost(capsys):
    _, history = short_run(epochs=4)
    assert history["loss"][-1] < 0.8 * history["loss"][0]
    assert history["val_loss"][-1] < 0.8 * history["val_loss"][0]
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].startswith("Epoch: 1 cost: 0.") and " val_cost: 0." in printed[0]
    assert len(printed) == 4


@pytest.mark.parametrize("overrides", [{}, {"encoder": [32, 16], "initializer": "glorot_uniform"}])
def test_identical_runs_give_identical_weights(overrides):
    first, first_history = short_run(epochs=2, **overrides)
    second, second_history = short_run(epochs=2, **overrides)
    assert first_history == second_history
    for a, b in zip(first.get_weights(), second.get_weights()):
        np.testing.assert_array_equal(a, b)
    other, _ = short_run(seed=1, epochs=2, **overrides)
    assert not np.array_equal(first.get_weights()[0], other.get_weights()[0])
