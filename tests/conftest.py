import ast
import os
from pathlib import Path

import pytest

from dae import mnist

PROJECT = Path(__file__).resolve().parents[1]


def environment_without(names, **changes):
    """os.environ without the variables `names`, which a developer may have set; then `changes`
    (None removes a key)."""
    env = {key: value for key, value in os.environ.items() if key not in names}
    env.update(changes)
    return {key: value for key, value in env.items() if value is not None}


def default_logging(**changes):
    """os.environ as a user's shell would have it for the stages' own logging: without DAE_VERBOSE
    or TF_CPP_MIN_LOG_LEVEL; then `changes`."""
    return environment_without(("DAE_VERBOSE", "TF_CPP_MIN_LOG_LEVEL"), **changes)


def package_of(path):
    """The dotted package of a module's file under the project (`dae/training/stream.py`: `dae.training`),
    against which its relative imports resolve."""
    return ".".join(Path(path).relative_to(PROJECT).parts[:-1])


def imported_modules(nodes, package=None):
    """The dotted names that the import statements among AST `nodes` name: `import a.b` as `a.b`,
    `from a import b` as `a` and `a.b`; a relative import is resolved against `package` (the
    importing module's: `from ..models import x` in package `dae.training` names `dae.models`)."""
    for node in nodes:
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            parts = package.split(".") if node.level and package else []
            module = ".".join([*parts[: len(parts) + 1 - node.level], *filter(None, [node.module])])
            if module:
                yield module
                yield from (f"{module}.{alias.name}" for alias in node.names)


def in_ci():
    """Whether the tests run in CI (CI=1, true or yes, as `.ci/run` sets): there, what cannot be
    checked fails instead of skipping, so that it cannot pass unnoticed."""
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture(scope="session")
def mnist_mirror(tmp_path_factory):
    """A local folder holding the four MNIST files: MNIST_MIRROR itself when it is a folder (the
    `fetch` stage verifies the files it copies from there), else a copy fetched from it (a URL
    base) and verified. Without it the tests that need MNIST skip, except in CI (`in_ci`), where
    a missing mirror must not pass unnoticed."""
    mirror = os.environ.get(mnist.MIRROR_VARIABLE, "").strip()
    if not mirror:
        message = f"set {mnist.MIRROR_VARIABLE} to a folder or URL base holding the four MNIST files"
        if in_ci():
            pytest.fail(message)
        pytest.skip(message)
    if Path(mirror).is_dir():
        return Path(mirror)
    folder = tmp_path_factory.mktemp("mnist") / "raw"
    mnist.fetch(folder, [mirror], progress=False)
    os.environ[mnist.MIRROR_VARIABLE] = str(folder)  # the pipelines the tests run fetch the copy
    return folder
