"""The pipeline's entry points, one per stage of dvc.yaml, run as `python -m stages.<name>`.

Python imports this package before any stage, so this is the one place that keeps
TensorFlow's start-up lines (CPU feature notices, absl's preamble) out of every stage's
output. Set DAE_VERBOSE=1 to see them again when debugging. Stages that import TensorFlow do
so under `frozen_imports`.
"""

import gc
import os
import signal
import sys
from contextlib import contextmanager

if os.environ.get("DAE_VERBOSE", "0") in ("", "0"):
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
