"""pvgen.emulator.vcpu's rules on a CPU made of dictionaries: the decisions, without a guest.

The guest-level tests (tests/test_vcpu_rules.py) run the same rules through real
partitions; these pin the decisions a guest cannot easily provoke alone, such as
the priority of two lines pending together and the shared area's pending word.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import SimpleNamespace

import pytest

from pvgen.emulator.vcpu import TIMER_LINE, UpcallDoesNotFit, VirtualCpu
from pvgen.upcall import CONVENTIONS

AREA = 0x800
LAYOUT = SimpleNamespace(enabled=0, pending=4, ticks=8)  # as the generated VCPU_AREA


class DictCpu:
    """Registers and words of memory in dictionaries (pvgen.emulator.vcpu.GuestCpu)."""

    def __init__(self) -> None:
        self.registers: dict[str, int] = {"esp": 0x1000, "eip": 0x100, "eflags": 0x2}
        self.words: dict[int, int] = {}
        self.memory_size = 0x10000

    def read_registers(self, names: tuple[str, ...]) -> list[int]:
        return [self.registers.get(name, 0) for name in names]

    def write_registers(self, names: tuple[str, ...], values: Sequence[int]) -> None:
        self.registers.update(zip(names, values, strict=True))

    def read_word(self, address: int) -> int:
        return self.words.get(address, 0)

    def write_word(self, address: int, value: int) -> None:
        self.words[address] = value

    def read_words(self, address: int, count: int) -> list[int]:
        return [self.read_word(address + 4 * i) for i in range(count)]

    def write_words(self, address: int, values: Sequence[int]) -> None:
        for i, value in enumerate(values):
            self.write_word(address + 4 * i, value)


def ready_vcpu(*lines: int) -> VirtualCpu:
    vcpu = VirtualCpu(CONVENTIONS["x86"])
    vcpu.register(0x200)
    for line in lines:
        vcpu.request(line)
        vcpu.unmask(line)
    return vcpu


def test_the_lowest_pending_line_goes_first_and_is_not_reentered() -> None:
    vcpu, cpu = ready_vcpu(3, 5), DictCpu()
    vcpu.raise_line(5)
    vcpu.raise_line(3)
    vcpu.enable()
    assert vcpu.ready() == 3
    vcpu.deliver(cpu, 3)
    assert vcpu.ready() is None  # delivery disabled interrupts
    vcpu.enable()
    assert vcpu.ready() == 5
    vcpu.raise_line(3)  # fires again while its handler runs: in service, so it waits
    vcpu.deliver(cpu, 5)
    vcpu.enable()
    assert vcpu.ready() is None
    vcpu.acknowledge(3)
    assert vcpu.ready() == 3


def test_an_unrequested_line_is_dropped_and_ticks_need_the_timer_line() -> None:
    vcpu = ready_vcpu(2)
    assert not vcpu.raise_line(7)
    assert not vcpu.tick(4)
    assert vcpu.ticks == 0 and not vcpu.pending
    vcpu.request(TIMER_LINE)
    assert vcpu.tick(4)
    assert vcpu.ticks == 4 and vcpu.pending == {TIMER_LINE}


def test_sharing_moves_the_level_into_guest_memory_and_publishes_pending() -> None:
    vcpu, cpu = ready_vcpu(TIMER_LINE), DictCpu()
    vcpu.enable()
    vcpu.tick(2)
    vcpu.share(cpu, AREA, LAYOUT)
    assert cpu.words == {AREA: 1, AREA + 4: 1, AREA + 8: 2}  # nothing the hypervisor knew is lost
    cpu.words[AREA] = 0  # the guest disables by writing the word, no hypercall
    assert not vcpu.enabled and vcpu.ready() is None
    cpu.words[AREA] = 1
    vcpu.deliver(cpu, TIMER_LINE)
    assert cpu.words[AREA] == 0 and cpu.words[AREA + 4] == 0  # disabled; nothing else waits
    vcpu.tick(3)
    assert cpu.words[AREA + 8] == 5
    assert cpu.words[AREA + 4] == 0  # pending, but in service: enabling would not deliver it
    vcpu.acknowledge(TIMER_LINE)
    assert cpu.words[AREA + 4] == 1


def test_flash_delivers_into_a_frame_that_resumes_disabled() -> None:
    vcpu, cpu = ready_vcpu(1), DictCpu()
    vcpu.raise_line(1)
    cpu.registers["eflags"] = 0x202
    assert vcpu.flash() == 1 and not vcpu.enabled
    entry = vcpu.deliver(cpu, 1, resumes_enabled=False)
    assert vcpu.resume(cpu)
    assert not vcpu.enabled
    assert cpu.words[entry.frame + vcpu.convention.offset("eflags")] & 0x200 == 0


def test_a_frame_that_would_leave_the_partition_is_refused_before_anything_is_written() -> None:
    vcpu, cpu = ready_vcpu(1), DictCpu()
    vcpu.raise_line(1)
    vcpu.enable()
    for sp in (8, 0xFFFFFFF0):
        cpu.registers["esp"] = sp
        with pytest.raises(UpcallDoesNotFit, match="does not fit the partition"):
            vcpu.deliver(cpu, 1)
        assert cpu.words == {} and cpu.registers["eip"] == 0x100  # untouched
        assert vcpu.ready() == 1 and not vcpu.frames  # still pending, nothing in service
