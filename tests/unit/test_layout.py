"""The house keeps its shape: no import circle between the package's modules (imports inside
functions count), modules and classes a screen or a few long, front-end files likewise, and a
README that names every module. The arrows between layers are import-linter's contracts in
pyproject.toml, run by `make lint` and by tests/unit/test_lint.py."""

from __future__ import annotations

import ast
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "socialads"
MAX_MODULE_LINES = 400
MAX_CLASS_LINES = 250
MAX_FRONT_END_LINES = 400


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def _cycle(graph: grimp.ImportGraph) -> list[str] | None:
    """One import circle of the graph, or None (depth-first search, colouring modules)."""
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    path: list[str] = []

    def visit(module: str) -> list[str] | None:
        state[module] = 1
        path.append(module)
        for imported in sorted(graph.find_modules_directly_imported_by(module)):
            if state.get(imported) == 1:
                return [*path[path.index(imported) :], imported]
            if imported not in state and (found := visit(imported)):
                return found
        path.pop()
        state[module] = 2
        return None

    for module in sorted(graph.modules):
        if module not in state and (found := visit(module)):
            return found
    return None


def test_no_import_circle_between_modules():
    # grimp reads every import statement, those inside functions too; an import of a package's
    # name (`from socialads.admin import bp`) is an import of its __init__.
    graph = grimp.build_graph("socialads", "socialads_widgets", cache_dir=None)
    assert _cycle(graph) is None, " -> ".join(_cycle(graph) or [])


def test_the_cycle_finder_finds_a_circle():
    graph = grimp.ImportGraph()
    for name in ("a", "a.b", "a.c", "a.d"):
        graph.add_module(name)
    graph.add_import(importer="a.b", imported="a.c")
    graph.add_import(importer="a.c", imported="a.d")
    assert _cycle(graph) is None
    graph.add_import(importer="a.d", imported="a.b")
    assert _cycle(graph) == ["a.b", "a.c", "a.d", "a.b"]


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_modules_and_classes_stay_small(path: Path):
    text = path.read_text()
    assert len(text.splitlines()) <= MAX_MODULE_LINES, f"{path.name} is over {MAX_MODULE_LINES}"
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.ClassDef):
            lines = (node.end_lineno or node.lineno) - node.lineno + 1
            assert lines <= MAX_CLASS_LINES, f"class {node.name} is {lines} lines"


def test_front_end_sources_stay_small():
    sources = [p for p in (ROOT / "static" / "src").rglob("*") if p.suffix in (".js", ".css")]
    assert sources
    for path in sources:
        lines = len(path.read_text().splitlines())
        assert lines <= MAX_FRONT_END_LINES, f"{path.relative_to(ROOT)}: {lines} lines"


def test_every_package_says_what_it_holds_and_may_import():
    for init in PACKAGE.rglob("__init__.py"):
        doc = ast.get_docstring(ast.parse(init.read_text()))
        assert doc, f"{init.relative_to(ROOT)} has no docstring"
        if init.parent != PACKAGE:
            assert "import" in doc, f"{init.relative_to(ROOT)} does not say what it may import"


def test_the_readme_names_every_module():
    readme = (ROOT / "README.md").read_text()
    missing = []
    for path in _modules():
        relative = path.relative_to(ROOT)
        name = str(relative.parent if path.name == "__init__.py" else relative.with_suffix(""))
        if path.name == "__main__.py":
            continue
        if name.replace("/", ".") not in readme and str(relative) not in readme:
            missing.append(str(relative))
    assert not missing, f"README.md does not name: {', '.join(missing)}"
