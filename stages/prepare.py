"""prepare: decode the IDX files into train, validation and test arrays (uint8 images, labels)."""

import sys
from pathlib import Path

from dae import params as p
from dae.files import atomic_folder, save_arrays
from dae.idx import IdxError, read_split

RAW = Path("data/raw")
OUT = Path("data/prepared")


def main():
    try:
        params = p.load_params()
        validation_size = p.integer(params, "prepare.validation_size", low=1)
        train_size = p.integer(params, "prepare.train_size", low=1)
        test_size = p.integer(params, "prepare.test_size", low=1)
        images, labels = read_split(RAW / "train-images-idx3-ubyte.gz", RAW / "train-labels-idx1-ubyte.gz")
        test_images, test_labels = read_split(RAW / "t10k-images-idx3-ubyte.gz", RAW / "t10k-labels-idx1-ubyte.gz")
        if validation_size + train_size > len(images):
            raise p.ParamError(
                f"params.yaml: `prepare.validation_size` + `prepare.train_size` = {validation_size} + {train_size} "
                f"is invalid: expected at most the {len(images)} images of the training file"
            )
        if test_size > len(test_images):
            raise p.ParamError(
                f"params.yaml: `prepare.test_size` = {test_size} is invalid: "
                f"expected at most the {len(test_images)} images of the test file"
            )
    except (p.ParamError, IdxError) as error:
        sys.exit(f"prepare: {error}")

    # The first images of the training file are the validation split, as in the reference.
    end = validation_size + train_size
    with atomic_folder(OUT) as folder:
        save_arrays(folder / "validation.npz", images=images[:validation_size], labels=labels[:validation_size])
        save_arrays(folder / "train.npz", images=images[validation_size:end], labels=labels[validation_size:end])
        save_arrays(folder / "test.npz", images=test_images[:test_size], labels=test_labels[:test_size])
    print(f"prepare: {train_size} training, {validation_size} validation, {test_size} test images in {OUT}/")


if __name__ == "__main__":
    main()
