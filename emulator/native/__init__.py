"""The emulator's native clock (pvclock.c), built once per machine and loaded with ctypes.

Why C: charging an instruction budget per translated block, stopping a CPU from
a host-time watchdog thread, and moving a hypercall's registers in and out all
run where Python would cost more than the guest code they serve. The library is
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

from emulator.errors import EmulatorError

SOURCE = Path(__file__).with_name("pvclock.c")
UNICORN_INCLUDE = Path(unicorn.__file__).parent / "include"


class BudgetHeader(ctypes.Structure):
    """The fields of ``struct pv_budget`` Python reads and writes."""

    _fields_ = (("left", ctypes.c_int64), ("executed", ctypes.c_uint64))


TRAP_REGISTERS = 8  # PV_TRAP_REGISTERS


class TrapHeader(ctypes.Structure):
    """The fields of ``struct pv_trap`` Python reads and writes."""

    _fields_ = (("values", ctypes.c_uint32 * TRAP_REGISTERS), ("served", ctypes.c_uint64),
                ("budget", ctypes.c_void_p), ("cost", ctypes.c_int64))


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "pvgen"


def _library_path() -> Path:
    digest = hashlib.sha256(SOURCE.read_bytes())
    digest.update((UNICORN_INCLUDE / "unicorn" / "unicorn.h").read_bytes())
    return _cache_dir() / f"pvclock-{digest.hexdigest()[:16]}.so"


def _compile(target: Path) -> None:
    compiler = shlex.split(os.environ.get("CC") or "cc")
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=target.parent, suffix=".so", delete=False) as tmp:
        partial = Path(tmp.name)
    command = [*compiler, "-O2", "-shared", "-fPIC", "-pthread", "-I", str(UNICORN_INCLUDE),
               str(SOURCE), "-o", str(partial)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, check=False)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise EmulatorError(
            f"error: the emulator builds its native clock with a C compiler, and "
            f"'{compiler[0]}' cannot run ({exc.strerror}); install Debian's gcc or set CC"
        ) from None
    if done.returncode != 0:
        partial.unlink(missing_ok=True)
        raise EmulatorError(
            f"error: building the emulator's native clock failed:\n{shlex.join(command)}\n"
            f"{done.stderr.strip()}"
        )
    partial.replace(target)  # atomic: a concurrent run sees the whole library or none


@cache
def library() -> ctypes.CDLL:
    """pvclock, compiled if this machine has not built this version yet."""
    path = _library_path()
    if not path.exists():
        _compile(path)
    lib = ctypes.CDLL(str(path))
    lib.pv_budget_new.restype = ctypes.c_void_p
    lib.pv_budget_new.argtypes = (ctypes.c_void_p, ctypes.c_void_p)
    lib.pv_budget_free.argtypes = (ctypes.c_void_p,)
    lib.pv_watchdog_new.restype = ctypes.c_void_p
    lib.pv_watchdog_new.argtypes = (ctypes.c_void_p,)
    lib.pv_watchdog_arm.argtypes = (ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64)
    lib.pv_watchdog_disarm.argtypes = (ctypes.c_void_p,)
    lib.pv_watchdog_free.argtypes = (ctypes.c_void_p,)
    lib.pv_trap_new.restype = ctypes.c_void_p
    lib.pv_trap_new.argtypes = (ctypes.c_uint32, ctypes.c_void_p, ctypes.c_int32, ctypes.c_int32,
                                ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p)
    lib.pv_trap_free.argtypes = (ctypes.c_void_p,)
    return lib
