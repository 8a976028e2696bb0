"""train <model>: fit one autoencoder of params.yaml `models` to denoise the training split."""

import math
import os
import platform
import shutil
import sys
import time
from pathlib import Path

from dae.process import frozen_imports, startup_notices_hidden

with frozen_imports(), startup_notices_hidden():
    import keras
    import tensorflow as tf
    from dvclive import Live

    from dae import files, models, noise, training
    from dae import params as p
    from dae.files import IMAGES, LABELS, NOISY_IMAGES, DataError, atomic_path, load_arrays, same_count
    from dae.models import MAX_CONV_LAYERS, MODEL_TYPES, REFERENCE_INITIALIZER, is_activation, is_initializer, save_model
    from dae.training import train_autoencoder
    from dae.training.history import CostLog, move_history
    from dae.training.resume import resume_folder

PREPARED = Path("data/prepared")
NOISY = Path("data/noisy")
# Typo guards: the reference trains 20 epochs; a conv layer of 1,024 filters already holds
# 80 MB of activations for a batch of 100 at 14x14.
MAX_EPOCHS = 10_000
MAX_FILTERS = 1024
# An interrupted run's last finished epoch, in DVC's own scratch folder (never committed or cached).
RESUME = Path(".dvc/tmp/train-resume")


# What a model of params.yaml `models` may set for itself, else the shared `train` section's.
OWN_SETTINGS = ("activation", "initializer", "learning_rate", "schedule", "epochs", "batch_size", "shift", "weight_decay")
# A model that denoises varies its output with its input: by 0.095 a pixel or more after one epoch at
# the reference's noise (dense and conv models, learning rates 0.0001 to 0.01), by 1e-6 to 3e-5 with
# its units dead (measured over 1,000 validation images). Fewer than 100 images tell little.
MIN_SPREAD, SPREAD_IMAGES, MIN_SPREAD_IMAGES = 0.01, 1000, 100


def read_params(name):
    """Model `name`'s settings, once every model's and evaluate's are checked: a mistake in any of
    them stops the first training that runs, not the one after it or evaluate, minutes later."""
    params = p.load_params()
    names = p.model_names(params)
    if name not in names:
        raise p.ParamError(f"params.yaml: no model `{name}` under `models` (found: {', '.join(names)})")
    settings = {other: model_settings(params, other) for other in names}
    p.evaluate_settings(params, settings[name]["noise_type"])
    return settings[name]


def model_settings(params, name):
    model = p.get(params, f"models.{name}")
    unknown = [key for key in model if key not in ("type", "encoder", *OWN_SETTINGS)]
    if unknown:
        raise p.ParamError(
            f"params.yaml: `models.{name}` has unknown settings {', '.join(map(repr, unknown))}: expected `encoder`, "
            f"`type` ({' or '.join(MODEL_TYPES)}) and any of {', '.join(OWN_SETTINGS)} (default: those of `train`)"
        )

    def key(setting):
        return p.model_key(params, name, setting)

    model_type = p.choice(params, f"models.{name}.type", MODEL_TYPES) if "type" in model else "dense"
    encoder = p.layer_sizes(params, f"models.{name}.encoder")
    if model_type == "conv" and (len(encoder) > MAX_CONV_LAYERS or max(encoder) > MAX_FILTERS):
        raise p.ParamError(
            f"params.yaml: `models.{name}.encoder` = {encoder!r} is invalid: expected 1 to {MAX_CONV_LAYERS} "
            f"layers of 1 to {MAX_FILTERS} filters for a conv model, each layer halving the 28x28 image"
        )
    initializer, activation = p.get(params, key("initializer")), p.get(params, key("activation"))
    if not is_initializer(initializer, model_type):
        raise p.ParamError(
            f"params.yaml: `{key('initializer')}` = {initializer!r} is invalid: expected {REFERENCE_INITIALIZER!r} "
            f"or the name of a Keras initializer that draws a {model_type} model's kernels, e.g. 'glorot_uniform'"
        )
    if not is_activation(activation):
        raise p.ParamError(
            f"params.yaml: `{key('activation')}` = {activation!r} is invalid: expected the name of a Keras activation, e.g. 'relu'"
        )
    noise_type, noise_level, clip = p.noise(params)
    batch_size = p.integer(params, key("batch_size"), low=1)
    train_size = p.integer(params, "prepare.train_size", low=1)
    if train_size % batch_size:
        # Every batch full, as in the reference: no short batch at the end of an epoch.
        raise p.ParamError(
            f"params.yaml: `{key('batch_size')}` = {batch_size} is invalid: expected a divisor "
            f"of the {train_size} training images (`prepare.train_size`)"
        )
    return dict(
        seed=p.seed(params),
        noise_type=noise_type,
        noise_level=noise_level,
        clip=clip,
        type=model_type,
        encoder=encoder,
        activation=activation,
        epochs=p.integer(params, key("epochs"), low=1, high=MAX_EPOCHS),
        batch_size=batch_size,
        learning_rate=p.number(params, key("learning_rate"), low=0, low_open=True, high=1),
        schedule=p.choice(params, key("schedule"), training.SCHEDULES),
        shift=p.shift(params, name),
        weight_decay=p.number(params, key("weight_decay"), low=0, high=1),
        initializer=initializer,
        stored_noise=p.stored_noise(params),
        batch_key=key("batch_size"),  # for the error that only the devices can tell
        train_size=train_size,  # what the batch size was checked against
    )


def load_training_data(stored_noise):
    """The uint8 training images, the (noisy, clean) validation split, and the stored noisy copy if asked."""
    images = load_arrays(PREPARED / "train.npz", images=IMAGES, labels=LABELS)["images"]
    clean_validation = load_arrays(PREPARED / "validation.npz", images=IMAGES, labels=LABELS)["images"]
    noisy_validation = load_arrays(NOISY / "validation.npz", images=NOISY_IMAGES)["images"]
    same_count({PREPARED / "validation.npz": clean_validation, NOISY / "validation.npz": noisy_validation})
    validation = noisy_validation.astype("float32"), noise.to_unit(clean_validation)
    stored = None
    if stored_noise:
        stored = load_arrays(NOISY / "train.npz", images=NOISY_IMAGES)["images"]  # float16, cast per batch
        same_count({PREPARED / "train.npz": images, NOISY / "train.npz": stored})
    return images, validation, stored


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: python -m stages.train <model name from params.yaml `models`>")
    name = sys.argv[1]
    try:
        config = read_params(name)
    except p.ParamError as error:
        sys.exit(f"train: {error}")

    inputs = [PREPARED / "train.npz", PREPARED / "validation.npz", NOISY / "validation.npz"]
    inputs += [NOISY / "train.npz"] if config["stored_noise"] else []
    batch_key, train_size = config.pop("batch_key"), config.pop("train_size")
    params = dict(config)
    try:
        images, validation, config["stored_noisy"] = load_training_data(config.pop("stored_noise"))
    except DataError as error:
        sys.exit(f"train: {error}")
    if len(images) != train_size:  # the batch size was checked against the param: run on its own, the stage may differ
        sys.exit(f"train: {PREPARED / 'train.npz'} holds {len(images)} images, not `prepare.train_size` = {train_size}: run `dvc repro`")

    distribute = training.strategy()
    if config["batch_size"] % distribute.num_replicas_in_sync:
        sys.exit(
            f"train: params.yaml: `{batch_key}` = {config['batch_size']} is invalid: expected a multiple of "
            f"the {distribute.num_replicas_in_sync} GPUs, which share each batch"
        )
    devices = tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU")
    device = devices[0].name if distribute.num_replicas_in_sync == 1 else f"{len(devices)} GPUs, mirrored"
    # Resuming is bit for bit only where the arithmetic is the same: same params, inputs, code,
    # libraries, devices and the flags that change what XLA and oneDNN compile.
    machine = [device, platform.machine(), tf.__version__, keras.__version__]
    machine += [os.environ.get(flag) for flag in ("XLA_FLAGS", "TF_ENABLE_ONEDNN_OPTS", "ONEDNN_MAX_CPU_ISA")]
    code = [*sorted(Path(training.__file__).parent.glob("*.py")), models.__file__, noise.__file__, files.__file__, __file__]
    backup = resume_folder(RESUME, name, [params, machine], [*inputs, *code])
    print(
        f"train {name}: {config['type']} encoder {config['encoder']}, {len(images)} images with {config['noise_type']} noise "
        f"{config['noise_level']:g}, {config['epochs']} epochs, on {device}"
    )
    # The history is written beside the backup and moved into dvclive/ only once the model is
    # saved: a failed or killed run leaves no partial history there.
    live = Live(str(backup / "dvclive"), dvcyaml=False, save_dvc_exp=False)
    callbacks = [CostLog(live), keras.callbacks.TerminateOnNaN()]
    began = time.monotonic()
    model, history = train_autoencoder(
        images, validation, name=name, callbacks=callbacks, backup=backup, distribute=distribute, **config
    )
    print(f"train {name}: trained in {time.monotonic() - began:.0f} s")
    # Exit before saving: DVC then records no result of this run, neither in dvc.lock nor in its run cache.
    finite = [math.isfinite(cost) and math.isfinite(val) for cost, val in zip(history["loss"], history["val_loss"])]
    if not all(finite):
        sys.exit(f"train {name}: the cost became non-finite in epoch {finite.index(False) + 1}; no model saved")
    if len(finite) < config["epochs"]:
        sys.exit(f"train {name}: training stopped after epoch {len(finite)} of {config['epochs']}; no model saved")
    if len(validation[0]) >= MIN_SPREAD_IMAGES and (spread := models.output_spread(model, validation[0][:SPREAD_IMAGES])) < MIN_SPREAD:
        # A result all the same, saved as any other; but one its cost alone would not explain.
        print(
            f"train {name}: warning: the model gives nearly one image whatever its input (its output varies by "
            f"{spread:.1g} a pixel over {min(len(validation[0]), SPREAD_IMAGES)} validation images, where the clean "
            "digits vary by 0.19): its units may have died (try another seed, learning rate, activation or "
            "initializer), or the noise leaves too little of the digits to go by",
            file=sys.stderr,
        )
    with atomic_path(f"models/{name}.keras") as tmp:
        save_model(model, tmp)
    live.end()
    move_history(backup / "dvclive", f"dvclive/{name}")
    shutil.rmtree(backup)


if __name__ == "__main__":
    main()
