"""pvgen installed as a user installs it: in a fresh virtual environment, from the checkout
(not editable), outside the checkout, with only the base dependencies from PyPI.

`pvgen --help`, `--version` and `pvgen gen` work there; a command that needs an extra says
which one, without a traceback; and the README's two commands are the ones `.ci/run` runs.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
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


@pytest.fixture(scope="module")
def wheel_install(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """pvgen built as a wheel and installed with the image and emulator extras into a fresh
    environment: the environment's bin directory."""
    root = tmp_path_factory.mktemp("wheel_install")
    built = _run(sys.executable, "-m", "pip", "wheel", "-q", "--no-deps",
                 "-w", root / "dist", ROOT, cwd=root)
    assert built.returncode == 0, built.stderr
    [wheel] = (root / "dist").glob("pvgen-*.whl")
    venv.create(root / "venv", with_pip=True)
    done = _run(root / "venv" / "bin" / "pip", "install", "-q", "--disable-pip-version-check",
                f"pvgen[image,emulator] @ {wheel.as_uri()}", cwd=root)
    if done.returncode != 0 and "Could not find a version" in done.stderr + done.stdout:
        pytest.skip("the extras' dependencies cannot be fetched from PyPI here")
    assert done.returncode == 0, done.stderr
    return root / "venv" / "bin"


def test_the_wheel_holds_a_whole_project_gen_image_and_boot(wheel_install: Path,
                                                             tmp_path: Path) -> None:
    """Outside the checkout: `pvgen new` from the bundled files, then gen, image and boot."""
    pvgen = wheel_install / "pvgen"
    done = _run(pvgen, "new", "project", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    project = tmp_path / "project"
    for step in (("gen",), ("image",), ("boot", "build/project.img")):
        done = _run(pvgen, *step, cwd=project)
        assert done.returncode == 0, (step, done.stdout, done.stderr)
    assert "[hello] *** END OF TEST hello ***" in done.stdout
    assert "  hello: passed" in done.stdout


def test_the_wheel_renders_every_file_of_the_bsp(wheel_install: Path, tmp_path: Path) -> None:
    from pvgen.bsp import render_rtems_bsp
    from pvgen.definition import load

    expected = render_rtems_bsp(load(DEFINITION), tmp_path / "here")
    done = _run(wheel_install / "pvgen", "bsp", "--def", DEFINITION, "--out", tmp_path / "there",
                cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    rendered = sorted(p.relative_to(tmp_path / "there") for p in (tmp_path / "there").rglob("*")
                      if p.is_file())
    assert rendered == sorted(p.relative_to(tmp_path / "here") for p in expected)
    assert len(rendered) >= 30


def test_examples_are_listed_and_copied_from_the_wheel(wheel_install: Path,
                                                       tmp_path: Path) -> None:
    done = _run(wheel_install / "pvgen", "examples", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert [line.split()[0] for line in done.stdout.splitlines()] == [
        "health", "hello", "multi", "ports", "rtems", "ticker"]
    done = _run(wheel_install / "pvgen", "examples", "ports", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in (tmp_path / "ports").iterdir()) == sorted(
        ["hypercalls.def", "hypercalls.lock.json", *(p.name for p in (
            ROOT / "examples" / "ports").iterdir())])
    again = _run(wheel_install / "pvgen", "examples", "ports", cwd=tmp_path)
    assert again.returncode == 2
    assert again.stderr == ("pvgen: error: ports: exists and is not an empty directory; "
                            "name a new one\n")
