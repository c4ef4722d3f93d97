"""The processor architectures pvgen can generate trap stubs for.

An architecture is a fact about the CPU (its registers, word size, trap
instructions, the macro its C compiler predefines); a hypervisor ABI, written
in the definition file, picks among these. Adding an architecture here lets a
definition target it; running it in the emulator additionally needs an
``pvgen.emulator.arch`` back-end.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TrapInstruction:
    """A guest → hypervisor trap instruction and the immediates it accepts."""

    mnemonic: str
    max_immediate: int | None  # None: the instruction takes no operand

    def assembly(self, immediate: int | None, immediate_prefix: str) -> str:
        if self.max_immediate is None or immediate is None:
            return self.mnemonic
        return f"{self.mnemonic} {immediate_prefix}{immediate}"


@dataclass(frozen=True)
class Architecture:
    name: str
    description: str
    word_bits: int
    endian: str
    registers: tuple[str, ...]
    c_predefine: str
    immediate_prefix: str
    traps: tuple[TrapInstruction, ...]

    def trap(self, mnemonic: str) -> TrapInstruction | None:
        return next((t for t in self.traps if t.mnemonic == mnemonic), None)


ARCHITECTURES: dict[str, Architecture] = {
    arch.name: arch
    for arch in (
        Architecture(
            name="x86",
            description="IA-32 (i386), as POK's x86 BSPs run partitions",
            word_bits=32,
            endian="little",
            registers=("eax", "ebx", "ecx", "edx", "esi", "edi", "ebp"),
            c_predefine="__i386__",
            immediate_prefix="$",
            traps=(TrapInstruction("int", 255),),
        ),
        Architecture(
            name="arm",
            description="AArch32 (ARMv7-A, ARM state)",
            word_bits=32,
            endian="little",
            registers=tuple(f"r{i}" for i in range(13)),
            c_predefine="__arm__",
            immediate_prefix="#",
            traps=(TrapInstruction("svc", 0xFFFFFF), TrapInstruction("hvc", 0xFFFF)),
        ),
        Architecture(
            name="riscv32",
            description="RV32 (stubs only: the bundled emulator does not run it)",
            word_bits=32,
            endian="little",
            registers=tuple(f"a{i}" for i in range(8)) + tuple(f"t{i}" for i in range(7)),
            c_predefine="__riscv",
            immediate_prefix="",
            traps=(TrapInstruction("ecall", None),),
        ),
    )
}
