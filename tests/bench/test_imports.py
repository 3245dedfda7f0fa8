"""Each bench module imports on its own, and the bench's modules import one another in one
direction only (bench.cli and bench.report used to need each other for MODES, now bench.modes)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
MODULES = sorted(p.stem for p in BENCH.glob("*.py") if p.stem != "__main__")


@pytest.mark.parametrize("module", MODULES)
def test_each_bench_module_imports_alone(module: str) -> None:
    """A fresh interpreter imports just this module: no import that only works when another
    bench module happened to be imported first."""
    result = subprocess.run(
        [sys.executable, "-c", f"import importlib; importlib.import_module('bench.{module}')"],
        cwd=BENCH.parent,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]


def _bench_imports(module: str) -> set[str]:
    """The bench modules this one imports, at the top or inside a function."""
    found = set()
    for node in ast.walk(ast.parse((BENCH / f"{module}.py").read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "bench":
                found.update(alias.name for alias in node.names)
            elif node.module.startswith("bench."):
                found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            found.update(a.name.split(".")[1] for a in node.names if a.name.startswith("bench."))
    return found & set(MODULES)


def test_bench_modules_import_in_one_direction() -> None:
    graph = {m: _bench_imports(m) for m in MODULES}
    cycles = []

    def visit(module: str, path: list[str]) -> None:
        for nxt in sorted(graph[module]):
            if nxt in path:
                cycles.append(" → ".join([*path[path.index(nxt) :], nxt]))
            elif len(path) < len(MODULES):
                visit(nxt, [*path, nxt])

    for module in MODULES:
        visit(module, [module])
    assert cycles == []
