"""Generated guest stubs, compiled by a real compiler, trap into the generated Python dispatcher.

A small guest calls hypercalls through ``pv_hypercalls.h``; it runs on Unicorn,
and each trap is handed to the generated ``fetch_and_dispatch`` for the ABI the
guest was built for. This checks end to end that both generated sides agree
on registers, argument blocks, 64-bit splitting, out pointers and rejections,
and that the fast-path calls stop trapping once the vCPU area is shared.
"""

from __future__ import annotations

import importlib.util
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, Generic, Protocol, TypeVar

import pytest
from elftools.elf.elffile import ELFFile
from unicorn import (
    UC_HOOK_INTR,
    Uc,
)

from pvgen.definition import load
from pvgen.emulator.arch import backend
from pvgen.generate import render_all, write_artifacts
from pvgen.lang_c import c_abi_macro
from tests.cc import CLANG_ARM, GCC_X86, STRICT, Compiler
from tests.conftest import DEFINITION
from tests.guest_harness import UnicornMemory

MEMORY_SIZE = 0x10000
LINKER_SCRIPT = (
    "SECTIONS { . = 0; .text : { *(.text*) } .rodata : { *(.rodata*) }"
    " .data : { *(.data*) } .bss : { *(.bss*) *(COMMON) } }\n"
)

GUEST = r"""
#include "pv_hypercalls.h"
volatile uint64_t ticks_seen;
volatile int32_t status_bad_pointer;
volatile int32_t status_bad_value;
void _start(void);
void _start(void)
{
    static const uint8_t hello[] = "hello";
    uint64_t ticks = 0;
    (void)pv_console_write(hello, 5u);
    (void)pv_timer_set_period(0x1122334455667788LL);
    (void)pv_irq_set_level(true);
    (void)pv_get_ticks(&ticks);
    ticks_seen = ticks;
    status_bad_pointer = pv_console_write((const uint8_t *)(uintptr_t)0xFFFFFFF0u, 32u);
    status_bad_value = pv_partition_set_mode((pv_partition_mode_t)9u);
    pv_shutdown();
}
"""


@dataclass(frozen=True)
class Target:
    """How to build a guest for an architecture; the CPU side is the emulator's back-end."""

    compiler: Compiler
    link_flags: tuple[str, ...]


TARGETS = {
    "x86": Target(GCC_X86, ("-fno-pic", "-fno-pie", "-no-pie")),
    "arm": Target(CLANG_ARM, ()),
}


@dataclass
class RecordingHandlers:
    """Records what reached the handlers; answers the calls the guest makes."""

    uc: Uc
    calls: list[tuple[str, tuple[Any, ...]]] = field(default_factory=list)
    rejected: list[tuple[int, str]] = field(default_factory=list)

    def console_write(self, buf: bytes, len: int) -> int:  # names as in hypercalls.def
        self.calls.append(("console_write", (buf, len)))
        return 0

    def timer_set_period(self, period: int) -> int:
        self.calls.append(("timer_set_period", (period,)))
        return 0

    def irq_set_level(self, enabled: int) -> int:
        self.calls.append(("irq_set_level", (enabled,)))
        return 0

    def get_ticks(self) -> tuple[int, int]:
        self.calls.append(("get_ticks", ()))
        return 0, 0x0102030405060708

    def partition_set_mode(self, mode: int) -> int:
        self.calls.append(("partition_set_mode", (mode,)))
        return 0

    def shutdown(self) -> int:
        self.calls.append(("shutdown", ()))
        self.uc.emu_stop()
        return 0

    def hypercall_rejected(self, number: int, event: Any) -> None:
        self.rejected.append((number, event.name.lower()))


def _import(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("pv_dispatch_under_test", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("gen")
    write_artifacts(render_all(load(DEFINITION)), out)
    return out


def _build(target: Target, macro: str, gen: Path, work: Path, program: str = GUEST) -> Path:
    source = work / "guest.c"
    source.write_text(program)
    script = work / "partition.ld"
    script.write_text(LINKER_SCRIPT)
    elf = work / "guest.elf"
    args = [
        *target.compiler.command, *STRICT, *target.link_flags, "-nostdlib", "-static",
        f"-I{gen / 'guest'}", f"-D{macro}", "-T", str(script), "-Wl,-e,_start",
        str(source), "-o", str(elf),
    ]
    result = subprocess.run(args, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    return elf


def _load(uc: Uc, elf_path: Path) -> tuple[int, dict[str, int]]:
    with elf_path.open("rb") as f:
        elf = ELFFile(f)
        for segment in elf.iter_segments():
            if segment["p_type"] == "PT_LOAD":
                data = segment.data()
                uc.mem_write(segment["p_vaddr"], data)
        symtab = elf.get_section_by_name(".symtab")
        symbols = {s.name: s["st_value"] for s in symtab.iter_symbols()}  # type: ignore[union-attr]
        return elf.header["e_entry"], symbols


ABI_CASES = [
    pytest.param(abi.name, abi.arch.name, c_abi_macro(abi, iface.prefix), id=abi.name)
    for iface in [load(DEFINITION)]
    for abi in iface.abis
]


class Recording(Protocol):
    calls: list[tuple[str, tuple[Any, ...]]]


H = TypeVar("H", bound=Recording)


@dataclass
class GuestRun(Generic[H]):
    """A guest that ran on Unicorn, every trap handed to the generated dispatcher."""

    uc: Uc
    dispatch: ModuleType
    symbols: dict[str, int]
    handlers: H
    traps: list[int]

    def read(self, symbol: str, offset: int = 0, size: int = 4) -> int:
        return int.from_bytes(self.uc.mem_read(self.symbols[symbol] + offset, size), "little")


def run_guest(
    generated: Path, work: Path, abi_name: str, arch: str, macro: str, program: str,
    make_handlers: Callable[[Uc, UnicornMemory, ModuleType], H],
) -> GuestRun[H]:
    """Build ``program`` for an ABI, run it until a handler stops it; skip where Unicorn can't."""
    dispatch = _import(generated / "python" / "pv_dispatch.py")
    target, cpu = TARGETS[arch], backend(arch)
    elf = _build(target, macro, generated, work, program)
    uc = Uc(cpu.uc_arch, cpu.uc_mode)
    uc.mem_map(0, MEMORY_SIZE)
    entry, symbols = _load(uc, elf)
    memory = UnicornMemory(uc, MEMORY_SIZE)
    handlers = make_handlers(uc, memory, dispatch)
    abi = dispatch.ABIS[abi_name]
    traps: list[int] = []

    def read_register(name: str) -> int:
        value: int = uc.reg_read(cpu.register(name))
        return value

    return_register = cpu.register(abi.return_register)

    def on_interrupt(uc: Uc, intno: int, _user: object) -> None:
        traps.append(intno)
        values = [read_register(name) for name in abi.trap_registers]
        result = dispatch.fetch_and_dispatch(abi_name, values, memory, handlers)
        uc.reg_write(return_register, result)

    uc.hook_add(UC_HOOK_INTR, on_interrupt)
    uc.reg_write(cpu.register(cpu.sp), MEMORY_SIZE - 16)
    try:
        uc.emu_start(entry, MEMORY_SIZE, count=100_000)
    except Exception as exc:  # an unsupported trap instruction surfaces as a CPU exception
        if abi_name == "hvc_arm" and not handlers.calls:
            pytest.skip(f"Unicorn does not deliver 'hvc' from this mode: {exc}")
        raise
    return GuestRun(uc, dispatch, symbols, handlers, traps)


@pytest.mark.parametrize(("abi_name", "arch", "macro"), ABI_CASES)
def test_compiled_stubs_reach_the_generated_dispatcher(
    generated: Path, tmp_path: Path, abi_name: str, arch: str, macro: str
) -> None:
    run = run_guest(
        generated, tmp_path, abi_name, arch, macro, GUEST,
        lambda uc, _memory, _dispatch: RecordingHandlers(uc),
    )
    handlers = run.handlers

    assert handlers.calls == [
        ("console_write", (b"hello", 5)),
        ("timer_set_period", (0x1122334455667788,)),
        ("irq_set_level", (1,)),
        ("get_ticks", ()),
        ("shutdown", ()),
    ]
    # The rejected calls never reached a handler, and the guest saw the definition's status.
    iface = load(DEFINITION)
    invalid_param = iface.status.member("INVALID_PARAM")
    assert invalid_param is not None
    assert handlers.rejected == [(10, "bad_pointer"), (404, "bad_value")]
    assert run.read("status_bad_pointer") == invalid_param.value
    assert run.read("status_bad_value") == invalid_param.value
    assert run.read("ticks_seen", size=8) == 0x0102030405060708
    assert len(run.traps) == 7



# ---------------------------------------------------------------------------
# The trap-free fast path: once the vCPU area is shared, only enabling with a
# line pending traps
# ---------------------------------------------------------------------------

FAST_GUEST = r"""
#include "pv_hypercalls.h"
pv_vcpu_area_t guest_area;
volatile uint32_t seen[12];
void _start(void);
void _start(void)
{
    static const uint8_t marks[] = "0123";
    /* A share the dispatcher refuses shares nothing: the calls still trap. */
    seen[0] = (uint32_t)pv_vcpu_share((pv_vcpu_area_t *)(uintptr_t)(MEMORY_SIZE - 8u));
    seen[1] = pv_irq_disable();
    seen[2] = (uint32_t)pv_vcpu_share(&guest_area);
    (void)pv_console_write(&marks[0], 1u);
    /* Shared, nothing pending: no call traps. */
    seen[3] = pv_irq_get_level();
    (void)pv_irq_enable();
    seen[4] = pv_irq_get_level();
    seen[5] = pv_irq_disable();
    seen[6] = guest_area.enabled;
    (void)pv_irq_set_level(true);
    seen[7] = guest_area.enabled;
    (void)pv_irq_set_level(false);
    (void)pv_console_write(&marks[1], 1u); /* the hypervisor sets pending here */
    /* A line pending: enabling traps, once per enabling call; disabling does not. */
    seen[8] = (uint32_t)pv_irq_enable();
    seen[9] = pv_irq_disable();
    seen[10] = (uint32_t)pv_irq_set_level(true);
    (void)pv_irq_set_level(false);
    seen[11] = pv_irq_get_level();
    (void)pv_console_write(&marks[2], 1u);
    pv_shutdown();
}
"""

TRAPPED_LEVEL = 0x5A  # what irq_disable returns when it traps: no area word holds it


@dataclass
class FastPathHandlers:
    """The hypervisor side of the fast path: shares the area, raises a pending line on cue."""

    uc: Uc
    memory: UnicornMemory
    pending_offset: int
    calls: list[tuple[str, tuple[Any, ...]]] = field(default_factory=list)
    rejected: list[tuple[int, str]] = field(default_factory=list)
    area: int | None = None

    def vcpu_share(self, area: int) -> int:
        self.calls.append(("vcpu_share", (area,)))
        self.area = area
        return 0

    def console_write(self, buf: bytes, len: int) -> int:
        self.calls.append(("console_write", (buf,)))
        if buf == b"1":
            assert self.area is not None
            self.memory.write(self.area + self.pending_offset, (1).to_bytes(4, "little"))
        return 0

    def irq_disable(self) -> int:
        self.calls.append(("irq_disable", ()))
        return TRAPPED_LEVEL

    def irq_enable(self) -> int:
        self.calls.append(("irq_enable", ()))
        return 0

    def irq_set_level(self, enabled: int) -> int:
        self.calls.append(("irq_set_level", (enabled,)))
        return 0

    def shutdown(self) -> None:
        self.calls.append(("shutdown", ()))
        self.uc.emu_stop()

    def hypercall_rejected(self, number: int, event: Any) -> None:
        self.rejected.append((number, event.name.lower()))


@pytest.mark.parametrize(("abi_name", "arch", "macro"), ABI_CASES)
def test_fast_path_calls_stop_trapping_once_the_area_is_shared(
    generated: Path, tmp_path: Path, abi_name: str, arch: str, macro: str
) -> None:
    def make_handlers(uc: Uc, memory: UnicornMemory, dispatch: ModuleType) -> FastPathHandlers:
        assert dispatch.VCPU_AREA is not None
        return FastPathHandlers(uc, memory, dispatch.VCPU_AREA.pending)

    program = FAST_GUEST.replace("MEMORY_SIZE", f"{MEMORY_SIZE:#x}u")
    run = run_guest(generated, tmp_path, abi_name, arch, macro, program, make_handlers)
    handlers = run.handlers
    area = run.dispatch.VCPU_AREA
    guest_area = run.symbols["guest_area"]
    # Every trap, in order: the console marks split the program's phases.
    assert handlers.calls == [
        ("irq_disable", ()),  # the refused share left the area unshared
        ("vcpu_share", (guest_area,)),
        ("console_write", (b"0",)),
        # shared, nothing pending: get_level, enable, disable, set_level made no trap
        ("console_write", (b"1",)),
        ("irq_enable", ()),  # pending: enabling traps, disabling does not
        ("irq_set_level", (1,)),
        ("console_write", (b"2",)),
        ("shutdown", ()),
    ]
    assert len(run.traps) == 9  # the refused share, then the eight calls above
    assert handlers.rejected == [(38, "bad_pointer")]
    seen = [run.read("seen", 4 * i) for i in range(12)]
    invalid_param = load(DEFINITION).status.member("INVALID_PARAM")
    assert invalid_param is not None
    assert seen == [
        invalid_param.value,  # the share that does not fit in the partition
        TRAPPED_LEVEL,  # disable before sharing: the hypervisor's answer
        0,  # shared
        0, 1,  # get_level before and after enable, from the area
        1, 0,  # disable returns the previous level and clears the word
        1,  # set_level(true) set it
        0,  # the trapped enable returns the hypervisor's OK
        1,  # disable, pending or not, makes no trap and returns the level
        0,  # the trapped set_level(true) returns the hypervisor's OK
        0,  # and set_level(false) left it disabled
    ]
    assert (run.read("guest_area", area.enabled), run.read("guest_area", area.pending)) == (0, 1)
