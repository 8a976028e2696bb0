"""The environment is the locked one, and the requirements install on every supported platform."""

import concurrent.futures
import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.conftest import PROJECT, in_ci

# Target triples as uv names them, for the platforms the README promises.
PLATFORMS = ["x86_64-manylinux_2_28", "aarch64-manylinux_2_28", "aarch64-apple-darwin", "x86_64-pc-windows-msvc"]
PYTHONS = ["3.11", "3.12"]


def locked_for_this_machine(path=PROJECT / "requirements.lock"):
    """{name: version} of the lock's pins whose environment markers hold here."""
    pins = {}
    for line in path.read_text().replace("\\\n", " ").splitlines():
        line = line.split(" --hash")[0].strip()
        if not line or line.startswith(("#", "-")):
            continue
        requirement = Requirement(line)
        if requirement.marker is None or requirement.marker.evaluate():
            (specifier,) = requirement.specifier
            pins[canonicalize_name(requirement.name)] = specifier.version
    return pins


def test_the_environment_holds_exactly_the_locked_versions():
    installed = {canonicalize_name(d.metadata["Name"]): d.version for d in importlib.metadata.distributions()}
    locked = locked_for_this_machine()
    unlocked = {"pip"}  # comes with the environment
    if "tensorflow-cpu" in locked and "tensorflow-cpu" not in installed:
        # `make GPU=1` swaps TensorFlow's CPU build for its CUDA build and the NVIDIA libraries.
        locked.pop("tensorflow-cpu")
        unlocked |= {"tensorflow"} | {name for name in installed if name.startswith("nvidia-")}
    assert {name: installed.get(name) for name in locked} == locked
    # Anything else unlocked was installed by hand.
    assert sorted(set(installed) - set(locked) - unlocked) == []


def index_reachable(attempts=3):
    """Whether uv's package index answers, asked up to `attempts` times: one lost request on a
    network that works must not fail CI."""
    url = os.environ.get("UV_DEFAULT_INDEX", "https://pypi.org/simple/").rstrip("/") + "/pip/"
    for attempt in range(attempts):
        try:
            with urllib.request.urlopen(url, timeout=15):
                return True
        except OSError:
            time.sleep(2 * attempt)
    return False


@pytest.fixture(scope="module")
def uv():
    found = shutil.which("uv", path=os.path.dirname(sys.executable)) or shutil.which("uv")
    assert found, "uv is pinned in requirements.txt; reinstall the environment"
    if not index_reachable():
        message = "the package index cannot be reached, so the requirements cannot be resolved"
        if in_ci():  # the check that the lock installs everywhere must not pass unnoticed
            pytest.fail(message)
        pytest.skip(message)
    return found


def compile_for(uv, requirements, platform, python):
    return subprocess.run(
        [uv, "pip", "compile", "--quiet", "--no-header", "--python-platform", platform, "--python-version", python,
         "--output-file", os.devnull, requirements],
        cwd=PROJECT, capture_output=True, text=True, timeout=300,
    )


TARGETS = [(r, platform, python) for r in ("requirements.txt", "requirements.lock") for platform in PLATFORMS for python in PYTHONS]


@pytest.fixture(scope="module")
def resolutions(uv):
    # Each resolution mostly waits on the index, so they run side by side.
    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        return dict(zip(TARGETS, pool.map(lambda target: compile_for(uv, *target), TARGETS)))


@pytest.mark.parametrize("requirements, platform, python", TARGETS)
def test_requirements_resolve_for_every_supported_platform(resolutions, requirements, platform, python):
    """uv evaluates the markers for the target platform and fails on any pin without a wheel for it."""
    result = resolutions[requirements, platform, python]
    assert result.returncode == 0, result.stderr


def test_a_pin_without_a_wheel_fails_resolution(uv, tmp_path):
    """The check can fail: tensorflow-cpu alone has no wheel for macOS on Apple Silicon."""
    (tmp_path / "requirements.txt").write_text("tensorflow-cpu==2.21.0\n")
    result = compile_for(uv, str(tmp_path / "requirements.txt"), "aarch64-apple-darwin", "3.11")
    assert result.returncode != 0
    assert "tensorflow-cpu==2.21.0 has no wheels with a matching platform tag" in " ".join(result.stderr.split())


def python_reporting_3_9(folder):
    """A stand-in for an unsupported Python: the real one, saying it is 3.9."""
    stand_in = folder / "python3.9"
    stand_in.write_text(
        "#!/bin/sh\n"
        f'exec "{sys.executable}" -c "import sys; sys.version_info = (3, 9, 18, \'final\', 0); '
        'sys.argv = sys.argv[1:]; exec(open(sys.argv[0]).read())" "$@"\n'
    )
    stand_in.chmod(0o755)
    return stand_in


def test_make_stops_on_an_unsupported_python_with_one_line(tmp_path):
    pythons = [python_reporting_3_9(tmp_path)]
    real = shutil.which("python3.9", path=os.path.expanduser("~/.pyenv/versions/3.9.18/bin"))
    pythons += [real] if real else []
    for number, python in enumerate(pythons):
        venv = tmp_path / f"venv-{number}"
        result = subprocess.run(
            ["make", f"PYTHON={python}", f"VENV={venv}", f"{venv}/.installed-cpu"],
            cwd=PROJECT, capture_output=True, text=True, timeout=60,
        )
        assert result.returncode != 0
        (line,) = [line for line in result.stderr.splitlines() if not line.startswith("make")]
        assert line.startswith("Python 3.9 found (") and "this project supports Python 3.11 and 3.12" in line
        assert not venv.exists()  # stopped before creating anything


@pytest.mark.parametrize("built, removed", [(".installed-gpu", True), (".installed-cpu", False)])
def test_make_starts_afresh_from_an_environment_of_the_other_tensorflow_build(tmp_path, built, removed):
    """`make` (the CPU build) over a `GPU=1` environment would install tensorflow-cpu beside the
    CUDA build; it removes that environment first. Over its own build it updates in place. A
    stand-in Python passes the version check, then fails to make a venv, which stops make there."""
    python = tmp_path / "python"
    python.write_text(f'#!/bin/sh\n[ "$1" = tools/check_python.py ] && exec "{sys.executable}" "$@"\nexit 1\n')
    python.chmod(0o755)
    venv = tmp_path / "venv"
    venv.mkdir()
    (venv / built).touch()
    os.utime(venv / built, (0, 0))  # older than requirements.lock: the lock changed since, so make installs
    (venv / "kept").touch()
    result = subprocess.run(
        ["make", f"PYTHON={python}", f"VENV={venv}", f"{venv}/.installed-cpu"], cwd=PROJECT, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode != 0 and f"{python} -m venv {venv}" in result.stdout  # stopped at the stand-in's venv
    assert (venv / "kept").exists() is not removed


# pip as far as the GPU install goes: which distributions are installed, and whether TensorFlow's
# files (which tensorflow and tensorflow-cpu share) are there.
FAKE_PIP = r"""
import json, sys
from pathlib import Path
state_file = Path(sys.argv[0]).parent / "state.json"
state = json.loads(state_file.read_text())
command, arguments = sys.argv[3], [a for a in sys.argv[4:] if not a.startswith("-")]
if command == "install" and "-r" in sys.argv:
    state["dists"] = sorted({*state["dists"], "tensorflow-cpu"})
    state["files"] = True
elif command == "install" and arguments[0].startswith("tensorflow[and-cuda]"):
    if "tensorflow" not in state["dists"]:  # else "Requirement already satisfied"
        state["dists"] = sorted({*state["dists"], "tensorflow"})
        state["files"] = True
elif command == "uninstall":
    removed = [name for name in arguments if name in state["dists"]]
    state["dists"] = [name for name in state["dists"] if name not in removed]
    state["files"] = state["files"] and not removed
state_file.write_text(json.dumps(state))
"""


def test_make_gpu_updates_an_environment_of_the_cuda_build_to_a_working_tensorflow(tmp_path):
    """After the lock changes, `make GPU=1` installs the lock (tensorflow-cpu among it) into the
    CUDA environment, then puts the CUDA build back: TensorFlow's files must survive the swap."""
    python = tmp_path / "python"
    python.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    python.chmod(0o755)
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "fake_pip.py").write_text(FAKE_PIP)
    (venv / "bin" / "python").write_text(f'#!/bin/sh\nexec "{sys.executable}" "$(dirname "$0")/fake_pip.py" "$@"\n')
    (venv / "bin" / "python").chmod(0o755)
    (venv / "bin" / "state.json").write_text(json.dumps({"dists": ["tensorflow"], "files": True}))
    (venv / ".installed-gpu").touch()
    os.utime(venv / ".installed-gpu", (0, 0))  # older than requirements.lock: the lock changed since
    result = subprocess.run(
        ["make", "GPU=1", f"PYTHON={python}", f"VENV={venv}", f"{venv}/.installed-gpu"], cwd=PROJECT, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads((venv / "bin" / "state.json").read_text()) == {"dists": ["tensorflow"], "files": True}
    assert sorted(path.name for path in venv.glob(".installed-*")) == [".installed-gpu"]
