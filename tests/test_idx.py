import gzip

import numpy as np
import pytest

from dae.idx import IdxError, decode_idx, encode_idx, read_images, read_labels, read_split


def write_gz(path, data):
    path.write_bytes(gzip.compress(data))
    return path


@pytest.fixture
def images():
    return np.random.default_rng(0).integers(0, 256, size=(5, 28, 28), dtype=np.uint8)


def test_round_trip_images_and_labels(tmp_path, images):
    labels = np.array([3, 1, 4, 1, 5], dtype=np.uint8)
    images_path = write_gz(tmp_path / "images-idx3-ubyte.gz", encode_idx(images))
    labels_path = write_gz(tmp_path / "labels-idx1-ubyte.gz", encode_idx(labels))
    read_back, read_labels_back = read_split(images_path, labels_path)
    np.testing.assert_array_equal(read_back, images)
    np.testing.assert_array_equal(read_labels_back, labels)
    assert read_back.dtype == np.uint8


def test_header_is_the_published_layout(images):
    # 0x00000803: unsigned bytes, 3 dimensions; then the big-endian sizes.
    assert encode_idx(images)[:16] == bytes.fromhex("00000803" "00000005" "0000001c" "0000001c")


def test_truncated_data_names_the_file_and_the_sizes(tmp_path, images):
    path = write_gz(tmp_path / "short.gz", encode_idx(images)[:-10])
    with pytest.raises(IdxError, match=r"short\.gz: truncated: header says 5x28x28 = 3920 bytes of data, found 3910"):
        read_images(path)


def test_truncated_header(tmp_path, images):
    with pytest.raises(IdxError, match="truncated"):
        decode_idx(encode_idx(images)[:9], "x")
    with pytest.raises(IdxError, match="too short"):
        decode_idx(b"\0\0", "x")


def test_trailing_bytes_are_refused(images):
    with pytest.raises(IdxError, match="trailing bytes"):
        decode_idx(encode_idx(images) + b"\0", "x")


def test_bad_magic_number(images):
    data = bytearray(encode_idx(images))
    data[2] = 0x0D  # float instead of unsigned byte
    with pytest.raises(IdxError, match="bad magic number 0x00000d03"):
        decode_idx(bytes(data), "x")


def test_corrupt_gzip_names_the_file(tmp_path, images):
    compressed = gzip.compress(encode_idx(images))
    (tmp_path / "cut.gz").write_bytes(compressed[: len(compressed) // 2])
    (tmp_path / "junk.gz").write_bytes(b"not gzip at all")
    for name in ("cut.gz", "junk.gz"):
        with pytest.raises(IdxError, match=rf"{name}: not a valid gzip file"):
            read_images(tmp_path / name)


def test_images_must_be_28_by_28(tmp_path):
    path = write_gz(tmp_path / "wide.gz", encode_idx(np.zeros((2, 28, 30), np.uint8)))
    with pytest.raises(IdxError, match="expected images of shape N x 28 x 28, got 2 x 28 x 30"):
        read_images(path)


def test_labels_must_be_digits(tmp_path):
    path = write_gz(tmp_path / "labels.gz", encode_idx(np.array([1, 12], np.uint8)))
    with pytest.raises(IdxError, match="expected labels 0 to 9, found 12"):
        read_labels(path)


def test_images_and_labels_must_match_in_number(tmp_path, images):
    images_path = write_gz(tmp_path / "images.gz", encode_idx(images))
    labels_path = write_gz(tmp_path / "labels.gz", encode_idx(np.zeros(4, np.uint8)))
    with pytest.raises(IdxError, match="holds 5 images but .*labels.gz holds 4 labels"):
        read_split(images_path, labels_path)


def test_missing_file(tmp_path):
    with pytest.raises(IdxError, match="absent.gz: cannot read"):
        read_images(tmp_path / "absent.gz")
