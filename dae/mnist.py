"""Downloading the four MNIST files from the first source that serves them intact."""

import hashlib
import http.client
import os
import socket
import time
import urllib.error
import urllib.request
from pathlib import Path

from tqdm import tqdm

from dae.files import atomic_folder

# SHA-256 of the published files (their MD5s are the ones torchvision pins).
FILES = {
    "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
}

# yann.lecun.com, the original home, now refuses most downloads.
PUBLIC_MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)

MIRROR_VARIABLE = "MNIST_MIRROR"
CHUNK = 1 << 16
# A read timeout alone never fires on a server that drips a byte at a time, so each
# download also gets an overall deadline: the largest file, 9.9 MB, arrives in about
# 8 minutes even at a slow 20 kB/s.
DEADLINE = 600


class FetchError(RuntimeError):
    """No source served a file intact."""


class SourceError(Exception):
    """One source failed for one file; `transient` failures are worth a retry."""

    def __init__(self, message, transient=False):
        super().__init__(message)
        self.transient = transient


def sources(environ=os.environ):
    """`MNIST_MIRROR` first when set (a folder or an http(s) URL base), then the public mirrors."""
    mirror = environ.get(MIRROR_VARIABLE, "").strip()
    return ([mirror] if mirror else []) + list(PUBLIC_MIRRORS)


def sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def _is_url(source):
    return source.startswith(("http://", "https://"))


def _join(source, name):
    if _is_url(source):
        return source.rstrip("/") + "/" + name
    return str(Path(source.removeprefix("file://")) / name)


def _copy(reader, out, total, name, progress, deadline, ends_at):
    with tqdm(total=total, unit="B", unit_scale=True, desc=name, leave=False, disable=not progress) as bar:
        copied = 0
        # read1 returns whatever one read brings (read waits to fill CHUNK), so the
        # deadline is checked however slowly the bytes come.
        for block in iter(lambda: reader.read1(CHUNK), b""):
            out.write(block)
            copied += len(block)
            bar.update(len(block))
            if time.monotonic() > ends_at:
                raise SourceError(f"timed out: not done within the {deadline} s deadline")
    return copied


def _download(location, target, timeout, progress, deadline):
    """Copy one file from a URL or a folder to `target`, raising SourceError on any failure.

    `timeout` bounds each connect and read; `deadline` bounds the whole download.
    """
    name = Path(target).name
    ends_at = time.monotonic() + deadline
    try:
        with open(target, "wb") as out:
            if not _is_url(location):
                with open(location, "rb") as reader:
                    _copy(reader, out, os.path.getsize(location), name, progress, deadline, ends_at)
                return
            request = urllib.request.Request(location, headers={"User-Agent": "dae-pipeline"})
            with urllib.request.urlopen(request, timeout=timeout) as response:
                length = response.headers.get("Content-Length")
                total = int(length) if length and length.isdigit() else None
                copied = _copy(response, out, total, name, progress, deadline, ends_at)
            if total is not None and copied != total:
                raise SourceError(f"truncated body: got {copied} of {total} bytes", transient=True)
    except urllib.error.HTTPError as error:
        if 300 <= error.code < 400:  # urllib follows redirects; one left here loops or runs too long
            raise SourceError(f"HTTP {error.code}: redirect loop or too many redirects")
        raise SourceError(f"HTTP {error.code} {error.reason}", transient=error.code >= 500 or error.code == 429)
    except urllib.error.URLError as error:
        raise SourceError(f"cannot connect: {error.reason}", transient=True)
    except (TimeoutError, socket.timeout):
        raise SourceError(f"timed out after {timeout} s", transient=True)
    except (http.client.HTTPException, ConnectionError) as error:
        raise SourceError(f"connection failed: {error!r}", transient=True)
    except FileNotFoundError:
        raise SourceError("no such file")
    except OSError as error:
        raise SourceError(f"cannot read: {error}")


def _fetch_one(location, target, expected_sha256, attempts, timeout, progress, deadline):
    for attempt in range(1, attempts + 1):
        try:
            _download(location, target, timeout, progress, deadline)
            break
        except SourceError as error:
            if not error.transient or attempt == attempts:
                raise
            time.sleep(0.5 * attempt)
    actual = sha256(target)
    if actual != expected_sha256:
        raise SourceError(f"sha256 checksum mismatch: expected {expected_sha256}, got {actual}")


def fetch(dest, source_list, files=FILES, attempts=3, timeout=30, progress=True, deadline=DEADLINE):
    """Put every file of `files` (name -> SHA-256) into `dest`, verified, or raise FetchError.

    `timeout` (s) bounds each connect and read, `deadline` (s) each download attempt;
    a source that misses the deadline is not retried, so it costs at most one deadline.

    A failure leaves nothing of the attempt in `dest`. Returns {name: source}.
    """
    used = {}
    # Gathered in a folder beside `dest` that becomes `dest` in one rename once all are verified.
    with atomic_folder(dest) as staging:
        for name, expected in files.items():
            failures = []
            for source in source_list:
                try:
                    _fetch_one(
                        _join(source, name), staging / name, expected, attempts, timeout, progress, deadline
                    )
                except SourceError as error:
                    failures.append(f"  {source}: {error}")
                    continue
                used[name] = source
                break
            else:
                raise FetchError(
                    f"could not fetch {name} from any source:\n" + "\n".join(failures) + "\n"
                    f"Set {MIRROR_VARIABLE} to a folder or http(s) URL base holding the four MNIST "
                    f"files, e.g. `export {MIRROR_VARIABLE}=/path/to/mnist`, then rerun."
                )
    return used
