"""The process setup of every stage and tool (`dae.process`), in a fresh Python where it changes
process-wide state (the garbage collector, SIGTERM, the stderr descriptor)."""

import ast
import os
import platform
import select
import signal
import subprocess
import sys
from contextlib import contextmanager

import pytest

from dae.process import BLAS_CORE, BLAS_THREAD_VARIABLES, blas_core, cpu_flags, log_level
from tests.conftest import PROJECT, default_logging, environment_without, imported_modules, package_of


def python(script, *args, **kwargs):
    """`script` run in a fresh Python from the project root, its output captured as text."""
    return subprocess.run([sys.executable, "-c", script, *args], cwd=PROJECT, capture_output=True, text=True, timeout=60, **kwargs)


FROZEN_IMPORTS = """
import gc, weakref
from dae.process import frozen_imports

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
    result = python(FROZEN_IMPORTS)
    assert result.returncode == 0 and result.stdout == "ok\n", result.stderr


STARTUP_NOTICES = r"""
import os, sys
from dae.process import setup_entry_point, startup_notices_hidden
setup_entry_point()  # as every stage and tool starts

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
    result = python(STARTUP_NOTICES, *args, env=default_logging(**env))
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


def test_startup_notices_are_hidden_where_signals_cannot_be_masked():
    # As on Windows, whose Python has no signal.pthread_sigmask.
    result = python("import signal\ndel signal.pthread_sigmask\n" + STARTUP_NOTICES, env=default_logging(DAE_VERBOSE=None, TF_CPP_MIN_LOG_LEVEL=None))
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == ["before", *KEPT, "after"]


def test_with_dae_verbose_every_startup_line_shows():
    returncode, lines = startup_notices(DAE_VERBOSE="1", TF_CPP_MIN_LOG_LEVEL=None)
    assert returncode == 0, lines
    assert lines == ["before", PREAMBLE, *NOTICES, WARNING, ERROR, *KEPT, *SECOND, "after"]


def test_a_native_abort_mid_import_still_shows_what_came_before_it():
    returncode, lines = startup_notices("abort", DAE_VERBOSE=None, TF_CPP_MIN_LOG_LEVEL=None)
    assert returncode == -signal.SIGABRT
    assert lines == ["before", *KEPT, "after", "F0000 00:00:1796013354.0    2984 loader.cc:14] a fatal error"]


@pytest.mark.parametrize(
    "value, level",
    [("3", 3), ("0", 0), ("9", 3), ("-1", 0), (" 2", 2), ("+2", 2), ("2x", 2), ("", 0), ("abc", 0), ("\u00b2", 0), (None, 0)],
)
def test_the_log_level_is_read_as_tensorflow_reads_it(value, level):
    assert log_level(value) == level


# A block that waits for the test between its lines: more than a pipe holds, and a signal to its
# process group (Ctrl-C, `timeout`), which the stage here traps and reports instead of ending.
WAITING = r"""
import os, signal, sys
from dae.process import setup_entry_point, startup_notices_hidden
setup_entry_point()
if len(sys.argv) > 1:
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda signum, frame: os.write(2, b"signal\n"))
with startup_notices_hidden():
    os.write(2, b"I0000 00:00:1796013353.8    2984 port.cc:153] a notice\n")
    os.write(2, b"first\n")
    sys.stdin.readline()  # the test reads "first" meanwhile: the lines pass as they come
    os.write(2, b"".join(b"line %d\n" % i for i in range(20_000)))  # about 200 KB, past a pipe's 64 KB
    sys.stdin.readline()
print("done", file=sys.stderr)
"""


@contextmanager
def waiting_block(*args):
    env = default_logging()
    with subprocess.Popen(
        [sys.executable, "-c", WAITING, *args], cwd=PROJECT, env=env, stdin=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, start_new_session=True,  # its own process group, as a terminal starts a command
    ) as block:
        try:
            assert next_line(block) == "first\n"  # not held until the block ends
            yield block
        finally:
            if block.poll() is None:  # a failed test leaves no process waiting
                os.killpg(block.pid, signal.SIGKILL)


def next_line(process):
    ready, _, _ = select.select([process.stderr], [], [], 30)
    return process.stderr.readline() if ready else None


def test_lines_pass_as_they_come_however_many():
    with waiting_block() as block:
        stdout, stderr = block.communicate("\n\n", timeout=60)
    assert block.returncode == 0, stderr
    assert stderr.splitlines() == [f"line {i}" for i in range(20_000)] + ["done"]


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_the_filter_outlives_a_signal_to_the_stages_process_group(signum):
    with waiting_block("trap") as block:
        os.killpg(block.pid, signum)  # as Ctrl-C or `timeout` does: the stage and its filter
        assert next_line(block) == "signal\n"  # through the filter, still there
        stdout, stderr = block.communicate("\n\n", timeout=60)
    assert block.returncode == 0, stderr
    assert stderr.splitlines() == [f"line {i}" for i in range(20_000)] + ["done"]


def test_a_signal_as_the_filter_starts_does_not_kill_it():
    """Ctrl-C to the group just as the block begins, before the filter could set itself to ignore it."""
    script = (
        "import os, signal, sys, time\nfrom dae.process import startup_notices_hidden\n"
        "signal.signal(signal.SIGINT, lambda signum, frame: os.write(2, b'signal\\n'))\n"
        "for _ in range(20):\n"
        "    with startup_notices_hidden():\n"
        "        os.killpg(0, signal.SIGINT)\n"
        "        time.sleep(0.05)\n"
        "        os.write(2, b'after\\n')\n"
    )
    result = python(script, env=default_logging(), start_new_session=True)  # the signal goes to this group only, not to the tests
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == ["signal", "after"] * 20


def test_without_python_to_run_the_filter_the_block_runs_unfiltered():
    script = (
        "import os, sys\nfrom dae.process import startup_notices_hidden\nsys.executable = ''\n"
        "with startup_notices_hidden():\n    os.write(2, b'I0000 00:00:1796013353.8    2984 port.cc:153] a notice\\n')\n"
    )
    result = python(script, env=default_logging())
    assert result.returncode == 0 and result.stderr == "I0000 00:00:1796013353.8    2984 port.cc:153] a notice\n"


def test_without_stderr_the_block_runs_unfiltered():
    script = "import os\nfrom dae.process import startup_notices_hidden\nos.close(2)\nwith startup_notices_hidden():\n    print('ran')\n"
    result = python(script)
    assert result.returncode == 0 and result.stdout == "ran\n"


def module_name(path):
    """The dotted name of a module's file under the project: `dae/training/__init__.py` is `dae.training`."""
    parts = path.relative_to(PROJECT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def tensorflow_importers():
    """tensorflow, keras, and every `dae` module that imports either at its top, itself or through another."""
    heavy = {"tensorflow", "keras"}
    modules = {
        module_name(path): set(imported_modules(ast.parse(path.read_text()).body, package_of(path)))
        for path in (PROJECT / "dae").rglob("*.py")
    }
    while new := {name for name, imports in modules.items() if loads_any(imports, heavy)} - heavy:
        heavy |= new
    return heavy


def loads_any(imports, heavy):
    """Those of the module names `imports` that load TensorFlow: a `heavy` one or a module in one
    (tensorflow's, keras's, and those of a package: `dae.training.stream` runs `dae.training` first)."""
    return sorted(name for name in imports if any(".".join(name.split(".")[:end]) in heavy for end in range(1, name.count(".") + 2)))


def guarded_imports(tree):
    """The import statements of `tree` inside a `with frozen_imports(), startup_notices_hidden():`."""
    guards = [
        node for node in ast.walk(tree)
        if isinstance(node, ast.With)
        and {getattr(item.context_expr.func, "id", "") for item in node.items if isinstance(item.context_expr, ast.Call)}
        >= {"frozen_imports", "startup_notices_hidden"}
    ]
    return [node for guard in guards for statement in guard.body for node in ast.walk(statement) if isinstance(node, (ast.Import, ast.ImportFrom))]


def test_every_command_imports_tensorflow_under_frozen_imports_with_its_notices_hidden():
    """A stage or tool that imports TensorFlow, Keras or a `dae` module that does (dae.models, say)
    does so inside `with frozen_imports(), startup_notices_hidden():`, wherever the import is."""
    heavy = tensorflow_importers()
    assert {"dae.models", "dae.training", "dae.training.stream"} <= heavy and "dae.noise" not in heavy
    importers = set()
    for script in sorted([*(PROJECT / "stages").glob("*.py"), *(PROJECT / "tools").glob("*.py")]):
        tree = ast.parse(script.read_text())
        guarded = guarded_imports(tree)
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)) and loads_any(imported_modules([node]), heavy):
                assert node in guarded, f"{script.relative_to(PROJECT)}, line {node.lineno}"
                importers.add(script.relative_to(PROJECT).as_posix())
    assert importers == {"stages/train.py", "stages/evaluate.py", "tools/denoise.py", "tools/score.py"}


def test_cpu_flags_are_read_from_linux_cpuinfo(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nmodel name\t: Some CPU\nflags\t\t: fpu sse2 avx2 fma\nbugs\t\t: spectre\n")
    assert cpu_flags(cpuinfo) == {"fpu", "sse2", "avx2", "fma"}
    cpuinfo.write_text("processor\t: 0\nFeatures\t: fp asimd\n")  # an ARM CPU's
    assert cpu_flags(cpuinfo) == set()
    assert cpu_flags(tmp_path / "absent") == set()  # not Linux


def test_haswell_kernels_only_where_the_cpu_runs_them():
    assert blas_core({"sse2", "avx", "avx2", "fma", "avx512f"}) == BLAS_CORE == "Haswell"
    assert blas_core({"sse2", "avx", "avx2"}) is None  # they need FMA too
    assert blas_core(set()) is None


OPENBLAS_SETUP = """
import importlib, os, sys
os.environ.update(OPENBLAS_VERBOSE="2")  # OpenBLAS names its kernels as it loads
importlib.import_module(sys.argv[1])  # the package of the stages or of the tools, which sets up the process
import numpy
print("OPENBLAS_CORETYPE:", os.environ.get("OPENBLAS_CORETYPE"))
print("OPENBLAS_NUM_THREADS:", os.environ.get("OPENBLAS_NUM_THREADS"))
"""
BLAS_SETTINGS = ("OPENBLAS_CORETYPE", *BLAS_THREAD_VARIABLES)


def openblas_setup(package, **env):
    """OpenBLAS's kernels ("Core: ...", as it says) and the BLAS settings in the environment of a
    fresh Python that imports `package` first, with only `env`'s own BLAS settings."""
    result = python(OPENBLAS_SETUP, package, env=environment_without(BLAS_SETTINGS, **env))
    assert result.returncode == 0, result.stderr
    lines = (result.stdout + result.stderr).splitlines()
    return dict(line.split(": ", 1) for line in lines if line.startswith(("Core: ", "OPENBLAS_")))


@pytest.mark.parametrize("package", ["stages", "tools"])
def test_stages_and_tools_give_openblas_two_threads_unless_told_a_number(package):
    assert openblas_setup(package)["OPENBLAS_NUM_THREADS"] == "2"
    assert openblas_setup(package, OPENBLAS_NUM_THREADS="1")["OPENBLAS_NUM_THREADS"] == "1"
    assert openblas_setup(package, OMP_NUM_THREADS="1")["OPENBLAS_NUM_THREADS"] == "None"  # OpenBLAS reads that one then


@pytest.mark.skipif(not (sys.platform.startswith("linux") and platform.machine() == "x86_64"), reason="reads Linux's x86-64 CPU flags")
@pytest.mark.parametrize("package", ["stages", "tools"])
def test_stages_and_tools_run_numpy_on_openblas_haswell_kernels_unless_told_otherwise(package):
    flags = cpu_flags()
    assert {"fpu", "sse2"} <= flags  # every x86-64 CPU has them: the real /proc/cpuinfo was read
    if blas_core(flags) is None:
        pytest.skip("this CPU has no AVX2 or FMA for OpenBLAS's Haswell kernels")
    setup = openblas_setup(package)
    # Asked for, not just OpenBLAS's own choice (which is Haswell on some CPUs), and taken.
    assert setup["OPENBLAS_CORETYPE"] == setup["Core"] == "Haswell"
    setup = openblas_setup(package, OPENBLAS_CORETYPE="Sandybridge")  # the user's choice stands
    assert setup["OPENBLAS_CORETYPE"] == setup["Core"] == "Sandybridge"


HUGEPAGES = """
import importlib, sys
importlib.import_module(sys.argv[1])  # the package of the stages or of the tools, which sets up the process
import numpy
print(numpy._core.multiarray._get_madvise_hugepage())
"""


@pytest.mark.parametrize("package", ["stages", "tools"])
def test_stages_and_tools_keep_numpy_from_asking_for_huge_pages_unless_told_to(package):
    def asks(**env):
        result = python(HUGEPAGES, package, env=environment_without(["NUMPY_MADVISE_HUGEPAGE"], **env))
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()

    assert asks() == "False"
    assert asks(NUMPY_MADVISE_HUGEPAGE="1") == "True"  # the user's choice stands


@pytest.mark.parametrize("package", ["stages", "tools"])
def test_stages_and_tools_write_each_line_as_they_print_it(package):
    """Into a pipe (where a stage's output goes when DVC's is piped: `| tee`, a CI log), a printed
    line arrives while the process runs on, not at its end (PYTHONUNBUFFERED, which would do that
    for any Python, left out)."""
    script = f"import {package}, time; print('first line'); time.sleep(60)"
    env = environment_without(["PYTHONUNBUFFERED"])
    with subprocess.Popen([sys.executable, "-c", script], cwd=PROJECT, stdout=subprocess.PIPE, env=env) as process:
        try:
            ready, _, _ = select.select([process.stdout], [], [], 20)
            assert ready, "nothing arrived in 20 s"
            assert process.stdout.readline() == b"first line\n"
        finally:
            process.kill()
