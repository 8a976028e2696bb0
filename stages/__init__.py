"""The pipeline's entry points, one per stage of dvc.yaml, run as `python -m stages.<name>`.

Python imports this package before any stage, so this is the one place that keeps
TensorFlow's start-up lines (CPU feature notices, absl's preamble) out of every stage's
output. Set DAE_VERBOSE=1 to see them again when debugging. Stages that import TensorFlow do
so under `frozen_imports` and `startup_notices_hidden`.
"""

import gc
import os
import re
import signal
import sys
import tempfile
from contextlib import contextmanager

QUIET = os.environ.get("DAE_VERBOSE", "0") in ("", "0")
# What TensorFlow's native libraries print while they load, before its logging starts and so
# before TF_CPP_MIN_LOG_LEVEL applies: absl's preamble, then info and warning lines (on CPUs where
# oneDNN is on by default, e.g. Xeons with AVX-512 VNNI: "oneDNN custom operations are on").
EARLY_NOTICE = re.compile(rb"WARNING: All log messages before absl::InitializeLog\(\) is called|[IW]\d{4} [\d:.]+ +\d+ \S+:\d+\] ")

if QUIET:
    # 3 hides TensorFlow's C++ log lines up to ERROR too: tf.data under Keras logs a harmless
    # "NodeDef mentions attribute use_unbounded_threadpool" line at that level on small data.
    # Real failures still stop the stage with a Python exception and its message.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

# SIGTERM (`kill`, a CI timeout) ends a stage like Ctrl-C does, through its `finally` blocks, so that
# no temporary file is left; Python's default would stop it on the spot.
signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))


@contextmanager
def frozen_imports():
    """Imports whose objects live as long as the stage, kept out of Python's garbage collection.

    TensorFlow's import leaves hundreds of thousands of objects for Python's cyclic collector,
    which walks them again and again while they pile up (about 0.6 s of a 3.7 s import here),
    then in every later full collection, and once more at exit (0.8 s). `gc.freeze` moves every
    object tracked so far out of its reach for good. The garbage made before is collected first,
    so that little but the imports' own objects is frozen; the stage's garbage made afterwards
    is collected as usual.
    (Here rather than in `dae`: it is about the stage's process, not the library.)
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


@contextmanager
def startup_notices_hidden():
    """The block's native start-up notices (`EARLY_NOTICE`) are dropped from stderr; every other
    line written to it, errors and Python's own warnings, is passed on in order when it ends.

    They are written straight to file descriptor 2 by C++ code, past `sys.stderr`, so the
    descriptor itself points at a temporary file while the block runs. With DAE_VERBOSE=1 nothing
    is held back.
    """
    if not QUIET:
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            sys.stderr.buffer.write(b"".join(line for line in captured if not EARLY_NOTICE.match(line)))
            sys.stderr.flush()
