import errno
import os

import numpy as np
import pytest

import dae.files
from dae.files import IMAGES, LABELS, NOISY_IMAGES, DataError, atomic_folder, atomic_path, load_arrays, same_count, save_arrays


def split(count=5):
    return {"images": np.zeros((count, 28, 28), np.uint8), "labels": np.arange(count, dtype=np.uint8) % 10}


def test_arrays_that_match_their_description_load(tmp_path):
    save_arrays(tmp_path / "train.npz", **split())
    arrays = load_arrays(tmp_path / "train.npz", images=IMAGES, labels=LABELS)
    assert arrays["images"].shape == (5, 28, 28) and arrays["labels"].tolist() == [0, 1, 2, 3, 4]


@pytest.mark.parametrize(
    "change, message",
    [
        (dict(images=np.zeros((5, 28, 28), np.float32)), "array `images` has dtype float32, expected uint8"),
        (dict(images=np.zeros((5, 784), np.uint8)), "array `images` has shape (5, 784), expected (5, 28, 28)"),
        (dict(images=np.zeros((4, 28, 28), np.uint8)), "array `labels` has shape (5,), expected (4,)"),
        (dict(labels=np.full(5, 10, np.uint8)), "array `labels` has values above 9"),
        (dict(labels=None), "holds arrays ['images'], expected ['images', 'labels']"),
        (dict(extra=np.zeros(5)), "holds arrays ['extra', 'images', 'labels'], expected ['images', 'labels']"),
    ],
)
def test_an_array_not_as_described_names_the_file_and_the_problem(tmp_path, change, message):
    arrays = {**split(), **change}
    save_arrays(tmp_path / "train.npz", **{name: array for name, array in arrays.items() if array is not None})
    with pytest.raises(DataError) as error:
        load_arrays(tmp_path / "train.npz", images=IMAGES, labels=LABELS)
    assert str(error.value) == f"{tmp_path / 'train.npz'}: {message}"


def test_non_finite_noisy_images_are_refused(tmp_path):
    noisy = np.zeros((3, 784), np.float16)
    noisy[1, 5] = np.nan
    save_arrays(tmp_path / "test.npz", images=noisy)
    with pytest.raises(DataError, match="test.npz: array `images` has non-finite values"):
        load_arrays(tmp_path / "test.npz", images=NOISY_IMAGES)


@pytest.mark.parametrize(
    "damage, reason",
    [("truncate", "File is not a zip file"), ("garbage", "it does not start as a zip archive does"), ("empty", "it does not start"), ("pickle", "Object arrays cannot be loaded")],
)
def test_a_damaged_file_names_itself(tmp_path, damage, reason):
    path = tmp_path / "test.npz"
    save_arrays(path, **split())
    if damage == "truncate":
        path.write_bytes(path.read_bytes()[:300])
    elif damage in ("garbage", "empty"):
        path.write_bytes(b"not an npz" if damage == "garbage" else b"")  # NumPy would call either a pickle
    else:
        np.savez(path, images=np.array([{"a": 1}], dtype=object), labels=np.zeros(1, np.uint8))
    with pytest.raises(DataError, match=f"{path}: cannot read as a .npz file of arrays: {reason}"):
        load_arrays(path, images=IMAGES, labels=LABELS)


def test_files_of_different_lengths_are_named():
    with pytest.raises(DataError, match="a.npz holds 3, b.npz holds 2"):
        same_count({"a.npz": np.zeros(3), "b.npz": np.zeros(2)})
    same_count({"a.npz": np.zeros(3), "b.npz": np.zeros((3, 4))})


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "models" / "deep.keras"
    path.parent.mkdir()
    path.write_text("old")
    with pytest.raises(RuntimeError), atomic_path(path) as tmp:
        tmp.write_text("half")
        raise RuntimeError("killed")
    assert path.read_text() == "old"
    assert sorted(p.name for p in path.parent.iterdir()) == ["deep.keras"]


def test_a_killed_writers_temporary_file_is_removed_by_the_next_write(tmp_path):
    # What SIGKILL leaves: the temporary file, since no `finally` runs.
    stale = tmp_path / ".deep.abc123.tmp.keras"
    stale.write_text("half")
    other = tmp_path / ".shallow.abc123.tmp.keras"
    other.write_text("another model's, still being written")
    with atomic_path(tmp_path / "deep.keras") as tmp:
        tmp.write_text("new")
    assert sorted(p.name for p in tmp_path.iterdir()) == [".shallow.abc123.tmp.keras", "deep.keras"]


def test_a_folder_is_written_whole_or_not_at_all(tmp_path):
    target = tmp_path / "noisy"
    with pytest.raises(RuntimeError), atomic_folder(target) as folder:
        (folder / "validation.npz").write_text("new")
        raise RuntimeError("killed before train.npz")
    assert not target.exists() and list(tmp_path.iterdir()) == []
    (tmp_path / ".noisy-partial-abc").mkdir()  # a killed writer's, no `finally` ran
    with atomic_folder(target) as folder:
        (folder / "validation.npz").write_text("new")
        (folder / "train.npz").write_text("new")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["noisy"]
    assert sorted(p.name for p in target.iterdir()) == ["train.npz", "validation.npz"]


def test_files_are_written_as_windows_flushes_them(tmp_path, monkeypatch):
    # Windows flushes only files open for writing, and cannot open a folder at all.
    import fcntl  # Linux's, to tell how a descriptor was opened (here, not on import: Windows has none)

    def windows_fsync(fd):
        if fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE == os.O_RDONLY:
            raise OSError(errno.EBADF, "Bad file descriptor")
        synced.append(fd)

    def windows_open(path, flags, *args):
        if os.path.isdir(path):
            raise PermissionError(errno.EACCES, "Permission denied", path)
        return os_open(path, flags, *args)

    synced, os_open = [], os.open
    monkeypatch.setattr(dae.files, "WINDOWS", True)
    monkeypatch.setattr(os, "fsync", windows_fsync)
    monkeypatch.setattr(os, "open", windows_open)
    with atomic_path(tmp_path / "deep.keras") as tmp:
        tmp.write_text("new")
    with atomic_folder(tmp_path / "noisy") as folder:
        (folder / "train.npz").write_text("new")
        (folder / "validation.npz").write_text("new")
    assert (tmp_path / "deep.keras").read_text() == "new" and len(synced) == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["deep.keras", "noisy"]
