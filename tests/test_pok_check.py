"""The POK harness's reading of POK's one serial console (pvgen.pok.check), without POK:
the rules by which a line is given to a partition and the run on QEMU is ended.
tests/test_pok_system.py runs them on the real kernel."""

from __future__ import annotations

from pathlib import Path

import pytest

from pvgen.emulated import ModuleRun
from pvgen.pok.check import compare, partition_lines, watch
from pvgen.pok.cli import report
from pvgen.pok.errors import PokError
from pvgen.pok.qemu import BootProgress, QemuRun
from pvgen.pok.tree import locate, work_tree

PRINTED = (("a", "one"), ("b", "two"), ("a", "three"))


def _run() -> ModuleRun:
    return ModuleRun("all stopped", 0, {"a": ("one", "three"), "b": ("two",)},
                     {"a": (), "b": ()}, {"a": 3, "b": 1}, {"a": "IDLE", "b": "IDLE"},
                     {"a": True, "b": True}, PRINTED)


def test_complete_lines_only_until_the_end_and_the_kernel_s_own_apart() -> None:
    console = "one\n[KERNEL] [WARNING] Error 13\ntw"
    assert partition_lines(console) == (["one"], ["[KERNEL] [WARNING] Error 13"])
    assert partition_lines(console, final=True) == (["one", "tw"],
                                                    ["[KERNEL] [WARNING] Error 13"])
    assert partition_lines("one\r\n", final=True) == (["one"], [])


def test_the_run_is_done_at_the_last_expected_line_and_wrong_at_the_first_other() -> None:
    progress = watch(["one", "two", "three"])
    assert progress("one\ntwo\nthr") is BootProgress.RUNNING
    assert progress("one\ntwo\nthree\n") is BootProgress.DONE
    assert progress("one\n[KERNEL] x\ntwo\nthree\n") is BootProgress.DONE
    assert progress("one\nTWO\n") is BootProgress.WRONG


def test_each_line_goes_to_the_partition_that_printed_it_in_the_emulator() -> None:
    same = compare(_run(), QemuRun("one\ntwo\nthree\n", "", "done", 1.0), "m", 2.0)
    assert same.same and [p.pok for p in same.partitions] == [("one", "three"), ("two",)]
    swapped = compare(_run(), QemuRun("two\none\nthree\nfour\n", "", "done", 1.0), "m", 2.0)
    assert not swapped.same
    assert [p.pok for p in swapped.partitions] == [("two", "three"), ("one",)]
    assert swapped.unexpected == ("four",)
    text = report(swapped)
    assert "  a: DIFFERENT (2 line(s) in the emulator, 2 on POK)" in text
    assert "    +two" in text and "POK printed after the last expected line: four" in text


def test_a_kernel_that_never_started_its_partitions_shows_its_boot_log() -> None:
    text = report(compare(_run(), QemuRun("", "SeaBIOS\nBooting from ROM..\n", "time limit",
                                          60.0), "m", 2.0))
    assert "POK never started its partitions; its boot log ends:" in text
    assert "    Booting from ROM.." in text


def test_a_work_directory_with_white_space_is_refused_before_any_copy(tmp_path: Path) -> None:
    """POK's make rules split paths at white space."""
    work = tmp_path / "my work"
    with pytest.raises(PokError, match=r"my work: POK's make rules cannot build in a "
                                       r"path with white space"):
        work_tree(tmp_path, work)
    assert not work.exists()


def test_a_pok_tree_is_found_or_what_is_missing_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("POK_SRC", str(tmp_path))
    with pytest.raises(PokError, match=r"not a POK checkout \(no kernel/ and misc/mk/\)"):
        locate(None, tmp_path)
    (tmp_path / "kernel").mkdir()
    (tmp_path / "misc" / "mk").mkdir(parents=True)
    assert locate(None, tmp_path) == tmp_path
    monkeypatch.delenv("POK_SRC")
    project = tmp_path / "nowhere" / "project"
    with pytest.raises(PokError, match=r"no POK tree: set POK_SRC to a POK checkout, pass "
                                       r"--pok DIR, or put pok.bundle in .*nowhere/shared/pok"):
        locate(None, project)
