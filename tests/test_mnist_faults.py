"""Network faults, against a real HTTP server on 127.0.0.1: each ends, in bounded time,
in the next source or in one clear line of FetchError per source."""

import hashlib
import http.server
import threading
import time
import urllib.request

import pytest

from dae import mnist

DATA = b"some file" * 200
FILES = {"a.gz": hashlib.sha256(DATA).hexdigest()}
TIMEOUT = 0.5  # per connect and read
DEADLINE = 2.0  # per download attempt
BOUND = 10  # no case may take anywhere near this long: a bound on hanging, not a benchmark


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = False  # so server_close joins every handler thread

    def __init__(self):
        super().__init__(("127.0.0.1", 0), Handler)
        self.stop = threading.Event()  # set on shutdown: stalled handlers stop waiting
        self.requests = []


class Handler(http.server.BaseHTTPRequestHandler):
    """The first part of the path picks the behaviour: /<mode>/<name>."""

    def do_GET(self):
        self.server.requests.append(self.path)
        mode, name = self.path.strip("/").split("/", 1)
        try:
            getattr(self, "serve_" + mode)(name)
        except ConnectionError:
            pass  # the client gave up, as it should

    def headers_for(self, length):
        self.send_response(200)
        self.send_header("Content-Length", str(length))
        self.end_headers()

    def serve_good(self, name):
        self.headers_for(len(DATA))
        self.wfile.write(DATA)

    def serve_silent(self, name):  # accepts the request, never answers
        self.server.stop.wait(BOUND)

    def serve_stall(self, name):  # half the body, then nothing
        self.headers_for(len(DATA))
        self.wfile.write(DATA[: len(DATA) // 2])
        self.wfile.flush()
        self.server.stop.wait(BOUND)

    def serve_closed(self, name):  # half the body, then the connection closes
        self.headers_for(len(DATA))
        self.wfile.write(DATA[: len(DATA) // 2])
        self.close_connection = True

    def serve_missing(self, name):
        self.send_error(404)

    def serve_error(self, name):
        self.send_error(500, "boom")

    def serve_loop(self, name):  # redirects to itself
        self.redirect(self.path)

    def serve_chain(self, name):  # redirects to a new place each time, forever
        self.redirect(f"/chain/{int(name) + 1}" if name.isdigit() else "/chain/1")

    def redirect(self, location):
        self.send_response(302)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def serve_drip(self, name):  # one byte at a time, just inside the read timeout, "forever"
        self.headers_for(len(DATA))
        # In truth for 1.5 BOUND, so a client that misses the deadline fails rather than hangs.
        for byte in DATA[: int(1.5 * BOUND / (0.6 * TIMEOUT))]:
            self.wfile.write(bytes([byte]))
            self.wfile.flush()
            if self.server.stop.wait(0.6 * TIMEOUT):
                return

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    httpd = Server()
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield httpd
    httpd.stop.set()
    httpd.shutdown()
    httpd.server_close()
    thread.join()


def url(httpd, mode):
    return f"http://127.0.0.1:{httpd.server_address[1]}/{mode}/"


def fetch(dest, sources, attempts=2):
    started = time.monotonic()
    try:
        return mnist.fetch(
            dest, sources, files=FILES, attempts=attempts, timeout=TIMEOUT, progress=False, deadline=DEADLINE
        )
    finally:
        assert time.monotonic() - started < BOUND


# mode, what the error says, requests made with attempts=2
FAULTS = [
    ("silent", f"timed out after {TIMEOUT} s", 2),
    ("stall", f"timed out after {TIMEOUT} s", 2),
    ("closed", f"truncated body: got {len(DATA) // 2} of {len(DATA)} bytes", 2),
    ("missing", "HTTP 404", 1),  # not worth a retry
    ("error", "HTTP 500 boom", 2),  # retried, then the next source
    ("loop", "HTTP 302: redirect loop", 1),
    ("chain", "HTTP 302: redirect loop or too many redirects", 1),
    ("drip", f"timed out: not done within the {DEADLINE} s deadline", 1),
]


def leftovers(tmp_path):
    return sorted(p.name for p in tmp_path.iterdir() if "-partial-" in p.name)


@pytest.mark.parametrize("mode, _, requests", FAULTS, ids=[f[0] for f in FAULTS])
@pytest.mark.parametrize("fallback", ["server", "folder"])
def test_a_faulty_source_falls_through_to_the_next(tmp_path, server, mode, _, requests, fallback):
    if fallback == "folder":
        good = tmp_path / "mirror"
        good.mkdir()
        (good / "a.gz").write_bytes(DATA)
        good = str(good)
    else:
        good = url(server, "good")
    dest = tmp_path / "raw"
    assert fetch(dest, [url(server, mode), good]) == {"a.gz": good}
    assert (dest / "a.gz").read_bytes() == DATA
    assert sorted(p.name for p in dest.iterdir()) == ["a.gz"]
    assert leftovers(tmp_path) == []
    faulty = [r for r in server.requests if not r.startswith("/good/")]
    if mode == "chain":
        assert len(faulty) == 1 + urllib.request.HTTPRedirectHandler.max_redirections  # the first request, then urllib's
    elif mode == "loop":
        assert faulty == ["/loop/a.gz"] * (1 + urllib.request.HTTPRedirectHandler.max_repeats)  # the first, then urllib's repeats
    else:
        assert faulty == [f"/{mode}/a.gz"] * requests


@pytest.mark.parametrize("mode, reason, requests", FAULTS, ids=[f[0] for f in FAULTS])
def test_a_faulty_source_alone_fails_clearly_and_leaves_nothing(tmp_path, server, mode, reason, requests):
    dest = tmp_path / "raw"
    source = url(server, mode)
    with pytest.raises(mnist.FetchError) as failure:
        fetch(dest, [source])
    lines = str(failure.value).splitlines()
    assert lines[0] == "could not fetch a.gz from any source:"
    # One line for the one source, naming it and the kind of failure.
    assert lines[1].startswith(f"  {source}: {reason}")
    assert not any(line.startswith("  ") for line in lines[2:])
    assert "MNIST_MIRROR" in lines[2]
    assert not dest.exists()
    assert list(tmp_path.iterdir()) == []


def test_the_deadline_cuts_a_drip_that_no_read_timeout_catches(tmp_path, server):
    started = time.monotonic()
    with pytest.raises(mnist.FetchError, match="deadline"):
        fetch(tmp_path / "raw", [url(server, "drip")], attempts=3)
    elapsed = time.monotonic() - started
    # Cut at the deadline (plus at most one read), and not retried.
    assert DEADLINE <= elapsed < DEADLINE + 2 * TIMEOUT + 1
    assert server.requests == ["/drip/a.gz"]


def test_every_fault_in_turn_then_a_good_source(tmp_path, server):
    sources = [url(server, mode) for mode, _, _ in FAULTS] + [url(server, "good")]
    dest = tmp_path / "raw"
    started = time.monotonic()
    assert fetch(dest, sources, attempts=1) == {"a.gz": url(server, "good")}
    assert time.monotonic() - started < BOUND
    assert (dest / "a.gz").read_bytes() == DATA
    assert leftovers(tmp_path) == []
