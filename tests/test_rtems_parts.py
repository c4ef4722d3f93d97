"""The RTEMS harness's parts that need no RTEMS: the tester's rules, rtems-bin2c, the port's
edits on a stand-in tree (the real tree's are tests/test_rtems.py), the expected-output
comparison, the sources' errors."""

from __future__ import annotations

import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pytest

from pvgen.cache import locked
from pvgen.cli import main as pvgen_main
from pvgen.config import load_module
from pvgen.rtems.bin2c import main as bin2c
from pvgen.rtems.expected import RULES, compare, normalized
from pvgen.rtems.port import EDITS, HOOKS, MARK, PortError, apply_hooks
from pvgen.rtems.run import Member, module_xml
from pvgen.rtems.sources import NEWLIB, RTEMS, Source, SourceError, find, locate
from pvgen.rtems.steps import run_logged
from pvgen.rtems.toolchain import RtemsToolchainError, gcc_toolchain, zig_toolchain
from pvgen.tester import Verdict, judge, read
from tests.conftest import DEFINITION, ROOT

BEGIN, END = "*** BEGIN OF TEST X ***", "*** END OF TEST X ***"


@pytest.mark.parametrize(("lines", "timed_out", "name", "verdict"), [
    ([BEGIN, "x", END], False, "x", Verdict.PASSED),
    ([BEGIN, "x"], False, "x", Verdict.FAILED),
    ([BEGIN, "x"], True, "x", Verdict.TIMEOUT),
    (["x"], False, "x", Verdict.INVALID),
    ([], True, "x", Verdict.TIMEOUT),  # the tester: a run that timed out is a timeout
    ([], False, "minimum", Verdict.PASSED),  # the tester's one silent test
    (["*** FATAL ***"], False, "minimum.norun", Verdict.PASSED),
    ([BEGIN, END, "*** FATAL ***"], False, "x", Verdict.PASSED),  # spfatal* end so
    ([BEGIN, "*** FATAL ***"], False, "x", Verdict.FAILED),
    ([BEGIN, "*** TEST STATE: EXPECTED_FAIL", END], False, "x", Verdict.PASSED),
    ([BEGIN, "*** TEST STATE: EXPECTED_FAIL"], False, "x", Verdict.EXPECTED_FAIL),
    ([BEGIN, "*** TEST STATE: EXPECTED_FAIL"], True, "x", Verdict.EXPECTED_FAIL),
    ([BEGIN, "*** TEST STATE: INDETERMINATE", END], False, "x", Verdict.PASSED),
    ([BEGIN, "*** TEST STATE: INDETERMINATE"], False, "x", Verdict.INDETERMINATE),
    ([BEGIN, "*** TEST STATE: USER_INPUT", END], False, "x", Verdict.USER_INPUT),
    ([BEGIN, "*** TEST STATE: BENCHMARK", END], False, "x", Verdict.BENCHMARK),
])
def test_the_testers_rules(lines: list[str], timed_out: bool, name: str,
                           verdict: Verdict) -> None:
    assert judge(read(lines), timed_out=timed_out, name=name) is verdict


def test_a_silent_test_that_did_not_end_is_invalid() -> None:
    assert judge(read([]), timed_out=False, name="minimum", ended=False) is Verdict.INVALID


def test_bin2c_writes_c_that_compiles(tmp_path: Path) -> None:
    data = bytes(range(256)) * 3 + b"\x01"
    (tmp_path / "fs-root.tar").write_bytes(data)
    assert bin2c([str(tmp_path / "fs-root.tar"), str(tmp_path / "fs-root-tar.c")]) == 0
    assert bin2c(["-N", "named", str(tmp_path / "fs-root.tar"), str(tmp_path / "n.c")]) == 0
    (tmp_path / "empty").write_bytes(b"")
    assert bin2c([str(tmp_path / "empty"), str(tmp_path / "empty.c")]) == 0
    (tmp_path / "main.c").write_text(
        '#include "fs-root-tar.h"\n#include "n.h"\n#include "empty.h"\n'
        "int main(void) { return (int)(fs_root_tar_size + named_size + empty_size"
        " + fs_root_tar[768] + named[1]) ; }\n", encoding="utf-8")
    program = tmp_path / "a.out"
    subprocess.run(["gcc", "-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", "-I",
                    str(tmp_path), str(tmp_path / "main.c"), str(tmp_path / "fs-root-tar.c"),
                    str(tmp_path / "n.c"), str(tmp_path / "empty.c"), "-o", str(program)],
                   check=True)
    status = subprocess.run([str(program)], check=False).returncode
    assert status == (769 * 2 + 0 + 1 + 1) & 0xFF


def test_bin2c_refuses_a_bad_command_line(tmp_path: Path) -> None:
    assert bin2c(["only-one"]) == 2
    assert bin2c([str(tmp_path / "missing"), str(tmp_path / "out.c")]) == 1


# Stand-ins for the lines of the i386 port the edits anchor on (not RTEMS's text: the
# anchors are patterns; tests/test_rtems.py edits RTEMS's own tree).
STAND_IN = {
    "include/rtems/score/paravirt.h": "#ifndef H\n#define I386_DISABLE_INLINE_ISR_DISABLE_ENABLE\n"
                                      "#endif\n",
    "include/rtems/score/cpuimpl.h": "static inline void _CPU_Use_thread_local_storage(\n"
                                     "  const Context_Control *c\n)\n{\n  body();\n}\n"
                                     "static inline void *_CPU_Get_TLS_thread_pointer(\n"
                                     "  const Context_Control *c\n)\n{\n  tp();\n}\n",
    "cpu_asm.S": "switch:\n        popl      REG_EFLAGS(eax)\n        more\n"
                 "        GET_CPU_ID ecx\n        gdt\n        movl      edx, gs\n        ret\n",
}


def stand_in_tree(root: Path) -> Path:
    for name, text in STAND_IN.items():
        path = root / "cpukit/score/cpu/i386" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def test_the_port_edits_wrap_the_port_and_are_made_once(tmp_path: Path) -> None:
    tree = stand_in_tree(tmp_path)
    assert len(apply_hooks(tree)) == 3
    asm = (tree / "cpukit/score/cpu/i386/cpu_asm.S").read_text(encoding="utf-8")
    lines = [line.strip() for line in asm.splitlines()]
    # the save hook after the save of EFLAGS; the restore hook instead of the GDT and %gs
    save = lines.index("call      SYM (_CPU_Paravirt_Context_save)")
    assert lines.index("popl      REG_EFLAGS(eax)") < save < lines.index("more")
    assert lines[lines.index("GET_CPU_ID ecx") - 1] == "#else"
    assert lines[lines.index("movl      edx, gs") + 1] == "#endif /* I386_PARAVIRT_CONTEXT */"
    impl = (tree / "cpukit/score/cpu/i386/include/rtems/score/cpuimpl.h").read_text()
    assert impl.endswith("  tp();\n}\n#endif /* I386_PARAVIRT_CONTEXT */\n")
    assert impl.index("#else") < impl.index("body();")
    before = {p: p.read_bytes() for p in tree.rglob("*") if p.is_file()}
    assert apply_hooks(tree) == []  # a second time changes nothing
    assert before == {p: p.read_bytes() for p in tree.rglob("*") if p.is_file()}
    assert all(HOOKS.marker(edit) in (tree / edit.path).read_text() for edit in EDITS)


def test_a_port_without_an_anchor_is_refused_by_file_and_anchor(tmp_path: Path) -> None:
    tree = stand_in_tree(tmp_path)
    asm = tree / "cpukit/score/cpu/i386/cpu_asm.S"
    asm.write_text(asm.read_text().replace("movl      edx, gs", "nop"), encoding="utf-8")
    before = {p: p.read_bytes() for p in tree.rglob("*") if p.is_file()}
    with pytest.raises(PortError) as raised:
        apply_hooks(tree)
    assert before == {p: p.read_bytes() for p in tree.rglob("*") if p.is_file()}  # untouched
    assert str(asm) in str(raised.value)
    assert "the load of %gs in _CPU_Context_switch is not there" in str(raised.value)


def test_banners_old_and_new_compare_alike() -> None:
    console = ["", "*** BEGIN OF TEST HELLO WORLD ***", "*** TEST VERSION: 6.0.0",
               "*** TEST STATE: EXPECTED_PASS", "Hello World  ", "*** END OF TEST HELLO WORLD ***"]
    scn = ["*** HELLO WORLD TEST ***", "Hello World", "*** END OF HELLO WORLD TEST ***"]
    assert normalized(console) == normalized(scn) == ["BEGIN", "Hello World", "END"]
    assert normalized(["*** SAMPLE APPLICATION ***", "*** DEBUG ***", "*** END OF SAMPLE ***",
                       "[ RTEMS shutdown ]"]) == ["BEGIN", "*** DEBUG ***", "END"]


def _sample(tree: Path, name: str, scn: str) -> None:
    directory = tree / "testsuites" / "samples" / name
    directory.mkdir(parents=True)
    (directory / f"{name}.scn").write_text(scn, encoding="utf-8")


TICKER_SCN = """*** CLOCK TICK TEST ***
TA1 - clock_get_tod - 09:00:00   12/31/1988
TA2 - clock_get_tod - 09:00:00   12/31/1988
TA1 - clock_get_tod - 09:00:05   12/31/1988
*** END OF CLOCK TICK TEST ***
"""


@pytest.mark.parametrize(("console", "same"), [
    # RTEMS 6's name of the call and its spacing; the tasks of one time in another order
    (["*** BEGIN OF TEST CLOCK TICK ***", "TA2  - rtems_clock_get_tod - 09:00:00   12/31/1988",
      "TA1  - rtems_clock_get_tod - 09:00:00   12/31/1988",
      "TA1  - rtems_clock_get_tod - 09:00:05   12/31/1988", "*** END OF TEST CLOCK TICK ***"],
     True),
    # a second late
    (["*** BEGIN OF TEST CLOCK TICK ***", "TA1  - rtems_clock_get_tod - 09:00:00   12/31/1988",
      "TA2  - rtems_clock_get_tod - 09:00:00   12/31/1988",
      "TA1  - rtems_clock_get_tod - 09:00:04   12/31/1988", "*** END OF TEST CLOCK TICK ***"],
     False),
    # a time's tasks are not a time's tasks in another order: TA2 printed at :05
    (["*** BEGIN OF TEST CLOCK TICK ***", "TA1  - rtems_clock_get_tod - 09:00:00   12/31/1988",
      "TA1  - rtems_clock_get_tod - 09:00:05   12/31/1988",
      "TA2  - rtems_clock_get_tod - 09:00:05   12/31/1988", "*** END OF TEST CLOCK TICK ***"],
     False),
])
def test_ticker_compares_its_tasks_and_times(tmp_path: Path, console: list[str],
                                             same: bool) -> None:
    _sample(tmp_path, "ticker", TICKER_SCN)
    comparison = compare(tmp_path, "ticker", console)
    assert comparison is not None and comparison.rule == "ticks"
    assert comparison.same is same, comparison.diff()


def test_masked_and_collapsed_samples_keep_their_words(tmp_path: Path) -> None:
    _sample(tmp_path, "base_sp", "*** SAMPLE ***\nid of 0x10002\n*** END OF SAMPLE ***\n")
    _sample(tmp_path, "unlimited", "*** UNLIMITED ***\ntask 'aa01', number =   1\n"
            "task 'aa02', number =   2\nfailure, unsatisfied.\n*** END OF UNLIMITED ***\n")
    base_sp = compare(tmp_path, "base_sp", ["*** BEGIN OF TEST X ***", "id of 0xa010002",
                                            "*** END OF TEST X ***"])
    assert base_sp is not None and base_sp.same
    wrong = compare(tmp_path, "base_sp", ["*** BEGIN OF TEST X ***", "id is 0xa010002",
                                          "*** END OF TEST X ***"])
    assert wrong is not None and not wrong.same and "-id of #" in wrong.diff()
    tasks = [f"task 'ab{i:02}', number = {i}" for i in range(40)]
    unlimited = compare(tmp_path, "unlimited", ["*** BEGIN OF TEST X ***", *tasks,
                                                "failure, too many.", "*** END OF TEST X ***"])
    assert unlimited is not None and unlimited.same, unlimited.diff()
    assert compare(tmp_path, "paranoia", []) is None  # NOT_COMPARED says why
    assert compare(tmp_path, "hello", []) is None  # no .scn
    assert set(RULES) == {"hello", "base_sp", "nsecs", "unlimited", "ticker"}


def test_sources_are_found_or_refused_clearly(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(RTEMS.variable, raising=False)
    with pytest.raises(SourceError, match=r"no RTEMS 6 source: .*set PVGEN_RTEMS_SRC"):
        locate(RTEMS, None)
    with pytest.raises(SourceError, match="no such RTEMS 6 source"):
        locate(RTEMS, tmp_path / "missing")
    with pytest.raises(SourceError, match=r"not a newlib source tree \(no configure"):
        locate(NEWLIB, tmp_path)
    (tmp_path / "notes.txt").write_text("x", encoding="utf-8")
    with pytest.raises(SourceError, match="a directory or a source archive"):
        locate(NEWLIB, tmp_path / "notes.txt")
    archive = tmp_path / "newlib.tar.gz"
    top = tmp_path / "src" / "newlib-cygwin"
    (top / "newlib" / "libc").mkdir(parents=True)
    (top / "configure").write_text("#!/bin/sh\n", encoding="utf-8")
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(top, arcname="newlib-cygwin")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv(NEWLIB.variable, str(archive))
    found = locate(NEWLIB, None)
    assert found.tree.name == "newlib-cygwin" and (found.tree / "configure").is_file()
    assert found.identity.startswith("archive ")
    assert locate(NEWLIB, archive) == found  # unpacked once


def test_a_module_of_several_members_is_a_valid_configuration(tmp_path: Path) -> None:
    """module_xml: one window each, back to back; a large member's first MiB read-only."""
    elf = tmp_path / "program.exe"
    elf.write_bytes(b"")  # the configuration names it; only an image build reads it
    members = [Member("one", f'Elf="{elf}"', 0x400000), Member("two", f'Elf="{elf}"', 0x10000)]
    config = tmp_path / "module.xml"
    config.write_text(module_xml("pair", members), encoding="utf-8")
    module = load_module(config)
    assert [(p.name, p.memory_size) for p in module.partitions] == [
        ("one", 0x400000), ("two", 0x10000)]
    assert module.schedule.major_frame_ns == 40_000_000
    assert [(w.partition, w.start_ns, w.duration_ns) for w in module.schedule.windows] == [
        (1, 0, 20_000_000), (2, 20_000_000, 20_000_000)]
    assert 'Type="CODE" SizeBytes="1048576" Access="READ_ONLY"' in config.read_text()


def test_pvgen_bsp_adds_the_bsp_and_the_port_hooks_to_an_rtems_tree(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    tree = stand_in_tree(tmp_path / "rtems")
    (tree / "wscript").touch()
    (tree / "spec/build").mkdir(parents=True)
    assert pvgen_main(["bsp", "--rtems-tree", str(tree), "--def", str(DEFINITION)]) == 0
    assert "added the RTEMS_PARAVIRT thread switch hooks" in capsys.readouterr().out
    assert (tree / "bsps/i386/pokpv/include/bsp.h").is_file()
    assert (tree / "spec/build/bsps/i386/pokpv/bsppokpv.yml").is_file()
    assert all(HOOKS.marker(edit) in (tree / edit.path).read_text() for edit in EDITS)
    # a file of the user's stays; one an earlier rendering wrote and this one does not goes
    mine, stale = tree / "bsps/i386/pokpv/mine.c", tree / "bsps/i386/pokpv/removed.c"
    mine.write_text("/* mine */\n", encoding="utf-8")
    stale.write_text("/* rendered once */\n", encoding="utf-8")
    manifest = tree / "bsps/i386/pokpv/.pvgen-rendered"
    manifest.write_text(manifest.read_text() + "bsps/i386/pokpv/removed.c\n")
    assert pvgen_main(["bsp", "--rtems-tree", str(tree), "--def", str(DEFINITION)]) == 0
    assert "hooks" not in capsys.readouterr().out  # made once
    assert mine.is_file() and not stale.exists()
    archive = tmp_path / "rtems.tar.xz"
    archive.touch()
    assert pvgen_main(["bsp", "--rtems-tree", str(archive)]) == 2
    assert "--rtems-tree is an RTEMS checkout to add the BSP to (a directory)" in (
        capsys.readouterr().err)


def test_a_source_is_found_by_its_variable_else_by_its_archive(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(NEWLIB.variable, raising=False)
    assert find(NEWLIB, tmp_path) is None  # the tests then skip, saying what is missing
    (tmp_path / "newlib-abc-src.tar.xz").touch()
    assert find(NEWLIB, tmp_path) == tmp_path / "newlib-abc-src.tar.xz"
    monkeypatch.setenv(NEWLIB.variable, "/somewhere/newlib")
    assert find(NEWLIB, tmp_path) == Path("/somewhere/newlib")


def test_an_unknown_suite_is_refused_before_anything_is_built(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exited:
        pvgen_main(["rtems", "test", "--suites", "samples,bogus"])
    assert exited.value.code == 2
    assert "no test suite bogus (the harness builds samples, sptests, psxtests, tmtests)" in (
        capsys.readouterr().err)


@pytest.mark.parametrize("filters", [True, False], ids=["tarfile filters", "checked by hand"])
def test_an_archive_with_a_member_outside_its_top_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, filters: bool,
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    if not filters:  # a Python before 3.11.4
        monkeypatch.delattr(tarfile, "data_filter")
    evil = tmp_path / "evil.txt"
    evil.write_text("outside\n", encoding="utf-8")
    archive = tmp_path / "newlib-evil.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(evil, arcname="newlib/../../escaped.txt")
    with pytest.raises(SourceError, match=r"newlib-evil\.tar\.gz: cannot unpack it"):
        locate(NEWLIB, archive)
    assert not (tmp_path / "cache" / "escaped.txt").exists()


def test_a_users_gcc_is_taken_from_its_prefix_or_refused(tmp_path: Path) -> None:
    with pytest.raises(RtemsToolchainError, match=r"no i386-rtems6 gcc there"):
        gcc_toolchain(tmp_path)
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "i386-rtems6-gcc").touch()
    gcc = gcc_toolchain(tmp_path)
    assert (gcc.prefix, gcc.cc, gcc.cxx, gcc.options) == (tmp_path, "i386-rtems6-gcc", False, ())
    # RTEMS's own way of linking an application with gcc: the BSP's specs find the rest
    assert [f.format(lib="LIB") for f in gcc.application_link] == [
        "-BLIB", "-qrtems", "-Wl,--gc-sections"]


def test_a_cache_with_white_space_in_its_path_is_refused_before_any_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """RTEMS's waf splits its link flags at white space: the zig route's library paths,
    below the cache, must have none, and a cache that would give them some is named."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "my cache"))
    newlib = Source(NEWLIB, tmp_path, "newlib-identity")
    with pytest.raises(RtemsToolchainError, match=r"my cache/pvgen has white space in its path"):
        zig_toolchain(newlib)
    assert not (tmp_path / "my cache").exists()


def test_a_port_edited_by_another_version_of_the_hooks_is_refused(tmp_path: Path) -> None:
    tree = stand_in_tree(tmp_path)
    apply_hooks(tree)
    impl = tree / "cpukit/score/cpu/i386/include/rtems/score/cpuimpl.h"
    edit = next(e for e in EDITS if e.path.name == "cpuimpl.h")
    impl.write_text(impl.read_text().replace(HOOKS.marker(edit), f"{MARK} ({edit.name}, 0ld0ld00)"),
                    encoding="utf-8")
    with pytest.raises(PortError, match=r"cpuimpl\.h: the hook for .+ was added by another "
                                        r"version of pvgen: restore the file"):
        apply_hooks(tree)


def test_a_failed_build_step_shows_the_end_of_its_log(tmp_path: Path) -> None:
    log = tmp_path / "step.log"
    command = ["sh", "-c", "for i in $(seq 1 30); do echo line $i; done; exit 3"]
    with pytest.raises(RtemsToolchainError) as raised:
        run_logged(command, cwd=tmp_path, log=log, error=RtemsToolchainError, what="the step")
    message = str(raised.value)
    assert message.startswith(f"pvgen: error: the step failed (exit 3); the log is {log}:")
    assert message.endswith("line 30") and "line 16\n" in message and "line 15\n" not in message
    assert run_logged(command, cwd=tmp_path, log=log, error=RtemsToolchainError, check=False) == 3
    assert log.read_text().count("$ sh -c") == 2  # appended, each command first
    with pytest.raises(RtemsToolchainError, match=r"cannot run make-that-is-not: .*"):
        run_logged(["make-that-is-not"], cwd=tmp_path, log=log, error=RtemsToolchainError)


def test_two_processes_building_the_same_thing_take_turns(tmp_path: Path) -> None:
    """pvgen.cache.locked: a second builder waits for the first (as two pytest or pvgen
    processes building the toolchain or RTEMS at once do)."""
    target, record = tmp_path / "toolchain", tmp_path / "record"
    child = subprocess.Popen([sys.executable, "-c", (
        "import sys, time\nfrom pathlib import Path\nfrom pvgen.cache import locked\n"
        "record = Path(sys.argv[2])\n"
        "with locked(Path(sys.argv[1])):\n"
        "    record.write_text('first in\\n')\n"
        "    time.sleep(1)\n"
        "    record.write_text(record.read_text() + 'first out\\n')\n"),
        str(target), str(record)], cwd=ROOT)
    while not record.exists():
        time.sleep(0.01)
    with locked(target):
        record.write_text(record.read_text() + "second in\n")
    assert child.wait() == 0
    assert record.read_text() == "first in\nfirst out\nsecond in\n"
