"""The stages package's shared setup (`stages/__init__.py`), in a fresh Python where it changes
process-wide state (the garbage collector, SIGTERM, the stderr descriptor)."""

import ast
import os
import subprocess
import sys

import pytest

from tests.conftest import PROJECT

FROZEN_IMPORTS = """
import gc, weakref
from stages import frozen_imports

class Node:
    pass

gc.unfreeze()
garbage = Node(); garbage.cycle = garbage  # unreachable once dropped, but only the collector frees it
collected = weakref.ref(garbage)
del garbage
with frozen_imports():
    assert not gc.isenabled()  # no collection while the imports pile up
    assert gc.get_freeze_count() == 0  # nothing frozen before they are done
    made = [Node() for _ in range(100_000)]  # what an import leaves behind
assert collected() is None  # garbage from before was collected, not frozen for good
assert gc.isenabled() and gc.get_freeze_count() >= 100_000  # what they made is frozen, collection back on

gc.disable()
with frozen_imports():
    pass
assert not gc.isenabled()  # the collector is left as it was found

gc.enable()
try:
    with frozen_imports():
        import no_such_module_here
except ImportError:
    assert gc.isenabled()  # a failed import must not leave the collector off
else:
    raise AssertionError("the import should have failed")
print("ok")
"""


def test_frozen_imports_freezes_what_they_make_and_leaves_the_collector_as_it_was():
    result = subprocess.run([sys.executable, "-c", FROZEN_IMPORTS], cwd=PROJECT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and result.stdout == "ok\n", result.stderr


STARTUP_NOTICES = r"""
import os, sys
from stages import startup_notices_hidden

def native(line):  # as C++ code writes: to the descriptor, past sys.stderr
    os.write(2, line.encode() + b"\n")

print("before", file=sys.stderr)
with startup_notices_hidden():
    native("WARNING: All log messages before absl::InitializeLog() is called are written to STDERR")
    native("I0000 00:00:1796013353.523216    2984 port.cc:153] oneDNN custom operations are on.")
    native("W0000 00:00:1796013353.573208    2984 cpu_feature_guard.cc:227] a warning")
    native("E0000 00:00:1796013353.573208    2984 loader.cc:12] a real error")
    print("a Python warning", file=sys.stderr)
try:
    with startup_notices_hidden():
        native("I0000 00:00:1796013353.523216    2984 port.cc:153] dropped")
        native("Traceback: a failed import's own lines")
        raise ImportError("no such module")
except ImportError:
    print("after", file=sys.stderr)
"""


@pytest.mark.parametrize("verbose", ["0", "1"])
def test_startup_notices_are_dropped_and_every_other_line_kept_in_order(verbose):
    env = {**os.environ, "DAE_VERBOSE": verbose}
    result = subprocess.run([sys.executable, "-c", STARTUP_NOTICES], cwd=PROJECT, capture_output=True, text=True, timeout=60, env=env)
    assert result.returncode == 0, result.stderr
    kept = ["E0000 00:00:1796013353.573208    2984 loader.cc:12] a real error", "a Python warning"]
    failed = ["Traceback: a failed import's own lines"]
    if verbose == "1":  # DAE_VERBOSE=1 shows everything
        assert "oneDNN custom operations are on." in result.stderr and "dropped" in result.stderr
    else:
        assert result.stderr.splitlines() == ["before", *kept, *failed, "after"]


def test_every_stage_imports_tensorflow_under_frozen_imports_with_its_notices_hidden():
    """A stage importing TensorFlow or Keras at its top does so inside
    `with frozen_imports(), startup_notices_hidden():`."""
    checked = 0
    for script in sorted((PROJECT / "stages").glob("*.py")):
        tree = ast.parse(script.read_text())
        frozen = [
            node for node in tree.body
            if isinstance(node, ast.With)
            and {getattr(item.context_expr.func, "id", "") for item in node.items if isinstance(item.context_expr, ast.Call)}
            >= {"frozen_imports", "startup_notices_hidden"}
        ]
        for node in tree.body:  # the module's own statements, not those inside a `with`
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [node.module or ""] if isinstance(node, ast.ImportFrom) else [alias.name for alias in node.names]
                assert not [name for name in names if name.split(".")[0] in ("tensorflow", "keras")], f"{script.name}: {names}"
        imports = [alias.name for block in frozen for node in block.body if isinstance(node, ast.Import) for alias in node.names]
        checked += "tensorflow" in imports or "keras" in imports
    assert checked >= 2  # train and evaluate
