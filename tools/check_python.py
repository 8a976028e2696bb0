"""Stop with one line when this Python is not one the project supports; run it before installing.

Plain Python 3 with no imports beyond sys, so that any Python can run it and say so.
"""

import sys

SUPPORTED = ((3, 11), (3, 12))

found = tuple(sys.version_info[:2])
if found not in SUPPORTED:
    sys.exit(
        "Python {}.{} found ({}), but this project supports Python {}: "
        "choose one, e.g. `make repro PYTHON=python3.11`, or `python3.11 -m venv .venv` without make".format(
            found[0], found[1], sys.executable, " and ".join("{}.{}".format(*v) for v in SUPPORTED)
        )
    )
