"""The stages package's shared setup (`stages/__init__.py`), in a fresh Python: it changes
process-wide state (the garbage collector, SIGTERM) that the test process must keep."""

import subprocess
import sys

from tests.conftest import PROJECT

FROZEN_IMPORTS = """
import gc
from stages import frozen_imports

before = gc.get_freeze_count()
with frozen_imports():
    assert not gc.isenabled()  # no collection while the imports pile up
    import json, tarfile
assert gc.isenabled() and gc.get_freeze_count() > before  # what they made is frozen, collection back on

try:
    with frozen_imports():
        import no_such_module_here
except ImportError:
    assert gc.isenabled()  # a failed import must not leave the collector off
else:
    raise AssertionError("the import should have failed")
print("ok")
"""


def test_frozen_imports_freezes_what_they_make_and_turns_collection_back_on():
    result = subprocess.run([sys.executable, "-c", FROZEN_IMPORTS], cwd=PROJECT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and result.stdout == "ok\n", result.stderr
