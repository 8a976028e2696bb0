"""The pipeline's entry points, one per stage of dvc.yaml, run as `python -m stages.<name>`.

Python imports this package before any stage, so this is the one place that keeps
TensorFlow's start-up lines (CPU feature notices, absl's preamble) out of every stage's
output. Set DAE_VERBOSE=1 to see them again when debugging.
"""

import os
import signal
import sys

if os.environ.get("DAE_VERBOSE", "0") in ("", "0"):
    # 3 hides TensorFlow's C++ log lines up to ERROR too: tf.data under Keras logs a harmless
    # "NodeDef mentions attribute use_unbounded_threadpool" line at that level on small data.
    # Real failures still stop the stage with a Python exception and its message.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

# SIGTERM (`kill`, a CI timeout) ends a stage like Ctrl-C does, through its `finally` blocks, so that
# no temporary file is left; Python's default would stop it on the spot.
signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
