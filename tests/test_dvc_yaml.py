"""dvc.yaml declares, for every stage, exactly the code that the stage runs."""

import ast
from pathlib import Path

import yaml

from tests.conftest import PROJECT


def imported_library_files(module_path, seen=None):
    """The dae/*.py files a script imports, directly or through other dae modules."""
    seen = set() if seen is None else seen
    for node in ast.walk(ast.parse(Path(module_path).read_text())):
        names = []
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "dae":
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names if alias.name.split(".")[0] == "dae"]
        for name in names:
            path = PROJECT / (name.replace(".", "/") + ".py")
            relative = str(path.relative_to(PROJECT))
            if path.is_file() and relative != "dae/__init__.py" and relative not in seen:
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
        # stages/__init__.py runs before every stage (quiet logs, SIGTERM as an exception).
        assert declared == {script, "stages/__init__.py"} | imported_library_files(PROJECT / script), name


def test_no_stage_imports_another_stage():
    for script in (PROJECT / "stages").glob("*.py"):
        tree = ast.parse(script.read_text())
        imported = [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
        imported += [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
        assert not [m for m in imported if m.split(".")[0] == "stages"], script.name
