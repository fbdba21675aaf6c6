"""Every package that src/tutti imports is declared in pyproject.toml, and constraints.txt pins every declared one.

An undeclared import works for as long as some declared dependency happens to pull the package in (pydantic and
starlette came with fastapi, markupsafe with jinja2), and breaks the day it stops; a declared package missing
from the lock installs at whatever version is newest that day.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from collections import defaultdict
from importlib.metadata import packages_distributions

from tests.conftest import ROOT

PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
LOCK = (ROOT / "constraints.txt").read_text(encoding="utf-8")


def _normalised(name: str) -> str:
    # PEP 503: case, dashes, underscores and dots do not tell distributions apart.
    return re.sub(r"[-_.]+", "-", name).lower()


def _names(requirements: list[str]) -> set[str]:
    return {_normalised(re.split(r"[\[<>=!~;\s]", requirement, maxsplit=1)[0]) for requirement in requirements}


RUNTIME = _names(PROJECT["dependencies"])
# Extras a user may install (``tutti[spark]``); their packages are imported only where used, never at import time.
OPTIONAL = {
    name for extra, reqs in PROJECT["optional-dependencies"].items() if extra != "test" for name in _names(reqs)
}
DECLARED = RUNTIME | {name for extra in PROJECT["optional-dependencies"].values() for name in _names(extra)}


def _third_party_imports() -> dict[str, set[str]]:
    """Top-level module -> the files of src/tutti that import it (absolute imports outside the standard library)."""
    found: defaultdict[str, set[str]] = defaultdict(set)
    package = ROOT / "src" / "tutti"
    for path in sorted(package.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules = [node.module]
            else:
                continue
            for module in modules:
                top = module.partition(".")[0]
                if top != "tutti" and top not in sys.stdlib_module_names:
                    found[top].add(str(path.relative_to(ROOT)))
    return found


def test_every_imported_package_is_a_declared_dependency() -> None:
    providers = packages_distributions()
    imports = _third_party_imports()
    undeclared = {
        module: sorted(files)
        for module, files in imports.items()
        if not {_normalised(d) for d in providers.get(module, [])} & (RUNTIME | OPTIONAL)
    }
    assert undeclared == {}, "declare these in pyproject.toml's [project] dependencies"
    # The walk itself finds what it should: imports of a few packages the code is known to use.
    assert {"duckdb", "pydantic", "starlette", "markupsafe", "PIL"} <= imports.keys()


def test_the_lock_pins_every_declared_dependency() -> None:
    pinned = {_normalised(name) for name in re.findall(r"^([A-Za-z0-9._-]+)==", LOCK, flags=re.MULTILINE)}
    assert DECLARED - pinned == set(), "run `bash scripts/lock` after changing the dependencies"


def test_every_floor_is_the_version_ci_tests() -> None:
    # The floors once said duckdb>=1.1, pyarrow>=15, sqlalchemy>=2, typer>=0.12: installed at those versions the
    # suite failed 195 tests. A floor claims a version works, and only the locked versions are tested.
    pinned = dict(re.findall(r"^([A-Za-z0-9._-]+)==(\S+)", LOCK, flags=re.MULTILINE))
    pinned = {_normalised(name): version for name, version in pinned.items()}
    requirements = PROJECT["dependencies"] + [r for extra in PROJECT["optional-dependencies"].values() for r in extra]
    floors = {}
    for requirement in requirements:
        shape = re.fullmatch(r"([A-Za-z0-9._-]+)(\[[^\]]*\])?>=(\S+)", requirement)
        assert shape is not None, f"{requirement!r}: declare a dependency as name>=version"
        floors[_normalised(shape.group(1))] = shape.group(3)
    assert {name: (floor, pinned.get(name)) for name, floor in floors.items() if pinned.get(name) != floor} == {}, (
        "run `bash scripts/lock`: it raises each floor to the version it locks"
    )


def test_optional_packages_are_not_imported_when_tutti_is() -> None:
    # A listener installs tutti without its extras: a module-level import of PySpark would break `import tutti...`.
    providers = packages_distributions()
    at_import: dict[str, list[str]] = {}
    for path in sorted((ROOT / "src" / "tutti").rglob("*.py")):
        for node in ast.parse(path.read_text(encoding="utf-8"), str(path)).body:
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            for name in names:
                top = name.partition(".")[0]
                only_optional = {_normalised(d) for d in providers.get(top, [])} - RUNTIME
                if only_optional and only_optional <= OPTIONAL:
                    at_import.setdefault(top, []).append(str(path.relative_to(ROOT)))
    assert at_import == {}, "import optional packages inside the functions that use them"
