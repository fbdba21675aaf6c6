"""Test modules import no other test module: what several of them share lives in conftest.py or tests/helpers.

Importing a test module runs its collection-time code and drags its tests' names into another module, and a
helper that only exists inside one test file is edited for that file's sake while others depend on it.
"""

from __future__ import annotations

import ast

from tests.conftest import ROOT


def _imported_modules(tree: ast.Module) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def test_no_test_module_imports_another() -> None:
    tests = ROOT / "tests"
    offenders = {}
    for path in sorted(tests.rglob("*.py")):
        modules = _imported_modules(ast.parse(path.read_text(encoding="utf-8"), str(path)))
        imported_tests = sorted(
            m for m in modules if m.startswith("tests.") and m.rpartition(".")[2].startswith("test_")
        )
        if imported_tests:
            offenders[str(path.relative_to(ROOT))] = imported_tests
    assert offenders == {}
