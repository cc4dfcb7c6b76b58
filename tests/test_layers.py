"""The repository's shape: an import graph without circles and with few floors (function-level imports included),
layers that import downwards only (``lint-imports``, contracts in ``pyproject.toml``), and modules and functions
short enough to read in one sitting."""

from __future__ import annotations

import ast
import functools
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = ("ssl_study", "benchmarks", "experiments", "tools")  #: the repository's code, besides its top-level files
MAX_FLOORS, MAX_MODULE_LINES, MAX_FUNCTION_LINES = 10, 400, 60


def python_files() -> dict[str, Path]:
    """Module name -> file of every Python file of the repository outside tests."""
    files = [*ROOT.glob("*.py"), *(p for folder in FOLDERS for p in (ROOT / folder).rglob("*.py"))]
    modules = {}
    for path in files:
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return modules


def imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The repository's modules that module ``name`` imports anywhere (at the top or inside a function)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            candidates = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([node.module] if node.module else []))
            candidates = [base, *(f"{base}.{alias.name}" for alias in node.names)]
        else:
            continue
        found |= {c for c in candidates if c in modules and c != name}
    return found


@functools.cache
def graph() -> dict[str, set[str]]:
    modules = python_files()
    return {name: imports(name, path, modules) for name, path in modules.items()}


def circles(g: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on, found, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in g[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(g):
        if v not in index:
            visit(v)
    return found


def floors(g: dict[str, set[str]]) -> dict[str, int]:
    """A module's floor: 1 for a module that imports none of the repository's, else one above its highest import."""
    @functools.cache
    def floor(v: str) -> int:
        return 1 + max((floor(w) for w in g[v]), default=0)

    return {v: floor(v) for v in g}


def test_the_import_graph_has_no_circle_and_at_most_ten_floors():
    g = graph()
    assert "ssl_study.study.workers" in g and "helpers" in g and "experiments.selection_common" in g
    assert "experiments.selection_common" in g["experiments.selection_pretext"]  # the scripts' own modules are seen
    assert circles(g) == []
    height = floors(g)
    assert max(height.values()) <= MAX_FLOORS, sorted(height.items(), key=lambda kv: -kv[1])[:5]


def test_a_circle_and_a_tower_are_seen():
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == [["a", "b", "c"]]
    assert floors({"a": {"b"}, "b": {"c"}, "c": set()}) == {"a": 3, "b": 2, "c": 1}


def test_the_layers_import_downwards_only():
    """The contracts of ``pyproject.toml``: run > report > study > compute > config, and no drawing below the
    report."""
    lint = str(Path(sys.executable).with_name("lint-imports"))
    done = subprocess.run([lint, "--config", str(ROOT / "pyproject.toml")], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0 and "0 broken" in done.stdout, done.stdout[-2000:]


@pytest.mark.parametrize("name", sorted(python_files()))
def test_modules_and_functions_are_short(name):
    path = python_files()[name]
    lines = len(path.read_text().splitlines())
    assert lines <= MAX_MODULE_LINES, f"{path.relative_to(ROOT)}: {lines} lines"
    long = [f"{node.name} ({node.end_lineno - node.lineno + 1} lines)" for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES]
    assert not long, f"{path.relative_to(ROOT)}: {', '.join(long)}"
