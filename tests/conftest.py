import os
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def mnist_mirror():
    """A local folder holding the MNIST files, from MNIST_MIRROR (CI sets it)."""
    mirror = os.environ.get("MNIST_MIRROR", "")
    if not mirror or not Path(mirror).is_dir():
        pytest.skip("set MNIST_MIRROR to a folder holding the four MNIST files")
    return Path(mirror)
