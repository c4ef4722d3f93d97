"""The project's own checks, run with its tests so that CI enforces them: ruff over the tree
(complexity of any function at most 12 included) and mypy --strict over the package and the
benchmarks."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("command", [
    pytest.param(("ruff", "check", "."), id="ruff"),
    pytest.param(("mypy",), id="mypy pvgen"),
    pytest.param(("mypy", "bench"), id="mypy bench"),
])
def test_the_tree_passes_its_own_checks(command: tuple[str, ...]) -> None:
    pytest.importorskip(command[0], reason=f"{command[0]} is the dev extra's")
    done = subprocess.run([sys.executable, "-m", *command], capture_output=True, text=True,
                          check=False, timeout=600, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr


def _function_lengths(path: Path) -> list[tuple[str, int]]:
    """Each function of a module, with its length in lines (decorators and docstring
    included)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [(f"{path.name}:{node.name}", (node.end_lineno or node.lineno) - node.lineno + 1)
            for node in ast.walk(tree)
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)]


def test_the_emulator_s_functions_are_short_and_its_module_small() -> None:
    """The emulator's top stays untangled: no function of pvgen/emulator over 60 lines, and
    the module (what puts a run together) under 200."""
    long = [(name, length) for path in sorted((ROOT / "pvgen/emulator").rglob("*.py"))
            for name, length in _function_lengths(path) if length > 60]
    assert long == []
    module = ROOT / "pvgen/emulator/module.py"
    assert len(module.read_text(encoding="utf-8").splitlines()) < 200
