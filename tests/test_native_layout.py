"""The structures the native pieces share with Python come from one description
(pvgen/emulator/native/layout.py): the generated pvshared.h checks at compile time that C
lays out every member where ctypes does. Here: the real header compiles with the native
sources' header, and a ctypes class that disagrees with C by one member does not."""

from __future__ import annotations

import ctypes
import shutil
import subprocess
from pathlib import Path

import pytest

from pvgen.emulator.native import HEADER, UNICORN_INCLUDE
from pvgen.emulator.native.layout import FAST, SHARED, FastHeader, c_header


def _compile_header(tmp_path: Path, header: str) -> subprocess.CompletedProcess[str]:
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        pytest.skip("no C compiler (Debian's gcc)")
    (tmp_path / "pvshared.h").write_text(header, encoding="utf-8")
    return subprocess.run([compiler, "-fsyntax-only", "-Wall", "-Wextra", "-Werror", "-x", "c",
                           "-I", str(tmp_path), "-I", str(UNICORN_INCLUDE), str(HEADER)],
                          capture_output=True, text=True, check=False, timeout=60)


def test_the_generated_header_compiles_with_the_native_header(tmp_path: Path) -> None:
    done = _compile_header(tmp_path, c_header())
    assert done.returncode == 0, done.stderr
    assert c_header().count("_Static_assert(offsetof(") == sum(
        len(struct.members) for struct, _ in SHARED)


def test_a_ctypes_class_that_disagrees_with_c_does_not_compile(tmp_path: Path) -> None:
    """`phase` made 64 bits wide on the Python side only: every later member moves."""
    fields = [(name, ctypes.c_int64 if name == "phase" else kind)
              for name, kind in FastHeader._fields_]
    wrong = type("WrongFast", (ctypes.Structure,), {"_fields_": fields})
    shared = [(struct, wrong if struct is FAST else cls) for struct, cls in SHARED]
    done = _compile_header(tmp_path, c_header(shared))
    assert done.returncode != 0
    assert "pv_fast.taken: C and ctypes disagree" in done.stderr
