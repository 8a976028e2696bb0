import os
from pathlib import Path

import pytest

from dae import mnist

PROJECT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def mnist_mirror(tmp_path_factory):
    """A local folder holding the four MNIST files, verified: MNIST_MIRROR itself when it is a
    folder, else a copy fetched from it (a URL base). Without it the tests that need MNIST skip,
    except in CI (CI=1 or true, as `.ci/run` sets), where a missing mirror must not pass unnoticed."""
    mirror = os.environ.get(mnist.MIRROR_VARIABLE, "").strip()
    if not mirror:
        message = f"set {mnist.MIRROR_VARIABLE} to a folder or URL base holding the four MNIST files"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(message)
        pytest.skip(message)
    if Path(mirror).is_dir():
        return Path(mirror)
    folder = tmp_path_factory.mktemp("mnist") / "raw"
    mnist.fetch(folder, [mirror], progress=False)
    os.environ[mnist.MIRROR_VARIABLE] = str(folder)  # the pipelines the tests run fetch the copy
    return folder
