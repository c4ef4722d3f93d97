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

HERE = Path(__file__).parent
SOURCES = (HERE / "pvclock.c", HERE / "pvupcall.c")
HEADER = HERE / "pvnative.h"
UNICORN_INCLUDE = Path(unicorn.__file__).parent / "include"


class BudgetHeader(ctypes.Structure):
    """The fields of ``struct pv_budget`` Python reads and writes."""

    _fields_ = (("left", ctypes.c_int64), ("executed", ctypes.c_uint64),
                ("at", ctypes.c_int64), ("granted", ctypes.c_int64), ("until", ctypes.c_int64),
                ("exhausted", ctypes.c_int64), ("fast", ctypes.c_void_p))


TRAP_REGISTERS = 8  # PV_TRAP_REGISTERS


class TrapHeader(ctypes.Structure):
    """The fields of ``struct pv_trap`` Python reads and writes."""

    _fields_ = (("values", ctypes.c_uint32 * TRAP_REGISTERS), ("served", ctypes.c_uint64),
                ("budget", ctypes.c_void_p), ("cost", ctypes.c_int64), ("fast", ctypes.c_void_p),
                # struct pv_written: what the hypervisor wrote since translations were dropped
                ("written_first", ctypes.c_uint32), ("written_last", ctypes.c_uint32))


class UnraisedHeader(ctypes.Structure):
    """``struct pv_unraised``: what an unraised instruction's hook raises, and through
    which trap hook."""

    _fields_ = (("trap", ctypes.c_void_p), ("exception", ctypes.c_uint32))


FRAME_REGISTERS = 20  # PV_FRAME_REGISTERS


class FastHeader(ctypes.Structure):
    """``struct pv_fast``, field for field: Python allocates and fills it
    (pvgen.emulator.fastpath)."""

    _fields_ = (
        ("armed", ctypes.c_int32), ("phase", ctypes.c_int32), ("taken", ctypes.c_uint64),
        ("last_due", ctypes.c_int64), ("period", ctypes.c_int64), ("next_due", ctypes.c_int64),
        ("end", ctypes.c_int64), ("mips", ctypes.c_int64), ("frame", ctypes.c_uint32),
        ("ticks", ctypes.c_uint32), ("handler", ctypes.c_uint32),
        ("area_enabled", ctypes.c_uint32), ("area_pending", ctypes.c_uint32),
        ("area_ticks", ctypes.c_uint32),
        ("timer_line", ctypes.c_uint32), ("ram", ctypes.c_void_p), ("written", ctypes.c_void_p),
        ("memory_size", ctypes.c_uint32), ("ack_number", ctypes.c_uint32),
        ("return_number", ctypes.c_uint32), ("ok", ctypes.c_uint32),
        ("arguments_in_block", ctypes.c_int32), ("block_bytes", ctypes.c_int32),
        ("block_counted", ctypes.c_int32),
        ("frame_count", ctypes.c_int32), ("frame_registers", ctypes.c_int32 * FRAME_REGISTERS),
        ("status_index", ctypes.c_int32), ("sp_index", ctypes.c_int32),
        ("pc_register", ctypes.c_int32), ("argument_registers", ctypes.c_int32 * 2),
        ("return_register", ctypes.c_int32), ("return_address", ctypes.c_uint32),
        ("level_bit", ctypes.c_uint32), ("level_bit_enables", ctypes.c_int32),
        ("restored_status_bits", ctypes.c_uint32), ("scratch", ctypes.c_uint32),
        ("stack_alignment", ctypes.c_uint32), ("call_bias", ctypes.c_uint32),
        ("read", ctypes.c_void_p), ("write", ctypes.c_void_p),
    )


# The phases of the cycle in progress (PV_FAST_*)
PHASE_IDLE, PHASE_DELIVERED, PHASE_ACKED = 0, 1, 2


def _library_path() -> Path:
    digest = hashlib.sha256()
    for path in (*SOURCES, HEADER, UNICORN_INCLUDE / "unicorn" / "unicorn.h"):
        digest.update(path.read_bytes())
    return cache_dir() / f"pvnative-{digest.hexdigest()[:16]}.so"


def _compile(target: Path) -> None:
    compiler = shlex.split(os.environ.get("CC") or "cc")
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=target.parent, suffix=".so", delete=False) as tmp:
        partial = Path(tmp.name)
    command = [*compiler, "-O2", "-shared", "-fPIC", "-pthread", "-Wall", "-Wextra",
               "-I", str(UNICORN_INCLUDE), *map(str, SOURCES), "-o", str(partial)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, check=False)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise EmulatorError(
            f"pvgen: error: the emulator builds its native clock with a C compiler, and "
            f"'{compiler[0]}' cannot run ({exc.strerror}); install Debian's gcc or set CC"
        ) from None
    if done.returncode != 0:
        partial.unlink(missing_ok=True)
        raise EmulatorError(
            f"pvgen: error: building the emulator's native clock failed:\n{shlex.join(command)}\n"
            f"{done.stderr.strip()}"
        )
    partial.replace(target)  # atomic: a concurrent run sees the whole library or none


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
