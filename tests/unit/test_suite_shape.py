"""The suite keeps its own shape: a test module never imports another test module or a
conftest (what two of them share lives in tests/support, their fixtures in a conftest.py), and
every module of the suite stays a few screens long."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parents[1]
MAX_MODULE_LINES = 400


def _modules() -> list[Path]:
    return sorted(path for path in TESTS.rglob("*.py") if "__pycache__" not in path.parts)


def _imported(path: Path, source: str | None = None) -> list[str]:
    """Every module (or name in a module) the module at ``path`` imports, relative imports
    resolved; ``source``: its text, when not the file's."""
    package = ["tests", *path.relative_to(TESTS).parent.parts]
    found = []
    for node in ast.walk(ast.parse(path.read_text() if source is None else source)):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *(node.module.split(".") if node.module else [])])
            found += [module, *(f"{module}.{alias.name}" for alias in node.names)]
    return found


def _is_test_module(name: str) -> bool:
    parts = name.split(".")
    return parts[0] == "tests" and any(p.startswith("test_") or p == "conftest" for p in parts)


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(TESTS.parent)))
def test_no_module_imports_a_test_module_or_a_conftest(path: Path):
    assert [name for name in _imported(path) if _is_test_module(name)] == []


def test_the_import_finder_sees_relative_and_absolute_imports():
    source = (
        "from ..browser import test_browser\nfrom .test_api import Api\n"
        "import tests.conftest\nfrom tests.support.seeds import CAMPAIGN\n"
    )
    imported = _imported(TESTS / "web" / "test_probe.py", source)
    assert [name for name in imported if _is_test_module(name)] == [
        "tests.browser.test_browser",
        "tests.web.test_api",
        "tests.web.test_api.Api",
        "tests.conftest",
    ]


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(TESTS.parent)))
def test_every_module_of_the_suite_stays_small(path: Path):
    lines = len(path.read_text().splitlines())
    assert lines <= MAX_MODULE_LINES, f"{path.name}: {lines} lines, over {MAX_MODULE_LINES}"
