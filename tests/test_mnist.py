"""Checksums and source fallback, against a real HTTP server on 127.0.0.1 and folder mirrors."""

import hashlib
import http.server
import threading

import pytest

from dae import mnist

FILES = {"a.gz": b"first file" * 100, "b.gz": b"second file" * 100}
CHECKSUMS = {name: hashlib.sha256(data).hexdigest() for name, data in FILES.items()}


class Handler(http.server.BaseHTTPRequestHandler):
    requests = []

    def do_GET(self):
        Handler.requests.append(self.path)
        mode, name = self.path.strip("/").split("/")
        if mode == "error":
            self.send_error(500, "boom")
            return
        body = FILES[name]
        if mode == "corrupt":
            body = b"X" + body[1:]
        self.send_response(200)
        self.send_header("Content-Length", str(len(body) + (10 if mode == "truncated" else 0)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    Handler.requests = []
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def fetch(dest, sources, **kwargs):
    return mnist.fetch(dest, sources, files=CHECKSUMS, progress=False, timeout=5, **kwargs)


def test_falls_back_past_an_error_and_a_corrupt_file(tmp_path, server):
    sources = [f"{server}/error/", f"{server}/corrupt/", f"{server}/good/"]
    used = fetch(tmp_path / "raw", sources)
    assert used == {"a.gz": f"{server}/good/", "b.gz": f"{server}/good/"}
    for name, data in FILES.items():
        assert (tmp_path / "raw" / name).read_bytes() == data
    # A server error is retried (transient); a checksum mismatch moves straight on.
    assert Handler.requests[:5] == ["/error/a.gz"] * 3 + ["/corrupt/a.gz", "/good/a.gz"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["raw"]


def test_truncated_body_is_retried_then_skipped(tmp_path, server):
    fetch(tmp_path / "raw", [f"{server}/truncated/", f"{server}/good/"], attempts=2)
    assert Handler.requests[:3] == ["/truncated/a.gz", "/truncated/a.gz", "/good/a.gz"]


def test_folder_mirror(tmp_path):
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    for name, data in FILES.items():
        (mirror / name).write_bytes(data)
    assert fetch(tmp_path / "raw", [str(mirror)]) == {"a.gz": str(mirror), "b.gz": str(mirror)}
    assert (tmp_path / "raw" / "b.gz").read_bytes() == FILES["b.gz"]


def test_every_source_failing_lists_each_reason_and_leaves_nothing(tmp_path, server):
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    (mirror / "a.gz").write_bytes(FILES["a.gz"])
    (mirror / "b.gz").write_bytes(b"corrupted")
    dest = tmp_path / "raw"
    with pytest.raises(mnist.FetchError) as failure:
        fetch(dest, [str(mirror), f"{server}/error/", str(tmp_path / "nowhere")], attempts=1)
    message = str(failure.value)
    assert "could not fetch b.gz from any source" in message
    assert f"{mirror}: sha256 checksum mismatch: expected {CHECKSUMS['b.gz']}, got " in message
    assert f"{server}/error/: HTTP 500" in message
    assert "nowhere: no such file" in message
    assert "MNIST_MIRROR" in message
    # a.gz was fetched and verified, but nothing of a failed attempt is kept.
    assert not dest.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["mirror"]


def test_mirror_variable_comes_first():
    assert mnist.sources({"MNIST_MIRROR": "/data/mnist"}) == ["/data/mnist", *mnist.PUBLIC_MIRRORS]
    assert mnist.sources({}) == list(mnist.PUBLIC_MIRRORS)
    assert len(mnist.PUBLIC_MIRRORS) >= 2


def test_pinned_checksums_match_the_published_md5s(mnist_mirror):
    """The pinned SHA-256s belong to the files whose MD5s are published."""
    published_md5 = {
        "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
        "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
        "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
        "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
    }
    for name, sha in mnist.FILES.items():
        data = (mnist_mirror / name).read_bytes()
        assert hashlib.md5(data).hexdigest() == published_md5[name]
        assert hashlib.sha256(data).hexdigest() == sha


def test_a_killed_fetchs_staging_folder_is_removed_by_the_next(tmp_path):
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    (mirror / "a.gz").write_bytes(b"data")
    stale = tmp_path / ".raw-partial-abc123"  # what SIGKILL leaves: no `finally` ran
    stale.mkdir()
    (stale / "a.gz").write_bytes(b"da")
    mnist.fetch(tmp_path / "raw", [str(mirror)], files={"a.gz": hashlib.sha256(b"data").hexdigest()}, progress=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mirror", "raw"]
