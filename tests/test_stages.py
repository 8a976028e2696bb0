"""The stages package's shared setup (`stages/__init__.py`), in a fresh Python where it changes
process-wide state (the garbage collector, SIGTERM, the stderr descriptor)."""

import ast
import os
import signal
import subprocess
import sys

import pytest

from tests.conftest import PROJECT, imported_modules

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
    native("I0000 00:00:1796013353.573208    2984 cpu_feature_guard.cc:227] This TensorFlow binary is optimized.")
    native("To enable the following instructions: AVX2 FMA, in other operations, rebuild TensorFlow.")
    native("W0000 00:00:1796013353.6    2984 loader.cc:12] a warning")
    native("E0000 00:00:1796013353.7    2984 loader.cc:13] an error")
    print("a Python warning", file=sys.stderr)
    native("To enable the following instructions: kept, after a line that is kept")
try:
    with startup_notices_hidden():
        native("I0000 00:00:1796013353.8    2984 port.cc:153] another notice")
        native("To enable the following instructions: dropped with the notice before it")
        raise ImportError("no such module")
except ImportError:
    print("after", file=sys.stderr)
if len(sys.argv) > 1:  # a native abort mid-import: what came before it still shows
    with startup_notices_hidden():
        native("I0000 00:00:1796013353.9    2984 port.cc:153] a last notice")
        native("F0000 00:00:1796013354.0    2984 loader.cc:14] a fatal error")
        os.abort()
"""
PREAMBLE = "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR"
NOTICES = [
    "I0000 00:00:1796013353.523216    2984 port.cc:153] oneDNN custom operations are on.",
    "I0000 00:00:1796013353.573208    2984 cpu_feature_guard.cc:227] This TensorFlow binary is optimized.",
    "To enable the following instructions: AVX2 FMA, in other operations, rebuild TensorFlow.",
]
WARNING = "W0000 00:00:1796013353.6    2984 loader.cc:12] a warning"
ERROR = "E0000 00:00:1796013353.7    2984 loader.cc:13] an error"
KEPT = ["a Python warning", "To enable the following instructions: kept, after a line that is kept"]
SECOND = [
    "I0000 00:00:1796013353.8    2984 port.cc:153] another notice",
    "To enable the following instructions: dropped with the notice before it",
]


def startup_notices(*args, **env):
    result = subprocess.run(
        [sys.executable, "-c", STARTUP_NOTICES, *args], cwd=PROJECT, capture_output=True, text=True, timeout=60,
        env={key: value for key, value in {**os.environ, **env}.items() if value is not None},
    )
    return result.returncode, result.stderr.splitlines()


@pytest.mark.parametrize(
    "log_level, shown",
    [
        (None, KEPT),  # the stages' default, 3: errors hidden too
        ("2", [ERROR, *KEPT]),
        ("1", [WARNING, ERROR, *KEPT]),
        ("0", [*NOTICES, WARNING, ERROR, *KEPT, *SECOND]),
    ],
)
def test_startup_notices_hide_what_the_log_level_hides_and_keep_every_other_line_in_order(log_level, shown):
    returncode, lines = startup_notices(DAE_VERBOSE=None, TF_CPP_MIN_LOG_LEVEL=log_level)
    assert returncode == 0, lines
    assert lines == ["before", *shown, "after"]


def test_with_dae_verbose_every_startup_line_shows():
    returncode, lines = startup_notices(DAE_VERBOSE="1", TF_CPP_MIN_LOG_LEVEL=None)
    assert returncode == 0, lines
    assert lines == ["before", PREAMBLE, *NOTICES, WARNING, ERROR, *KEPT, *SECOND, "after"]


def test_a_native_abort_mid_import_still_shows_what_came_before_it():
    returncode, lines = startup_notices("abort", DAE_VERBOSE=None, TF_CPP_MIN_LOG_LEVEL=None)
    assert returncode == -signal.SIGABRT
    assert lines[-1] == "F0000 00:00:1796013354.0    2984 loader.cc:14] a fatal error"
    assert "a last notice" not in "".join(lines)


def tensorflow_importers():
    """tensorflow, keras, and every `dae` module that imports either at its top, itself or through another."""
    heavy = {"tensorflow", "keras"}
    modules = {f"dae.{path.stem}": set(imported_modules(ast.parse(path.read_text()).body)) for path in (PROJECT / "dae").glob("*.py")}
    while new := {name for name, imports in modules.items() if loads_any(imports, heavy)} - heavy:
        heavy |= new
    return heavy


def loads_any(imports, heavy):
    """Those of the module names `imports` that load TensorFlow: `heavy` ones, or any under tensorflow or keras."""
    return sorted(name for name in imports if name in heavy or name.split(".")[0] in ("tensorflow", "keras"))


def test_every_stage_imports_tensorflow_under_frozen_imports_with_its_notices_hidden():
    """A stage that imports TensorFlow, Keras or a `dae` module that does (dae.models, say) does
    so inside `with frozen_imports(), startup_notices_hidden():`, never at its top."""
    heavy = tensorflow_importers()
    assert {"dae.models", "dae.training"} <= heavy and "dae.noise" not in heavy

    guarded = 0
    for script in sorted((PROJECT / "stages").glob("*.py")):
        tree = ast.parse(script.read_text())
        assert not loads_any(imported_modules(tree.body), heavy), script.name  # the module's own statements, not those inside a `with`
        blocks = [
            node for node in tree.body
            if isinstance(node, ast.With)
            and {getattr(item.context_expr.func, "id", "") for item in node.items if isinstance(item.context_expr, ast.Call)}
            >= {"frozen_imports", "startup_notices_hidden"}
        ]
        guarded += any(loads_any(imported_modules(block.body), heavy) for block in blocks)
    assert guarded >= 2  # train and evaluate
