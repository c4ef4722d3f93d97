"""The `pvgen` command's own conventions."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import version


def test_version_is_the_installed_distribution_s() -> None:
    done = subprocess.run([sys.executable, "-m", "pvgen.cli", "--version"], capture_output=True,
                          text=True, check=True, timeout=60)
    assert done.stdout == f"pvgen {version('pvgen')}\n"
