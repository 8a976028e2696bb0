"""The process around an entry point (a stage, a tool): TensorFlow's import kept quick and quiet,
NumPy's BLAS arithmetic the same across CPUs, and SIGTERM ending it as Ctrl-C does.

An entry point calls `setup_entry_point()` before it imports anything else (the stages and tools
do so in their packages' `__init__.py`), and imports TensorFlow, Keras or a module that does
(`dae.models`) under `with frozen_imports(), startup_notices_hidden():`. Set DAE_VERBOSE=1 to see TensorFlow's
start-up lines again when debugging.
"""

import gc
import io
import os
import re
import signal
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

# OpenBLAS, NumPy's BLAS, picks its kernels by CPU, and kernels round differently: two Xeons wrote
# Wiener filters differing in their last bits from each other and from an AMD EPYC's. Its Haswell
# kernels (AVX2 and FMA) run on any x86-64 CPU with those, and are the ones it picks on an AMD Zen
# without AVX-512 anyway. Its eigendecomposition also rounds by its number of threads (1 and 2
# differ); the committed results were made with 2. With both, NumPy's results agree across Linux
# x86-64 CPUs with AVX2, FMA and at least two cores (README, "What reproduces where"). On the Xeon,
# `wiener` took 0.1 s longer and `evaluate` 0.3 s less.
BLAS_CORE = "Haswell"
BLAS_THREADS = 2
# OpenBLAS takes its number of threads from the first of these that is set.
BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "OMP_NUM_THREADS")


def quiet():
    """Whether TensorFlow's start-up lines are kept out of the output: unless DAE_VERBOSE is set (to anything but 0)."""
    return os.environ.get("DAE_VERBOSE", "0") in ("", "0")


def cpu_flags(cpuinfo=Path("/proc/cpuinfo")):
    """The CPU's feature flags, as Linux lists them (none elsewhere, or on CPUs that call them otherwise)."""
    try:
        lines = cpuinfo.read_text(errors="replace").splitlines()
    except OSError:
        return set()
    return next((set(line.split(":", 1)[1].split()) for line in lines if line.split(":")[0].strip() == "flags"), set())


def blas_core(flags):
    """The OpenBLAS kernels to ask for on a CPU with these feature flags; None: OpenBLAS's own choice."""
    return BLAS_CORE if {"avx2", "fma"} <= set(flags) else None


def usable_cores():
    """How many CPUs this process may run on: its affinity where the system has one (Linux), as
    TensorFlow counts them, else all of them."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def setup_entry_point():
    """Call before NumPy or TensorFlow loads: OpenBLAS's kernels (`blas_core`) and threads
    (`BLAS_THREADS`, at most one a CPU: OpenBLAS's own cap), NumPy's huge pages (off) and
    TensorFlow's log level, each unless set already, standard output written a line at a time, and
    SIGTERM ending the process as Ctrl-C does."""
    core = blas_core(cpu_flags())
    if core:  # both read once, as NumPy loads OpenBLAS
        os.environ.setdefault("OPENBLAS_CORETYPE", core)
    if not any(os.environ.get(name) for name in BLAS_THREAD_VARIABLES):
        os.environ["OPENBLAS_NUM_THREADS"] = str(BLAS_THREADS)
    # NumPy asks Linux for huge pages under every array of 4 MB or more. On a virtual machine that
    # hands its free memory back to the host, as the 2-core benchmark machine does, they are
    # slow to come by: first touching 200 MB took 0.47 s with them, 0.09 s without, and `evaluate`
    # ran 0.3 s faster without (identical outputs). NUMPY_MADVISE_HUGEPAGE=1 asks for them again.
    os.environ.setdefault("NUMPY_MADVISE_HUGEPAGE", "0")
    if quiet():
        # 3 hides TensorFlow's C++ log lines up to ERROR too: tf.data under Keras logs a harmless
        # "NodeDef mentions attribute use_unbounded_threadpool" line at that level on small data.
        # Real failures still stop the stage with a Python exception and its message. (TensorFlow
        # reads it once, as it loads: so before any import of it.)
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    # Each line out as it is printed, even where DVC's output goes to a pipe or a file (`| tee`, a CI
    # log, a queued experiment's log), in which Python would hold it until its buffer filled: a
    # training's first lines then show as it starts, not with its first epoch's.
    if isinstance(sys.stdout, io.TextIOWrapper):  # Python's own (None without a stdout; an IDE may set another)
        sys.stdout.reconfigure(line_buffering=True)
    # SIGTERM (`kill`, a CI timeout) ends the process like Ctrl-C does, through its `finally` blocks,
    # so that no temporary file is left; Python's default would stop it on the spot.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))


@contextmanager
def frozen_imports():
    """Imports whose objects live as long as the process, kept out of Python's garbage collection.

    TensorFlow's import leaves hundreds of thousands of objects for Python's cyclic collector,
    which walks them again and again while they pile up (about 0.6 s of a 3.7 s import here),
    then in every later full collection, and once more at exit (0.8 s). `gc.freeze` moves every
    object tracked so far out of its reach for good. The garbage made before is collected first,
    so that little but the imports' own objects is frozen; the garbage made afterwards
    is collected as usual.
    """
    enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()


# The filter of `startup_notices_hidden`, in a Python of its own: if a native abort kills the
# stage mid-import, what the import wrote before still comes out. It drops absl's preamble and
# the log lines below TF_CPP_MIN_LOG_LEVEL (argv[1]: 1 hides info, 2 warnings too, 3 errors too;
# fatal ones always show), with the second line of TensorFlow's two-line CPU-feature notice.
# Ctrl-C and SIGTERM reach it with the stage, its process group: it starts with them blocked,
# ignores them, and ends when the pipe does, after the lines still in it.
NOTICE_FILTER = r"""
import re, signal, sys
signal.signal(signal.SIGINT, signal.SIG_IGN)
signal.signal(signal.SIGTERM, signal.SIG_IGN)
hidden = "IWE"[: int(sys.argv[1])]
log_line = re.compile(rb"([IWEF])\d{4} [\d:.]+ +\d+ \S+:\d+\] ")
dropping = False
for line in sys.stdin.buffer:
    match = log_line.match(line)
    if match:
        dropping = match.group(1).decode() in hidden
    elif line.startswith(b"WARNING: All log messages before absl::InitializeLog() is called"):
        dropping = True
    else:
        dropping = dropping and line.startswith(b"To enable the following instructions:")
    if not dropping:
        sys.stdout.buffer.write(line)
        sys.stdout.buffer.flush()
"""


def log_level(value):
    """TF_CPP_MIN_LOG_LEVEL as TensorFlow reads it (a leading integer, else 0), within 0 to 3."""
    number = re.match(r"\s*([+-]?[0-9]+)", value or "", re.ASCII)
    return min(max(int(number.group(1)), 0), 3) if number else 0


@contextmanager
def startup_notices_hidden():
    """TensorFlow's native start-up notices, written while the block runs, kept out of stderr.

    Its libraries print them as they load, before TensorFlow's logging starts and so whatever
    TF_CPP_MIN_LOG_LEVEL says: absl's preamble and, on CPUs where oneDNN is on by default (Xeons
    with AVX-512 VNNI, say), "oneDNN custom operations are on". They go straight to file
    descriptor 2, past `sys.stderr`, so the descriptor itself is passed through `NOTICE_FILTER`
    while the block runs; the log lines that TF_CPP_MIN_LOG_LEVEL would hide are dropped, every
    other line (errors, Python's warnings) passes as it comes. With DAE_VERBOSE=1, with no
    stderr, or if the filter cannot start, nothing is held back.
    """
    notice_filter = saved = None
    if quiet():
        try:
            saved = os.dup(2)
            # -I -S: no site packages or user settings, a start of a few milliseconds.
            command = [sys.executable, "-I", "-S", "-c", NOTICE_FILTER, str(log_level(os.environ.get("TF_CPP_MIN_LOG_LEVEL")))]
            # Started with Ctrl-C and SIGTERM blocked, which it inherits: in its first milliseconds,
            # before it ignores them, they would kill it and cut the stage's stderr.
            # (Windows has no signal masks.)
            mask = getattr(signal, "pthread_sigmask", None)
            blocked = mask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM}) if mask else None
            try:
                notice_filter = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=saved, stderr=saved)
            finally:
                if mask:
                    mask(signal.SIG_SETMASK, blocked)
        except (OSError, ValueError, TypeError):  # no stderr, or no Python to run (a frozen app)
            pass
    if notice_filter is None:
        if saved is not None:
            os.close(saved)
        yield
        return
    try:
        if sys.stderr:
            sys.stderr.flush()
        os.dup2(notice_filter.stdin.fileno(), 2)
        yield
    finally:
        if sys.stderr:
            sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        notice_filter.stdin.close()
        try:  # its lines before the stage's next ones; a process started in the block may hold the pipe
            notice_filter.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
