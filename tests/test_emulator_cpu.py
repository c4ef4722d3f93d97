"""The emulator's CPU layer and native clock, on tiny x86 programs run by real Unicorn.

The programs are machine code written out byte by byte, each instruction named
beside it, so that what the budget must count is known exactly.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from pvgen.emulator import native
from pvgen.emulator.arch.x86 import X86
from pvgen.emulator.cpu import NO_RESULT, Cpu, TrapRegisters, Watchdog
from pvgen.emulator.errors import EmulatorError

SIZE = 0x10000
TRAP = 45
EAX, ECX = X86.register("eax"), X86.register("ecx")

COUNT_FOREVER = bytes([
    0x41,  # 0: inc ecx
    0xEB, 0xFD,  # 1: jmp 0 -- a block of two instructions
])
COUNT_DOWN = bytes([
    0x49,  # 0: dec ecx
    0x75, 0xFD,  # 1: jnz 0
    0xCD, TRAP,  # 3: int 45
    0xEB, 0xFE,  # 5: jmp 5
])
TRAP_IMMEDIATE = bytes([
    0xB8, 0x01, 0x00, 0x00, 0x00,  # 0: mov eax, 1 -- the hypervisor rewrites the 1
    0xCD, TRAP,  # 5: int 45
    0xEB, 0xF7,  # 7: jmp 0
])


def cpu_with(code: bytes, serve: object = None, *, cost: int | None = 100,
             faults: list[int] | None = None) -> Cpu:
    seen = faults if faults is not None else []
    cpu = Cpu(X86, SIZE, TrapRegisters(TRAP, (EAX, ECX), EAX),
              serve if callable(serve) else (lambda: NO_RESULT), seen.append, cost)
    cpu.load(0, code)
    cpu.write(X86.register("esp"), SIZE)
    return cpu


def test_the_budget_is_charged_per_block_and_never_overrun() -> None:
    """1001 instructions buy 500 blocks of two: the 501st is not started, nothing is lost."""
    cpu = cpu_with(COUNT_FOREVER)
    assert cpu.budget is not None
    cpu.budget.left = 1001
    assert cpu.run(0) == 0
    assert cpu.read(ECX) == 500
    assert (cpu.budget.executed, cpu.budget.left) == (1000, 1)
    cpu.budget.left = 10  # the next window goes on where this one stopped
    assert cpu.run(cpu.read(X86.register("eip"))) == 0
    assert cpu.read(ECX) == 505
    assert cpu.budget.executed == 1010


def test_a_trap_reads_its_registers_natively_writes_the_result_and_pays_its_cost() -> None:
    seen: list[list[int]] = []

    def serve() -> int:
        seen.append(cpu.trap_view.tolist())
        cpu.stop()
        return 0xABCD

    cpu = cpu_with(COUNT_DOWN, serve)
    assert cpu.budget is not None
    cpu.write(ECX, 3)
    cpu.budget.left = 1000
    assert cpu.run(0) == 0
    # three blocks of two instructions, the block holding `int`, then the trap's 100
    assert seen == [[0, 0]]
    assert cpu.read(EAX) == 0xABCD
    assert cpu.hypercalls == 1
    assert cpu.budget.executed == 3 * 2 + 1
    assert cpu.budget.left == 1000 - 7 - 100


def test_no_result_leaves_the_registers_alone_and_other_interrupts_are_faults() -> None:
    faults: list[int] = []
    cpu = cpu_with(bytes([0xCC, 0xEB, 0xFE]), faults=faults)  # int3; jmp $
    cpu.write(EAX, 77)
    assert cpu.budget is not None
    cpu.budget.left = 50
    cpu.run(0)
    assert faults and set(faults) == {3}
    assert cpu.read(EAX) == 77
    assert cpu.hypercalls == 0


# Where a guest's code may lie: where its ELF put it, in its data, on its stack (the top of
# its memory). A write by the hypervisor is executed wherever it lands.
CODE_PLACES = {"text": 0, "data": 0x8000, "stack": SIZE - 0x40}


def _trap_immediate_at(place: int) -> bytes:
    """TRAP_IMMEDIATE moved to `place` (its jmp is relative: the same bytes run anywhere)."""
    return bytes(place) + TRAP_IMMEDIATE


@pytest.mark.parametrize("cost", [100, None], ids=["deterministic", "free"])
@pytest.mark.parametrize("place", CODE_PLACES.values(), ids=CODE_PLACES.keys())
def test_a_hypervisor_write_over_code_is_executed_next_time(place: int, cost: int | None) -> None:
    """The written immediate is seen: the translation of the old bytes is dropped, wherever
    the code lies, with the instruction budget (which knows where blocks ran) or without."""
    values: list[int] = []

    def serve() -> int:
        values.append(cpu.trap_view[0])
        if len(values) == 1:
            cpu.write_memory(place + 1, (2).to_bytes(4, "little"))
        else:
            cpu.stop()
        return NO_RESULT

    cpu = cpu_with(_trap_immediate_at(place), serve, cost=cost)
    if cpu.budget is not None:
        cpu.budget.left = 1000
    cpu.run(place)
    assert values == [1, 2]


@pytest.mark.parametrize("place", CODE_PLACES.values(), ids=CODE_PLACES.keys())
def test_a_write_between_runs_is_executed_by_the_next_run(place: int) -> None:
    """What the hypervisor writes while the CPU is stopped (an upcall's frame, a warm
    start's kept bytes) is dropped from the translations before the CPU runs again."""
    values: list[int] = []

    def serve() -> int:
        values.append(cpu.trap_view[0])
        cpu.stop()
        return NO_RESULT

    cpu = cpu_with(_trap_immediate_at(place), serve)
    assert cpu.budget is not None
    cpu.budget.left = 1000
    cpu.run(place)
    cpu.write_memory(place + 1, (7).to_bytes(4, "little"))
    cpu.run(place)
    assert values == [1, 7]


def test_a_zero_length_write_is_harmless() -> None:
    """Nothing written, nothing dropped: the call a guest makes with a length of 0 (which
    once crashed the emulator inside Unicorn) changes nothing and the CPU goes on."""
    values: list[int] = []

    def serve() -> int:
        values.append(cpu.trap_view[0])
        cpu.write_memory(1, b"")
        if len(values) == 2:
            cpu.stop()
        return NO_RESULT

    cpu = cpu_with(TRAP_IMMEDIATE, serve)
    assert cpu.budget is not None
    cpu.budget.left = 1000
    assert cpu.run(0) == 0
    assert values == [1, 1]


def test_an_exception_in_a_handler_is_raised_by_run_not_lost_in_ctypes() -> None:
    def serve() -> int:
        raise ValueError("handler bug")

    cpu = cpu_with(COUNT_DOWN, serve)
    cpu.write(ECX, 1)
    assert cpu.budget is not None
    cpu.budget.left = 1000
    with pytest.raises(ValueError, match="handler bug"):
        cpu.run(0)


def test_the_watchdog_stops_a_spinning_cpu_and_nothing_after_it_is_disarmed() -> None:
    spinner = cpu_with(bytes([0xEB, 0xFE]), cost=None)  # jmp $
    assert spinner.budget is None
    dog = Watchdog()
    try:
        began = time.perf_counter()
        dog.arm(spinner, 20_000_000)
        assert spinner.run(0) == 0
        dog.disarm()
        assert 0.015 < time.perf_counter() - began < 5
        # a long finite run after disarming is not cut short by a late stop
        counter = cpu_with(COUNT_DOWN, lambda: (counter.stop(), NO_RESULT)[1], cost=None)
        counter.write(ECX, 20_000_000)
        assert counter.run(0) == 0
        assert counter.read(ECX) == 0
        assert counter.hypercalls == 1
    finally:
        dog.close()


def test_too_many_trap_registers_are_refused() -> None:
    with pytest.raises(MemoryError, match="too many trap registers"):
        Cpu(X86, SIZE, TrapRegisters(TRAP, (EAX,) * 9, EAX), lambda: 0, print, None)


def test_a_missing_compiler_is_a_clear_error(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CC", str(tmp_path / "no-such-cc"))
    with pytest.raises(EmulatorError, match=r"'.*no-such-cc' cannot run .*install Debian's gcc"):
        native._compile(tmp_path / "pvclock.so")
    monkeypatch.setenv("CC", "false")
    with pytest.raises(EmulatorError, match="building the emulator's native clock failed"):
        native._compile(tmp_path / "pvclock.so")
    assert list(tmp_path.iterdir()) == []  # no half-built library left to load later


def test_the_library_is_cached_per_source_and_header(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    path = native._library_path()
    assert path.parent == tmp_path / "pvgen"
    native._compile(path)
    assert path.is_file() and path.stat().st_size > 0
