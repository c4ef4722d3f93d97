"""How model objects are spelled in C: small, pure jinja2 filters.

Templates call these instead of composing C spellings themselves, so every C
artifact (guest, kernel, RTEMS layer) agrees on type names, casts and checks.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pvgen import model as m
from pvgen.decode_plan import Area, CallPlan, CodeAddress, ParamStep, String, Use, plan_of

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


# What differs in POK's kernel, which has no <stdbool.h> (its bool_t is an int, and TRUE and
# FALSE macros): a one-byte bool of the ABI is a uint8_t there, 0 or 1.
_SCALAR_C_POK = {**_SCALAR_C, "bool": "uint8_t"}
DIALECTS = {"c99": _SCALAR_C, "pok": _SCALAR_C_POK}


def c_type(t: m.Type, prefix: str, dialect: str = "c99") -> str:
    """The C type guests (C99) and kernels (their own dialect: POK's) use for a model type."""
    if isinstance(t, m.Scalar):
        return DIALECTS[dialect][t.name]
    return f"{prefix}_{t.name}_t"


def c_storage_type(t: m.Type) -> str:
    """The fixed-width integer a typedef'd alias or enum is stored as."""
    r = t.resolved
    if isinstance(r, m.Enum):
        return _SCALAR_C[r.base.name]
    if isinstance(r, m.Scalar):
        return _SCALAR_C[r.name]
    raise TypeError(f"{t.name} is not an integer type")


def c_param(p: m.Param, prefix: str, dialect: str = "c99") -> str:
    """A parameter declaration: by value, or a (const) pointer for in/out/inout."""
    ctype = c_type(p.type, prefix, dialect)
    if p.direction is None:
        return f"{ctype} {p.name}"
    const = "const " if p.direction is m.Direction.IN else ""
    return f"{const}{ctype} *{p.name}"


def c_params(call: m.Hypercall, prefix: str) -> str:
    return ", ".join(c_param(p, prefix) for p in call.params) or "void"


def c_return_type(call: m.Hypercall, prefix: str, dialect: str = "c99") -> str:
    return "void" if call.returns is None else c_type(call.returns.type, prefix, dialect)


def c_int(value: int, signed: bool = True) -> str:
    """An integer literal that keeps its value and signedness in 32-bit C."""
    if not signed:
        return f"{value}u" if value < 1 << 32 else f"{value}ull"
    if value == -(1 << 31):
        return "(-2147483647 - 1)"
    return str(value)


def c_local(call: m.Hypercall, name: str) -> str:
    """A name for a local variable of ``call``'s stub that none of its parameters has."""
    taken = {p.name for p in call.params}
    while name in taken:
        name += "_"
    return name


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


# Unicode's bidirectional controls, which C compilers warn of (-Wbidi-chars) wherever they are.
_BIDI = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _without_bidi(text: str) -> str:
    return _BIDI.sub(lambda found: f"U+{ord(found[0]):04X}", text)


def c_comment(text: str) -> str:
    """Text that is safe inside a /* */ comment, whatever a doc string holds: no end of the
    comment, no nested start (-Wcomment), no trigraph (-Wtrigraphs; ISO C modes replace
    them), no bidirectional control."""
    return _without_bidi(text.replace("*/", "* /").replace("/*", "/ *").replace("??", "? ?"))


def c_string(text: str) -> str:
    """A C string literal of the text: no trigraph ("?\\?"), no bidirectional control."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("??", "?\\?")
    return f'"{_without_bidi(escaped)}"'


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


def c_defined(features: tuple[str, ...]) -> str:
    """A preprocessor condition that holds when every feature macro is defined."""
    return " && ".join(f"defined({f})" for f in features)


@dataclass(frozen=True)
class DispatchCheck:
    """One check a kernel dispatcher makes on a call's argument words."""

    param: str
    failed: str  # a C condition that holds when the argument must be rejected
    event: m.RejectEvent


@dataclass(frozen=True)
class DispatchPlan:
    """How a kernel dispatcher checks one call's argument words and calls its handler.

    The C around it names its locals ``args`` (words ``args->arg1``... in
    ``Hypercall.words`` order), ``infos`` (the caller, with ``base_addr``) and
    ``psize`` (the partition's size; declared only when ``needs_size``).
    """

    checks: tuple[DispatchCheck, ...]  # in the order docs/dispatch-semantics.md gives
    answer: tuple[str, ...]  # the statements that call the handler and return its word
    needs_size: bool


def dispatch_plan(call: m.Hypercall, prefix: str, helpers: str,
                  dialect: str = "c99") -> DispatchPlan:
    """The call's decode plan (pvgen.decode_plan) spelled for a kernel dispatcher.

    ``prefix`` spells the interface's types in the kernel's C ``dialect``; ``helpers``
    prefixes the handlers (``<helpers>_<call>(infos, ...)``) and the two helpers the
    dispatcher defines: ``<helpers>_range_ok(addr, count, elem, psize)`` and
    ``<helpers>_string_ok(base, addr, max, psize)``.
    """
    plan = plan_of(call)
    value = _word_values(plan)
    checks: list[DispatchCheck] = []
    for step in plan.steps:
        failed = _c_failed(call.name, step, value, helpers)
        if failed is not None:
            assert step.event is not None
            checks.append(DispatchCheck(step.param.name, failed, step.event))
    arguments = "".join(f", {_c_argument(step, value[step.param.name], prefix, dialect)}"
                        for step in plan.steps)
    handler = f"{helpers}_{call.name}(infos{arguments})"
    answer = ((f"{handler};", "return 0u; /* the gate does not hand this to the guest */")
              if call.noreturn else (f"return (uint32_t){handler};",))
    return DispatchPlan(checks=tuple(checks), answer=answer, needs_size=plan.needs_size)


def _c_failed(call: str, step: ParamStep, value: dict[str, str], helpers: str) -> str | None:
    """The C condition under which the step's check rejects the call (None: no check)."""
    p, check = step.param, step.check
    w = value[p.name]
    if isinstance(check, m.ValueCheck):
        if len(step.words) == 2:
            raise ValueError(f"{call}: no value check for the 64-bit '{p.name}'")
        return f"!({c_value_ok(check, w)})"
    if isinstance(check, CodeAddress):
        return f"{w} >= psize"
    if isinstance(check, String):
        inside = f"{helpers}_string_ok(infos->base_addr, {w}, {check.max_bytes}u, psize)"
    elif isinstance(check, Area):
        count = f"{check.elements}u" if check.count is None else value[check.count]
        inside = f"{helpers}_range_ok({w}, {count}, {check.element_size}u, psize)"
    else:
        return None
    return f"{w} != 0u && !{inside}" if check.nullable else f"{w} == 0u || !{inside}"


def _c_argument(step: ParamStep, w: str, prefix: str, dialect: str) -> str:
    """What the handler is given for the step's parameter: its value, or its pointer
    rebased onto the partition."""
    p = step.param
    if step.use is Use.VALUE:
        return f"({c_type(p.type, prefix, dialect)}){w}"
    const = "const " if p.direction is m.Direction.IN else ""
    pointer = f"{const}{c_type(p.type, prefix, dialect)} *"
    rebased = f"({pointer})(infos->base_addr + {w})"
    return f"({w} == 0u ? ({pointer})0 : {rebased})" if p.nullable else rebased


def _word_values(plan: CallPlan) -> dict[str, str]:
    """Each parameter's value as C: its word, or its two words (the plan's, low first)
    re-joined."""
    values = {}
    for step in plan.steps:
        low, *high = (f"args->arg{i + 1}" for i in step.words)
        values[step.param.name] = f"(((uint64_t){high[0]} << 32) | {low})" if high else low
    return values


@dataclass(frozen=True)
class EntryPlan:
    """How a kernel trap entry gathers the words of one ABI into an argument block.

    The C around it names the saved registers ``frame`` and, for block ABIs,
    the rebased block ``block``.
    """

    number: str  # the hypercall number
    counted: bool  # the ABI announces a word count (a counted block)
    nargs: str  # the announced word count; "0u" when the ABI announces none
    words: tuple[str, ...]  # argument words 1..width; "0u" past the ABI's words
    block_address: str | None  # BLOCK: the block's partition-relative address
    block_words: int  # BLOCK: the words the whole block holds, count included
    result: str  # where the result goes


def entry_plan(abi: m.Abi, width: int) -> EntryPlan:
    """Registers and block words of a kernel trap entry, from the ABI data."""
    counted = abi.is_block and abi.block_counted
    if abi.is_block:
        sources = [f"block[{abi.block_header_words + i}]" for i in range(abi.block_words)]
        address: str | None = f"frame->{abi.block_register}"
    else:
        sources = [f"frame->{r}" for r in abi.argument_registers]
        address = None
    return EntryPlan(
        number=f"frame->{abi.number_register}",
        counted=counted,
        nargs="block[0]" if counted else "0u",
        words=tuple(sources + ["0u"] * (width - len(sources))),
        block_address=address,
        block_words=abi.block_header_words + abi.block_words,
        result=f"frame->{abi.return_register}",
    )


FILTERS: dict[str, Callable[..., Any]] = {
    "trap_plan": trap_plan,
    "dispatch_plan": dispatch_plan,
    "entry_plan": entry_plan,
    "c_defined": c_defined,
    "upper": upper,
    "c_type": c_type,
    "c_storage_type": c_storage_type,
    "c_param": c_param,
    "c_params": c_params,
    "c_return_type": c_return_type,
    "c_int": c_int,
    "c_local": c_local,
    "c_arg_words": c_arg_words,
    "c_comment": c_comment,
    "c_string": c_string,
    "c_abi_macro": c_abi_macro,
}

TESTS: dict[str, Callable[..., bool]] = {
    "enum": lambda t: isinstance(t, m.Enum),
    "struct": lambda t: isinstance(t, m.Struct),
    "alias": lambda t: isinstance(t, m.Alias),
}
