"""Writing outputs so that a failed or interrupted stage never leaves a half-written file."""

import contextlib
import csv
import glob
import os
import tempfile
import shutil
import zipfile
import zlib
from pathlib import Path

import numpy as np


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path beside `path`, renamed onto `path` only if the block succeeds.

    The temporary name keeps every extension of `path` (`.keras`, `.weights.h5`) because some
    writers (Keras, matplotlib) choose the format from it.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    stem, dot, extensions = path.name.partition(".")
    prefix, suffix = f".{stem}.", f".tmp{dot}{extensions}"
    # A killed writer (SIGKILL skips the cleanup below) leaves its temporary file: the next write
    # of the same path removes it, so no stray file stays in a folder another stage depends on.
    for stale in path.parent.glob(f"{glob.escape(prefix)}*{glob.escape(suffix)}"):
        stale.unlink(missing_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=prefix, suffix=suffix)
    os.close(fd)
    tmp = Path(tmp)
    tmp.chmod(0o666 & ~UMASK)  # mkstemp makes it private (0600); give it the mode open() would
    try:
        yield tmp
        _sync(tmp)
        os.replace(tmp, path)
        _sync(path.parent)
    finally:
        tmp.unlink(missing_ok=True)


@contextlib.contextmanager
def atomic_folder(path):
    """Yield a temporary folder beside `path`, renamed onto `path` only if the block succeeds,
    so that a stage writing several files leaves all of them or none."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    prefix = f".{path.name}-partial-"
    for stale in path.parent.glob(glob.escape(prefix) + "*"):  # left by a killed writer
        shutil.rmtree(stale, ignore_errors=True)
    tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=prefix))
    tmp.chmod(0o777 & ~UMASK)
    try:
        yield tmp
        for written in tmp.iterdir():
            _sync(written)
        shutil.rmtree(path, ignore_errors=True)
        os.replace(tmp, path)
        _sync(path.parent)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


WINDOWS = os.name == "nt"


def _sync(path):
    """Flush a file's or a folder's entries to disk: after a power cut, a renamed file is whole."""
    if WINDOWS and os.path.isdir(path):  # Windows cannot open a folder; NTFS journals renames
        return
    # Windows flushes only a file open for writing (fsync fails with EBADF on a read-only one).
    fd = os.open(path, os.O_RDWR if WINDOWS else os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


UMASK = _umask()


def save_arrays(path, **arrays):
    """Write named arrays to an uncompressed `.npz` (no pickle), atomically."""
    with atomic_path(path) as tmp:
        write_arrays(tmp, **arrays)


def write_arrays(path, **arrays):
    """Write named arrays to an uncompressed `.npz` (no pickle) at `path` itself: a file already
    staged, e.g. by `atomic_path`."""
    with open(path, "wb") as f:
        np.savez(f, **arrays)


class DataError(ValueError):
    """A data file that is unreadable or not what a stage expects; the message names the file."""


class Array:
    """What one array of an `.npz` must be: its dtype, its shape (`None` for the number of
    images, the same in every array of the file) and, optionally, the range of its values."""

    def __init__(self, dtype, shape, low=None, high=None):
        self.dtype, self.shape, self.low, self.high = np.dtype(dtype), shape, low, high

    def problem(self, array, count):
        if array.dtype != self.dtype:
            return f"dtype {array.dtype}, expected {self.dtype}"
        wanted = tuple(count if size is None else size for size in self.shape)
        if array.shape != wanted:
            return f"shape {array.shape}, expected {wanted}"
        if array.dtype.kind == "f" and not np.isfinite(array).all():
            return "non-finite values"
        if array.size and self.low is not None and array.min() < self.low:
            return f"values below {self.low}"
        if array.size and self.high is not None and array.max() > self.high:
            return f"values above {self.high}"
        return None


IMAGES = Array(np.uint8, (None, 28, 28))
LABELS = Array(np.uint8, (None,), high=9)
NOISY_IMAGES = Array(np.float16, (None, 28 * 28))


# How a .npz file starts, as NumPy tells one: a zip archive's first local file header, or the
# end record of an empty archive.
ZIP_STARTS = (b"PK\x03\x04", b"PK\x05\x06")


def load_arrays(path, **expected):
    """Read the arrays of an `.npz` (no pickle) into a dict, each checked against `expected`,
    an `Array` per name, so that a file damaged or changed by hand stops the stage with its name."""
    try:
        # Opened here so that the file is closed even when NumPy fails to parse it.
        with open(path, "rb") as f:
            # NumPy takes any file that starts otherwise for a pickle, and says so: not the reason.
            if f.read(4) not in ZIP_STARTS:
                raise ValueError("it does not start as a zip archive does (damaged, or another kind of file)")
            f.seek(0)
            with np.load(f, allow_pickle=False) as npz:
                arrays = {name: npz[name] for name in npz.files}
    except (OSError, ValueError, TypeError, EOFError, zipfile.BadZipFile, zlib.error) as error:
        raise DataError(f"{path}: cannot read as a .npz file of arrays: {error}") from error
    if expected and set(arrays) != set(expected):
        raise DataError(f"{path}: holds arrays {sorted(arrays)}, expected {sorted(expected)}")
    count = next((len(arrays[name]) for name in expected if arrays[name].ndim), None)
    for name, spec in expected.items():
        problem = spec.problem(arrays[name], count)
        if problem:
            raise DataError(f"{path}: array `{name}` has {problem}")
    return arrays


def same_count(arrays):
    """Check that the arrays, keyed by the file each came from, hold the same number of images."""
    counts = {str(path): len(array) for path, array in arrays.items()}
    if len(set(counts.values())) > 1:
        raise DataError("files that must match image for image differ in length: " + ", ".join(f"{path} holds {count}" for path, count in counts.items()))


def save_csv(path, rows):
    """Write a list of dicts with the same keys as a CSV file with a header row, atomically."""
    with atomic_path(path) as tmp, open(tmp, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
