"""The `pvgen` command's own conventions."""

from __future__ import annotations

import ast
import os
import pty
import re
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest


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


def test_gen_says_when_it_replaces_another_definition_s_files(tmp_path: Path) -> None:
    """Two definitions of one interface name into one directory: the second says so."""
    first = (Path(__file__).parent.parent / "hypercalls.def").read_text(encoding="utf-8")
    (tmp_path / "a.def").write_text(first, encoding="utf-8")
    (tmp_path / "b.def").write_text(first.replace("interface pv version 1",
                                                  "interface pv version 2", 1), encoding="utf-8")
    notes = []
    for name in ("a.def", "b.def", "b.def"):
        done = subprocess.run([sys.executable, "-m", "pvgen.cli", "gen", "--def", name,
                               "--update-lock"], capture_output=True, text=True, check=True,
                              timeout=120, cwd=tmp_path)
        notes.append([line for line in done.stderr.splitlines() if "held" in line])
    assert notes[0] == [] and notes[2] == []  # nothing there yet; the same one again
    [note] = notes[1]
    assert note.startswith("pvgen: note: build/gen held the generated files of another "
                           "definition of interface pv (fingerprint 162793174ee3be5a); they "
                           "are now b.def's (")


def test_compiler_warnings_are_shown_and_can_be_errors(tmp_path: Path) -> None:
    """A partition with an unused variable: its warning is said; PVGEN_CFLAGS=-Werror fails."""
    subprocess.run([sys.executable, "-m", "pvgen.cli", "new", "p"], capture_output=True,
                   check=True, timeout=60, cwd=tmp_path)
    source = tmp_path / "p" / "hello.c"
    source.write_text(source.read_text(encoding="utf-8").replace(
        "int main(void)\n{\n", "int main(void)\n{\n    int unused_here;\n", 1), encoding="utf-8")
    command = [sys.executable, "-m", "pvgen.cli", "image"]
    done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=300,
                          cwd=tmp_path / "p")
    assert done.returncode == 0, done.stderr
    assert "pvgen: warning: building partition 'hello':" in done.stderr
    assert "unused_here" in done.stderr and "-Wunused-variable" in done.stderr
    strict = subprocess.run(command, capture_output=True, text=True, check=False, timeout=300,
                            cwd=tmp_path / "p", env={**os.environ, "PVGEN_CFLAGS": "-Werror"})
    assert strict.returncode == 3
    assert "pvgen: error: partition 'hello': compiling hello.c failed" in strict.stderr


@pytest.mark.parametrize(("command", "message"), [
    (("image", "--out", "taken"), "taken: is a directory; --out names a file"),
    (("image", "--gen", "plain"), "plain: is a file; --gen names a directory"),
    (("image", "--kernel", "missing.elf"), "missing.elf: no such file: --kernel names a linked "
                                           "pok.elf"),
    (("gen", "--out", "plain"), "plain: is a file; --out names a directory"),
    (("image", "--out", "plain/x.img"), "plain/x.img: cannot be written (plain is not a "
                                        "directory it may write in)"),
], ids=["image-out", "image-gen", "kernel", "gen-out", "below-a-file"])
def test_outputs_and_the_kernel_are_checked_before_any_work(
        tmp_path: Path, command: tuple[str, ...], message: str) -> None:
    (tmp_path / "taken").mkdir()
    (tmp_path / "plain").write_text("", encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "pvgen.cli", *command], capture_output=True,
                          text=True, check=False, timeout=60, cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.splitlines()[-1] == f"pvgen: error: {message}"
    assert not (tmp_path / "build").exists()  # nothing was generated or built first


def test_a_run_stopped_by_its_limit_with_an_unfinished_test_says_so_and_fails(
        tmp_path: Path) -> None:
    project = _hung_project(tmp_path)
    for limit in (["--time", "0.1"], ["--frames", "3"]):
        done = subprocess.run([sys.executable, "-m", "pvgen.cli", "boot", *limit],
                              capture_output=True, text=True, check=False, timeout=300,
                              cwd=project)
        assert done.returncode == 1, (limit, done.stdout)
        assert ("  hello: timeout (its test had not ended when the run stopped at its limit), "
                "mode COLD_START") in done.stdout


# Raised for a caller to catch or wrap, never shown as they are; or built by a helper that
# writes the prefix itself (ElfError's file and message; a failed build's steps).
NOT_SHOWN_AS_RAISED = {"ValueError", "TypeError", "KeyError", "RuntimeError", "ShapeError",
                       "ManifestError", "OSError", "IndexError", "MemoryError", "TarError",
                       "ArgumentTypeError", "DefinitionError", "InputError", "ConfigError",
                       "ElfError", "AttributeError"}


def _leading_text(message: ast.expr) -> str | None:
    """The literal text a message expression begins with, if it begins with one."""
    while True:
        if isinstance(message, ast.BinOp):  # "..." + more
            message = message.left
        elif isinstance(message, ast.Call) and isinstance(message.func, ast.Attribute):
            message = message.func.value  # f"...".rstrip()
        else:
            break
    if isinstance(message, ast.JoinedStr) and message.values:
        first, *rest = message.values
        if isinstance(first, ast.FormattedValue):  # f"{where}: ...": located, if at a location
            located = "location" in ast.unparse(first.value)
            after = rest[0] if rest and isinstance(rest[0], ast.Constant) else None
            return "pvgen: error: " if located else f"{{...}}{getattr(after, 'value', '')}"
        message = first
    return message.value if isinstance(message, ast.Constant) and isinstance(message.value, str) \
        else None


def test_every_error_for_the_user_reads_pvgen_error_what_why() -> None:
    """One format: each error pvgen raises with its message written out begins
    ``pvgen: error: `` (WHAT: why follows); one at a location in a file the user wrote is
    the compiler-style exception (``{location}: error: ...``)."""
    wrong = []
    for path in sorted((Path(__file__).parent.parent / "pvgen").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call)
                    and node.exc.args):
                continue
            called = node.exc.func
            name = getattr(called, "id", getattr(called, "attr", ""))
            if not name.endswith("Error") or name in NOT_SHOWN_AS_RAISED:
                continue
            text = _leading_text(node.exc.args[0])
            if text is not None and not text.startswith("pvgen: error: "):
                wrong.append(f"{path.name}:{node.lineno}: {text!r}")
    assert wrong == []


def _hung_project(tmp_path: Path) -> Path:
    """A project whose partition begins its test and never ends it."""
    subprocess.run([sys.executable, "-m", "pvgen.cli", "new", "p"], capture_output=True,
                   check=True, timeout=60, cwd=tmp_path)
    source = tmp_path / "p" / "hello.c"
    source.write_text(source.read_text(encoding="utf-8").replace(
        'console_puts("Hello World\\n");', 'console_puts("Hello World\\n");\n    for (;;) {\n    }',
        1), encoding="utf-8")
    return tmp_path / "p"


def test_a_long_boot_shows_its_progress_on_a_terminal_only(tmp_path: Path) -> None:
    """On a terminal, a run past 2 s of host time shows the virtual time it reached, on a
    line erased before the summary; into a pipe, nothing of it."""
    project = _hung_project(tmp_path)
    command = [sys.executable, "-m", "pvgen.cli", "boot", "--time", "40", "--mips", "20"]
    subprocess.run([sys.executable, "-m", "pvgen.cli", "image"], cwd=project, check=True,
                   capture_output=True, timeout=300)
    leader, follower = pty.openpty()
    with subprocess.Popen(command, stdout=follower, stderr=follower, cwd=project) as run:
        os.close(follower)
        shown = b""
        while chunk := _read(leader):
            shown += chunk
        assert run.wait(timeout=300) == 1
    os.close(leader)
    text = shown.decode()
    statuses = re.findall(r"\r\x1b\[Kpvgen: running hello: (\d+\.\d\d) of 40 s virtual, \d+ s",
                          text)
    assert statuses, text
    assert [float(s) for s in statuses] == sorted(float(s) for s in statuses)
    assert "\r\x1b[Krun ended (time) at 40.000000 s virtual" in text, "erased before the summary"
    piped = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=project)
    assert "running" not in piped.stderr + piped.stdout and "\x1b" not in piped.stderr


def _read(descriptor: int) -> bytes:
    try:
        return os.read(descriptor, 4096)
    except OSError:  # the other end closed: Linux reports EIO
        return b""


def test_a_usage_error_reads_as_every_other_error() -> None:
    done = subprocess.run([sys.executable, "-m", "pvgen.cli", "image", "-j", "0"],
                          capture_output=True, text=True, check=False, timeout=60)
    assert done.returncode == 2
    assert done.stderr.splitlines()[-1] == ("pvgen: error: argument -j/--jobs: must be at least "
                                            "1 (see pvgen image --help)")
