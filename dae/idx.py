"""Reading and writing the IDX format of the MNIST files (http://yann.lecun.com/exdb/mnist/)."""

import gzip
import struct
import zlib

import numpy as np

# The IDX magic number is two zero bytes, a type code and the number of dimensions.
TYPE_CODES = {0x08: np.dtype(np.uint8)}
CODE_OF_TYPE = {dtype: code for code, dtype in TYPE_CODES.items()}

IMAGE_SHAPE = (28, 28)
NUM_CLASSES = 10


class IdxError(ValueError):
    """A file that is not the IDX content it should be; the message names the file."""


def encode_idx(array):
    """The IDX bytes of an unsigned-byte array (before any gzip)."""
    array = np.ascontiguousarray(array)
    header = bytes([0, 0, CODE_OF_TYPE[array.dtype], array.ndim])
    return header + struct.pack(f">{array.ndim}I", *array.shape) + array.tobytes()


def _read_bytes(path):
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as error:
        raise IdxError(f"{path}: cannot read: {error}") from error
    if str(path).endswith(".gz"):
        try:
            return gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as error:
            raise IdxError(f"{path}: not a valid gzip file: {error}") from error
    return raw


def decode_idx(data, name="<bytes>"):
    """Decode IDX bytes into an array, checking the magic number and that the sizes add up."""
    if len(data) < 4:
        raise IdxError(f"{name}: truncated: {len(data)} bytes, too short for an IDX header")
    zero, code, ndim = data[:2], data[2], data[3]
    if zero != b"\0\0" or code not in TYPE_CODES or ndim == 0:
        raise IdxError(
            f"{name}: bad magic number 0x{data[:4].hex()}: expected 0x0000 then type code "
            f"0x08 (unsigned byte) and the number of dimensions"
        )
    header_size = 4 + 4 * ndim
    if len(data) < header_size:
        raise IdxError(f"{name}: truncated: the header of {ndim} dimensions needs {header_size} bytes, got {len(data)}")
    shape = struct.unpack(f">{ndim}I", data[4:header_size])
    dtype = TYPE_CODES[code]
    expected = int(np.prod(shape)) * dtype.itemsize
    found = len(data) - header_size
    if found != expected:
        problem = "truncated" if found < expected else "trailing bytes"
        dims = "x".join(map(str, shape))
        raise IdxError(f"{name}: {problem}: header says {dims} = {expected} bytes of data, found {found}")
    return np.frombuffer(data, dtype=dtype, offset=header_size).reshape(shape)


def read_images(path):
    images = decode_idx(_read_bytes(path), str(path))
    if images.ndim != 3 or images.shape[1:] != IMAGE_SHAPE:
        raise IdxError(f"{path}: expected images of shape N x 28 x 28, got {' x '.join(map(str, images.shape))}")
    return images


def read_labels(path):
    labels = decode_idx(_read_bytes(path), str(path))
    if labels.ndim != 1:
        raise IdxError(f"{path}: expected a 1-dimensional array of labels, got {labels.ndim} dimensions")
    if labels.size and labels.max() >= NUM_CLASSES:
        raise IdxError(f"{path}: expected labels 0 to 9, found {labels.max()}")
    return labels


def read_split(images_path, labels_path):
    """Images and labels of one MNIST file pair, checked to have as many of each."""
    images, labels = read_images(images_path), read_labels(labels_path)
    if len(images) != len(labels):
        raise IdxError(f"{images_path} holds {len(images)} images but {labels_path} holds {len(labels)} labels")
    return images, labels
