"""The emulator's native pieces (pvclock.c, pvupcall.c), built once per machine and
loaded with ctypes.

Why C: charging an instruction budget per translated block, stopping a CPU from
a host-time watchdog thread, moving a hypercall's registers in and out, and the
steady-state timer upcall cycle (pvgen.emulator.fastpath) all run where Python would
cost more than the guest code they serve. The library is
compiled on first use with the host's C compiler (``$CC``, else ``cc``; Debian
package ``gcc``) against the header that ships with the Unicorn wheel, and cached
under ``$XDG_CACHE_HOME/pvgen`` by a hash of its source and of that header, so
later runs only load it.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import shlex
import subprocess
import tempfile
from functools import cache
from pathlib import Path

import unicorn

from pvgen.cache import cache_dir
from pvgen.emulator.errors import EmulatorError
from pvgen.emulator.native.layout import c_header

HERE = Path(__file__).parent
SOURCES = (HERE / "pvclock.c", HERE / "pvupcall.c")
HEADER = HERE / "pvnative.h"  # it includes pvshared.h, made from pvgen.emulator.native.layout
UNICORN_INCLUDE = Path(unicorn.__file__).parent / "include"


# The phases of the cycle in progress (PV_FAST_*)
PHASE_IDLE, PHASE_DELIVERED, PHASE_ACKED = 0, 1, 2


def _library_path() -> Path:
    digest = hashlib.sha256()
    for path in (*SOURCES, HEADER, UNICORN_INCLUDE / "unicorn" / "unicorn.h"):
        digest.update(path.read_bytes())
    digest.update(c_header().encode())
    return cache_dir() / f"pvnative-{digest.hexdigest()[:16]}.so"


def _compile(target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=target.parent, suffix=".so", delete=False) as tmp:
        partial = Path(tmp.name)
    try:
        with tempfile.TemporaryDirectory(dir=target.parent) as shared:
            (Path(shared) / "pvshared.h").write_text(c_header(), encoding="utf-8")
            _run_compiler(shared, partial)
    except EmulatorError:
        partial.unlink(missing_ok=True)
        raise
    partial.replace(target)  # atomic: a concurrent run sees the whole library or none


def _run_compiler(include: str, output: Path) -> None:
    """Compile the library into `output`, pvshared.h found in `include`."""
    compiler = shlex.split(os.environ.get("CC") or "cc")
    command = [*compiler, "-O2", "-shared", "-fPIC", "-pthread", "-Wall", "-Wextra",
               "-I", include, "-I", str(UNICORN_INCLUDE), *map(str, SOURCES),
               "-o", str(output)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, check=False)
    except OSError as exc:
        raise EmulatorError(
            f"pvgen: error: the emulator builds its native clock with a C compiler, and "
            f"'{compiler[0]}' cannot run ({exc.strerror}); install Debian's gcc or set CC"
        ) from None
    if done.returncode != 0:
        raise EmulatorError(
            f"pvgen: error: building the emulator's native clock failed:\n{shlex.join(command)}\n"
            f"{done.stderr.strip()}"
        )


@cache
def library() -> ctypes.CDLL:
    """The native library, compiled if this machine has not built this version yet."""
    path = _library_path()
    if not path.exists():
        _compile(path)
    lib = ctypes.CDLL(str(path))
    lib.pv_budget_new.restype = ctypes.c_void_p
    lib.pv_budget_new.argtypes = (ctypes.c_void_p, ctypes.c_void_p, ctypes.c_uint32)
    lib.pv_budget_free.argtypes = (ctypes.c_void_p,)
    lib.pv_watchdog_new.restype = ctypes.c_void_p
    lib.pv_watchdog_new.argtypes = (ctypes.c_void_p,)
    lib.pv_watchdog_arm.argtypes = (ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64)
    lib.pv_watchdog_disarm.argtypes = (ctypes.c_void_p,)
    lib.pv_watchdog_free.argtypes = (ctypes.c_void_p,)
    lib.pv_watchdog_fired.argtypes = (ctypes.c_void_p,)
    lib.pv_trap_new.restype = ctypes.c_void_p
    lib.pv_trap_new.argtypes = (ctypes.c_uint32, ctypes.c_void_p, ctypes.c_int32, ctypes.c_int32,
                                ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p,
                                ctypes.c_void_p)
    lib.pv_trap_free.argtypes = (ctypes.c_void_p,)
    lib.pv_trap_drop_written.argtypes = (ctypes.c_void_p, ctypes.c_void_p)
    lib.pv_fast_size.restype = ctypes.c_size_t
    return lib
