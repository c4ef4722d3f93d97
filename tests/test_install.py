"""pvgen installed as a user installs it: in a fresh virtual environment, from the checkout
(not editable), outside the checkout, with only the base dependencies from PyPI.

`pvgen --help`, `--version` and `pvgen gen` work there; a command that needs an extra says
which one, without a traceback; and the README's two commands are the ones `.ci/run` runs.
"""

from __future__ import annotations

import os
import re
import subprocess
import venv
from pathlib import Path

import pytest

from tests.conftest import DEFINITION, ROOT


def _run(*command: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    environment = {key: value for key, value in os.environ.items()
                   if key not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return subprocess.run([str(part) for part in command], capture_output=True, text=True,
                          cwd=cwd, env=environment, timeout=600, check=False)


@pytest.fixture(scope="module")
def base_install(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The environment's bin directory: pvgen and its base dependencies, nothing else."""
    root = tmp_path_factory.mktemp("base_install")
    venv.create(root / "venv", with_pip=True)
    pip = root / "venv" / "bin" / "pip"
    done = _run(pip, "install", "-q", "--disable-pip-version-check", str(ROOT), cwd=root)
    if done.returncode != 0 and "Could not find a version" in done.stderr + done.stdout:
        pytest.skip("the base dependencies cannot be fetched from PyPI here")
    assert done.returncode == 0, done.stderr
    return root / "venv" / "bin"


def test_the_base_install_has_no_extra(base_install: Path, tmp_path: Path) -> None:
    done = _run(base_install / "python", "-c",
                "import importlib.util as u; print([m for m in ('unicorn', 'elftools', 'lief', "
                "'xmlschema', 'ziglang', 'invoke') if u.find_spec(m)])", cwd=tmp_path)
    assert done.stdout.strip() == "[]", done.stderr


def test_help_version_and_gen_work_with_the_base_install(base_install: Path,
                                                         tmp_path: Path) -> None:
    for command in (("--help",), ("--version",), ("boot", "--help")):
        done = _run(base_install / "pvgen", *command, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
    done = _run(base_install / "pvgen", "gen", "--def", DEFINITION, "--out", tmp_path / "gen",
                "--lock", tmp_path / "lock.json", "--update-lock", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "gen" / "guest" / "pv_hypercalls.h").is_file()


def test_a_command_that_needs_an_extra_says_which(base_install: Path, tmp_path: Path) -> None:
    image = tmp_path / "any.img"
    image.write_bytes(b"\x7fELF" + bytes(60))  # an ELF file by its look: read with pyelftools
    for command, extra, module in ((("boot", image), "emulator", "elftools"),
                                   (("inspect", image), "image", "elftools")):
        done = _run(base_install / "pvgen", *command, cwd=tmp_path)
        assert done.returncode == 2
        assert done.stderr == (f"pvgen: error: `pvgen {command[0]}` needs the '{extra}' extra "
                               f"(the module {module} is missing): pip install "
                               f"'pvgen[{extra}]'\n")


def _readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## The two commands", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.+?)\n```", section)


def test_the_readme_shows_two_commands_and_ci_runs_the_second() -> None:
    setup_and_run, tests = _readme_commands()
    assert setup_and_run.startswith("python3 -m venv .venv && ")
    assert setup_and_run.endswith(" && .venv/bin/pvgen boot")
    assert "'.[dev]'" not in setup_and_run  # only what booting needs
    assert tests.startswith("python3 -m venv .venv && ") and "pytest" in tests
    assert f"\n{tests}\n" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
