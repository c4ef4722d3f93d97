"""Guest builds as a C programmer expects them: an unchanged module is up to date, an edit
rebuilds what it touches (content, not time), compiler runs go side by side, editors get
compile_commands.json, and a compiler named by PVGEN_CC keeps the architecture's options."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pvgen.image.steps import Step, StepRecord, read_depfile, run_stage
from pvgen.image.toolchain import Compiler, family, with_target


def pvgen(*args: str, cwd: Path, env: dict[str, str] | None = None
          ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pvgen.cli", *args], capture_output=True,
                          text=True, check=False, timeout=300, cwd=cwd,
                          env={**os.environ, **(env or {})})


def _made(build: Path) -> dict[str, int]:
    """Each object and ELF of the build, by name, and when it was last written."""
    return {str(p.relative_to(build)): p.stat().st_mtime_ns
            for p in build.rglob("*") if p.suffix in (".o", ".elf")}


@pytest.fixture
def ports(tmp_path: Path) -> Path:
    assert pvgen("examples", "ports", "ports", cwd=tmp_path).returncode == 0
    return tmp_path / "ports"


def test_an_unchanged_module_is_up_to_date_and_an_edit_rebuilds_what_it_read(
        ports: Path) -> None:
    first = pvgen("image", cwd=ports)
    assert first.returncode == 0, first.stderr
    assert "pvgen: wrote build/ports.img" in first.stdout
    build = ports / "build" / "ports.build"
    before = _made(build)
    assert len([n for n in before if n.endswith(".elf")]) == 3

    (ports / "sensor.c").touch()  # a new time, the same content
    again = pvgen("image", cwd=ports)
    assert "pvgen: up to date: build/ports.img" in again.stdout
    assert again.stdout.splitlines()[2:] == first.stdout.splitlines()[2:], "the same summary"
    assert _made(build) == before

    logger = ports / "logger.c"
    (ports / "extra.h").write_text("#define EXTRA 1\n", encoding="utf-8")
    logger.write_text('#include "extra.h"\nint logger_extra = EXTRA;\n'
                      + logger.read_text(encoding="utf-8"), encoding="utf-8")
    assert "pvgen: wrote" in pvgen("image", cwd=ports).stdout
    edited = _made(build)
    assert {n for n in before if edited[n] != before[n]} == {"logger/logger.o", "logger.elf"}

    (ports / "extra.h").write_text("#define EXTRA 2\n", encoding="utf-8")
    pvgen("image", cwd=ports)
    header = _made(build)
    assert {n for n in before if header[n] != edited[n]} == {"logger/logger.o", "logger.elf"}

    (ports / "extra.h").write_text("/* two */\n#define EXTRA 2\n", encoding="utf-8")
    pvgen("image", cwd=ports)
    comment = _made(build)
    assert {n for n in before if comment[n] != header[n]} == {"logger/logger.o"}, \
        "an object made the same again is not linked again"

    flagged = pvgen("image", cwd=ports, env={"PVGEN_CFLAGS": "-DSOMETHING"})
    assert "pvgen: wrote" in flagged.stdout
    assert all(_made(build)[n] != comment[n] for n in before if n.endswith(".o"))

    (ports / "build" / "ports.img").unlink()
    assert "pvgen: wrote build/ports.img" in pvgen("image", cwd=ports,
                                                   env={"PVGEN_CFLAGS": "-DSOMETHING"}).stdout


def test_compile_commands_name_every_source_and_keep_other_modules(tmp_path: Path) -> None:
    for example in ("ports", "hello"):
        assert pvgen("examples", example, example, cwd=tmp_path).returncode == 0
    out = tmp_path / "build"
    for example in ("ports", "hello", "ports"):
        done = pvgen("image", "--config", f"{example}/module.xml", "--out",
                     f"build/{example}.img", cwd=tmp_path)
        assert done.returncode == 0, done.stderr
    entries = json.loads((out / "compile_commands.json").read_text(encoding="utf-8"))
    files = [Path(e["file"]) for e in entries]
    for source in ("ports/sensor.c", "ports/controller.c", "ports/logger.c", "hello/hello.c"):
        assert files.count(tmp_path / source) == 1, source
    for entry in entries:
        assert Path(entry["directory"]).is_absolute() and Path(entry["file"]).is_file()
        assert entry["arguments"][:2] == ["gcc", "-m32"] and "-c" in entry["arguments"]
        compiled = subprocess.run([*entry["arguments"], "-fsyntax-only"], capture_output=True,
                                  text=True, check=False, cwd=entry["directory"])
        assert compiled.returncode == 0, compiled.stderr


def test_pvgen_cc_gcc_keeps_the_architecture_s_options(tmp_path: Path) -> None:
    assert pvgen("new", "p", cwd=tmp_path).returncode == 0
    project = tmp_path / "p"
    booted = pvgen("boot", cwd=project, env={"PVGEN_CC": "gcc"})
    assert booted.returncode == 0, booted.stderr
    assert "  hello: passed" in booted.stdout
    commands = json.loads((project / "build" / "compile_commands.json").read_text("utf-8"))
    assert commands[0]["arguments"][:2] == ["gcc", "-m32"]

    wrong = pvgen("image", cwd=project, env={"PVGEN_CC": "gcc -m64"})
    assert wrong.returncode == 2
    assert wrong.stderr.startswith("pvgen: error: the x86 compiler 'gcc -m64' ($PVGEN_CC) does "
                                   "not build for x86: it does not predefine __i386__")
    host_for_arm = pvgen("image", "--arch", "arm", cwd=project, env={"PVGEN_CC": "gcc"})
    assert host_for_arm.returncode == 2
    assert host_for_arm.stderr.startswith(
        "pvgen: error: the arm compiler 'gcc -marm -mcpu=cortex-a15' ($PVGEN_CC) does not build "
        "for arm: "), host_for_arm.stderr
    assert "-marm" in host_for_arm.stderr.splitlines()[0], "the compiler's own words, in one line"
    assert "Traceback" not in wrong.stderr + host_for_arm.stderr


def test_a_named_clang_or_zig_gets_its_target_options() -> None:
    assert family(("ccache", "gcc")) == "gcc"
    assert family(("arm-none-eabi-gcc",)) == "gcc"
    assert family(("/usr/bin/clang-16",)) == "clang"
    assert family((sys.executable, "-m", "ziglang", "cc")) == "zig"
    assert family(("tcc",)) is None
    assert with_target(Compiler("x86", ("clang",), "")).command == (
        "clang", "--target=i386-none-elf")
    assert with_target(Compiler("arm", (sys.executable, "-m", "ziglang", "cc"), "")).command[4:] \
        == ("-target", "arm-freestanding-eabi", "-mcpu=cortex_a15")
    chosen = Compiler("x86", ("clang", "--target=i686-elf"), "")
    assert with_target(chosen) == chosen, "a command that picks its target keeps it"


def test_zig_named_by_pvgen_cc_builds_arm_guests(tmp_path: Path) -> None:
    pytest.importorskip("ziglang", reason="zig's clang is the arm extra")
    assert pvgen("new", "p", cwd=tmp_path).returncode == 0
    done = pvgen("image", "--arch", "arm", cwd=tmp_path / "p",
                 env={"PVGEN_CC": f"{sys.executable} -m ziglang cc"})
    assert done.returncode == 0, done.stderr
    assert "arch arm" in done.stdout


def test_a_stage_runs_its_steps_side_by_side(tmp_path: Path) -> None:
    """Two steps that each take 0.5 s: with two jobs their times overlap, with one they do
    not; the second stage finds them made and runs nothing."""
    sleeper = ("import sys, time; start = time.time(); time.sleep(0.5); "
               "open(sys.argv[1], 'w').write(f'{start} {time.time()}')")

    def steps(where: Path) -> list[Step]:
        return [Step(f"step {n}", "p", (sys.executable, "-c", sleeper, str(where / f"{n}.out")),
                     where / f"{n}.out", ()) for n in range(2)]

    def spans(where: Path) -> list[tuple[float, float]]:
        return [tuple(map(float, (where / f"{n}.out").read_text().split()))  # type: ignore[misc]
                for n in range(2)]

    for jobs in (1, 2):
        where = tmp_path / str(jobs)
        record = StepRecord(where / "steps.json", "salt")
        outcomes = run_stage(steps(where), record, jobs)
        assert not any(o.failed or o.reused for o in outcomes)
        (a_start, a_end), (b_start, b_end) = spans(where)
        overlap = a_start < b_end and b_start < a_end
        assert overlap == (jobs == 2), (jobs, spans(where))
        started = time.monotonic()
        assert all(o.reused for o in run_stage(steps(where), record, jobs))
        assert time.monotonic() - started < 0.4


def test_depfiles_are_read_as_make_reads_them(tmp_path: Path) -> None:
    depfile = tmp_path / "a.d"
    depfile.write_text("out/a.o: src/a.c \\\n  include/my\\ header.h /abs/b.h\n",
                       encoding="utf-8")
    assert read_depfile(depfile) == [Path("src/a.c"), Path("include/my header.h"),
                                     Path("/abs/b.h")]
