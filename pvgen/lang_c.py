"""How model objects are spelled in C: small, pure jinja2 filters.

Templates call these instead of composing C spellings themselves, so every C
artifact (guest, kernel, RTEMS layer) agrees on type names, casts and checks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pvgen import model as m

_SCALAR_C = {
    "u8": "uint8_t",
    "u16": "uint16_t",
    "u32": "uint32_t",
    "u64": "uint64_t",
    "i8": "int8_t",
    "i16": "int16_t",
    "i32": "int32_t",
    "i64": "int64_t",
    "bool": "bool",
    "code": "uint32_t",
}


def upper(name: str) -> str:
    return name.upper()


def c_type(t: m.Type, prefix: str) -> str:
    """The C type guests and kernels use for a model type."""
    if isinstance(t, m.Scalar):
        return _SCALAR_C[t.name]
    return f"{prefix}_{t.name}_t"


def c_storage_type(t: m.Type) -> str:
    """The fixed-width integer a typedef'd alias or enum is stored as."""
    r = t.resolved
    if isinstance(r, m.Enum):
        return _SCALAR_C[r.base.name]
    if isinstance(r, m.Scalar):
        return _SCALAR_C[r.name]
    raise TypeError(f"{t.name} is not an integer type")


def c_param(p: m.Param, prefix: str) -> str:
    """A parameter declaration: by value, or a (const) pointer for in/out/inout."""
    ctype = c_type(p.type, prefix)
    if p.direction is None:
        return f"{ctype} {p.name}"
    const = "const " if p.direction is m.Direction.IN else ""
    return f"{const}{ctype} *{p.name}"


def c_params(call: m.Hypercall, prefix: str) -> str:
    return ", ".join(c_param(p, prefix) for p in call.params) or "void"


def c_return_type(call: m.Hypercall, prefix: str) -> str:
    return "void" if call.returns is None else c_type(call.returns.type, prefix)


def c_int(value: int, signed: bool = True) -> str:
    """An integer literal that keeps its value and signedness in 32-bit C."""
    if not signed:
        return f"{value}u" if value < 1 << 32 else f"{value}ull"
    if value == -(1 << 31):
        return "(-2147483647 - 1)"
    return str(value)


def c_arg_words(p: m.Param, prefix: str) -> str:
    """The argument word(s) a guest passes for one parameter.

    A 64-bit value becomes ``PREFIX_SPLIT64(x)``, which the selected ABI's block
    of the header defines to expand to its two words in that ABI's order.
    """
    if p.is_pointer:
        return f"(uint32_t)(uintptr_t){p.name}"
    if p.words_needed == 2:
        return f"{prefix.upper()}_SPLIT64({p.name})"
    return f"(uint32_t){p.name}"


def c_value_ok(check: m.ValueCheck, expr: str) -> str:
    """A C condition that holds when the 32-bit word ``expr`` is an allowed value."""
    operand = f"(int32_t){expr}" if check.signed else expr
    terms = []
    for low, high in check.ranges:
        if low == high:
            terms.append(f"{operand} == {c_int(low, check.signed)}")
        elif not check.signed and low == 0:
            terms.append(f"{operand} <= {c_int(high, False)}")
        else:
            terms.append(
                f"({operand} >= {c_int(low, check.signed)} && "
                f"{operand} <= {c_int(high, check.signed)})"
            )
    return " || ".join(terms)


def c_comment(text: str) -> str:
    """Text that is safe inside a /* */ comment."""
    return text.replace("*/", "* /")


def c_string(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def c_abi_macro(abi: m.Abi, prefix: str) -> str:
    return f"{prefix.upper()}_ABI_{abi.name.upper()}"


@dataclass(frozen=True)
class TrapRegister:
    var: str
    register: str
    value: str | None  # None: an output only


@dataclass(frozen=True)
class TrapPlan:
    """The operands of one inline-asm trap with ``words`` argument words."""

    words: int
    block_init: str | None  # BLOCK ABIs: the initializer of the argument block
    block_size: int
    registers: tuple[TrapRegister, ...]
    outputs: str
    inputs: str
    clobbers: str
    result: str


def trap_plan(abi: m.Abi, words: int) -> TrapPlan:
    """Registers, constraints and block layout for a trap stub, from the ABI data.

    Every register is a local register variable bound with ``__asm__("reg")``,
    which GCC and Clang support on every architecture; no per-architecture
    constraint letters are needed.
    """
    args = [f"a{i}" for i in range(1, words + 1)]
    regs = [TrapRegister("r_nr", abi.number_register, "nr")]
    block_init = None
    if abi.is_block:
        header = [f"{words}u"] if abi.block_counted else []
        block_init = ", ".join(header + args) or "0u"
        regs.append(TrapRegister("r_blk", abi.block_register or "", "(uint32_t)(uintptr_t)block"))
    else:
        regs += [
            TrapRegister(f"r_{a}", reg, a)
            for a, reg in zip(args, abi.argument_registers, strict=False)
        ]
    ret = next((r for r in regs if r.register == abi.return_register), None)
    if ret is None:
        ret = TrapRegister("r_ret", abi.return_register, None)
        regs.append(ret)
        outputs = f'"=r"({ret.var})'
    else:
        outputs = f'"+r"({ret.var})'
    inputs = ", ".join(f'"r"({r.var})' for r in regs if r is not ret)
    clobbers = ", ".join([f'"{c}"' for c in abi.clobbers] + ['"memory"'])
    return TrapPlan(
        words=words,
        block_init=block_init,
        block_size=abi.block_header_words + abi.block_words,
        registers=tuple(regs),
        outputs=outputs,
        inputs=inputs,
        clobbers=clobbers,
        result=ret.var,
    )


FILTERS: dict[str, Callable[..., Any]] = {
    "trap_plan": trap_plan,
    "upper": upper,
    "c_type": c_type,
    "c_storage_type": c_storage_type,
    "c_param": c_param,
    "c_params": c_params,
    "c_return_type": c_return_type,
    "c_int": c_int,
    "c_arg_words": c_arg_words,
    "c_value_ok": c_value_ok,
    "c_comment": c_comment,
    "c_string": c_string,
    "c_abi_macro": c_abi_macro,
}

TESTS: dict[str, Callable[..., bool]] = {
    "enum": lambda t: isinstance(t, m.Enum),
    "struct": lambda t: isinstance(t, m.Struct),
    "alias": lambda t: isinstance(t, m.Alias),
}
