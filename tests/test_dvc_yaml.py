"""dvc.yaml declares, for every stage, exactly the code that the stage runs."""

import ast
import shutil
import subprocess
from pathlib import Path

import yaml

from tests.conftest import PROJECT, imported_modules, package_of
from tests.e2e import run


def module_files(name):
    """The files Python runs to import module `name`: each package's `__init__.py` on the way
    (`dae.training.stream` runs `dae/training/__init__.py` first), then the module's own file."""
    parts = name.split(".")
    for end in range(1, len(parts) + 1):
        base = PROJECT.joinpath(*parts[:end])
        yield from (path for path in (base / "__init__.py", base.with_suffix(".py")) if path.is_file())


def imported_library_files(module_path, seen=None):
    """The dae files a script imports, directly or through other dae modules and packages."""
    seen = set() if seen is None else seen
    for name in imported_modules(ast.walk(ast.parse(Path(module_path).read_text())), package_of(module_path)):
        if name.split(".")[0] != "dae":
            continue
        for path in module_files(name):
            relative = str(path.relative_to(PROJECT))
            if relative != "dae/__init__.py" and relative not in seen:
                seen.add(relative)
                imported_library_files(path, seen)
    return seen


def stages():
    for name, stage in yaml.safe_load((PROJECT / "dvc.yaml").read_text())["stages"].items():
        yield name, stage.get("do", stage)


def test_every_stage_depends_on_exactly_the_code_it_imports():
    for name, stage in stages():
        script = stage["cmd"].split()[2].replace(".", "/") + ".py"  # python -m stages.<name>
        declared = {dep for dep in stage["deps"] if dep.startswith(("dae/", "stages/"))}
        # stages/__init__.py runs before every stage: its process setup (dae/process.py).
        package = {"stages/__init__.py"} | imported_library_files(PROJECT / "stages/__init__.py")
        assert declared == {script} | package | imported_library_files(PROJECT / script), name


def stages_imported(source, stage_modules):
    """The stage modules (e.g. `stages.train`) that Python `source`, a module of the `stages`
    package, imports, in any form (relative ones too)."""
    imported = imported_modules(ast.walk(ast.parse(source)), package="stages")
    return {stage for name in imported for stage in stage_modules if f"{name}.".startswith(f"{stage}.")}


def test_no_stage_imports_another_stage():
    """A stage may import the package (`stages/__init__.py`, which sets up its process), never another stage."""
    scripts = sorted((PROJECT / "stages").glob("*.py"))
    stage_modules = {f"stages.{script.stem}" for script in scripts if script.stem != "__init__"}
    assert "stages.train" in stage_modules
    for script in scripts:
        assert not stages_imported(script.read_text(), stage_modules), script.name


def test_the_import_check_tells_a_stage_from_the_package():
    stage_modules = {"stages.train", "stages.evaluate"}
    for source in (
        "from stages import train", "import stages.train", "from stages.train import main", "import stages.train as t",
        "from . import train", "from .train import main",
    ):
        assert stages_imported(source, stage_modules) == {"stages.train"}, source
    assert not stages_imported("from stages import setup_entry_point\nimport stages\nfrom . import setup_entry_point", stage_modules)


def test_no_tool_benchmark_or_test_imports_the_stages():
    """Tools and benchmarks are entry points too: what they share with the stages (their process
    setup, say) lives in the library, `dae`, which is also what the tests import (design.md); the
    tests run the stages as commands (test_params.py runs the train stage's check of the params
    in a `python -c` of its own, which this parse of the test's source does not see)."""
    scripts = sorted(path for folder in ("tools", "benchmarks", "tests") for path in (PROJECT / folder).glob("*.py"))
    assert {PROJECT / "tools" / "score.py", PROJECT / "tests" / "test_training.py"} <= set(scripts)
    for script in scripts:
        imported = imported_modules(ast.walk(ast.parse(script.read_text())))
        assert not [name for name in imported if name.split(".")[0] == "stages"], script.relative_to(PROJECT)


def test_relative_imports_count_as_the_modules_they_name():
    """`from .stream import ...` in dae/training/ runs dae/training/stream.py as surely as the absolute form."""
    nodes = ast.walk(ast.parse("from .stream import training_blocks\nfrom ..models import SIDE\nfrom . import resume"))
    assert {"dae.training.stream", "dae.models", "dae.training.resume"} <= set(imported_modules(nodes, package="dae.training"))


def test_git_checks_out_the_code_byte_for_byte_even_where_it_would_convert_line_endings(tmp_path):
    """dvc.lock records the md5 of each file's bytes, so a checkout that turned LF into CRLF (Git
    for Windows' default, `core.autocrlf`) would make every stage look changed there.
    .gitattributes turns the conversion off for every file dvc.lock lists."""
    lock = yaml.safe_load((PROJECT / "dvc.lock").read_text())
    files = sorted({dep["path"] for stage in lock["stages"].values() for dep in stage["deps"] if (PROJECT / dep["path"]).is_file()})
    assert "stages/train.py" in files
    attributes = subprocess.run(["git", "check-attr", "text", "--", *files], cwd=PROJECT, capture_output=True, text=True, check=True)
    assert attributes.stdout.splitlines() == [f"{path}: text: unset" for path in files]

    # What the attribute does, in a repo of two files: the converting checkout changes the bytes
    # of a file only without it.
    repo = tmp_path / "repo"
    repo.mkdir()
    shutil.copy(PROJECT / ".gitattributes", repo / ".gitattributes")
    (repo / "a.py").write_bytes(b"x = 1\ny = 2\n")
    for command in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "two files"]):
        run(repo, "git", *command)

    def checked_out():
        (repo / "a.py").unlink()
        run(repo, "git", "-c", "core.autocrlf=true", "checkout", "--", "a.py")
        return (repo / "a.py").read_bytes()

    assert checked_out() == b"x = 1\ny = 2\n"
    run(repo, "git", "rm", "-q", ".gitattributes")  # git falls back to the index's copy of a deleted one
    assert checked_out() == b"x = 1\r\ny = 2\r\n"
