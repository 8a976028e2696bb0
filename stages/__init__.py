"""The pipeline's entry points, one per stage of dvc.yaml, run as `python -m stages.<name>`.

Python imports this package before any stage, so this is the one place that keeps
TensorFlow's start-up lines (CPU feature notices, absl's preamble) out of every stage's
output. Set DAE_VERBOSE=1 to see them again when debugging.
"""

import os

if os.environ.get("DAE_VERBOSE", "0") in ("", "0"):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # errors still print
