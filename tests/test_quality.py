"""The project's own checks, run with its tests so that CI enforces them: ruff over the tree
(complexity of any function at most 12 included) and mypy --strict over the package and the
benchmarks."""

from __future__ import annotations

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
