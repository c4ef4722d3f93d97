"""The `pvgen` command's own conventions."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import version
from pathlib import Path


def test_version_is_the_installed_distribution_s() -> None:
    done = subprocess.run([sys.executable, "-m", "pvgen.cli", "--version"], capture_output=True,
                          text=True, check=True, timeout=60)
    assert done.stdout == f"pvgen {version('pvgen')}\n"


def test_boot_works_from_any_directory_with_the_bundled_files(tmp_path: Path) -> None:
    """No hypercalls.def or module.xml here: the bundled ones, each fallback said once."""
    done = subprocess.run([sys.executable, "-m", "pvgen.cli", "boot"], capture_output=True,
                          text=True, check=False, timeout=300, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines() == [
        "pvgen: note: no hypercalls.def here: using the bundled one",
        "pvgen: note: no module.xml here: using the bundled 'hello' example"]
    assert (tmp_path / "build" / "hello.img").is_file()
    assert "  hello: passed" in done.stdout


def test_new_makes_a_project_whose_files_the_commands_take(tmp_path: Path) -> None:
    made = subprocess.run([sys.executable, "-m", "pvgen.cli", "new", "p"], capture_output=True,
                          text=True, check=True, timeout=60, cwd=tmp_path)
    assert made.stdout.splitlines()[-1] == "pvgen: next: cd p && pvgen boot"
    done = subprocess.run([sys.executable, "-m", "pvgen.cli", "boot"], capture_output=True,
                          text=True, check=False, timeout=300, cwd=tmp_path / "p")
    assert done.returncode == 0 and done.stderr == "", done.stderr
    assert (tmp_path / "p" / "build" / "p.img").is_file()
