"""How model objects are spelled in Python: small, pure jinja2 filters.

The emulator's dispatcher (``templates/python/{prefix}_dispatch.py.j2``) calls
these for every Python spelling it needs: handler argument types, the
``struct`` formats of guest data, and each decoder's body, spelled from the
call's decode plan (``pvgen.decode_plan``: what is checked, and in which order,
is decided there once, for the C dispatcher too).

Inside a generated decoder the argument words are ``w`` (canonical order:
the low word of a 64-bit value first) and, for a parameter ``x``, ``a_x`` is
the value handed to the handler (a shared pointer's address: ``p_x``), ``p_x``
a pointer word, ``n_x`` the checked
byte count of a variable-length buffer and ``o_x`` what the handler returned
for an out parameter.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable, Sequence
from typing import Any

from pvgen import model as m
from pvgen.decode_plan import (
    Area,
    CallPlan,
    CodeAddress,
    ParamStep,
    String,
    Use,
    plan_of,
)

_FORMATS = {
    "u8": "B",
    "u16": "H",
    "u32": "I",
    "u64": "Q",
    "i8": "b",
    "i16": "h",
    "i32": "i",
    "i64": "q",
    "bool": "B",
    "code": "I",
}


def py_name(name: str) -> str:
    """A parameter name in a handler method: ``self`` becomes ``self_``.

    The resolver refuses Python keywords as names, so nothing else can clash.
    """
    return "self_" if name == "self" else name


def py_repr(value: object) -> str:
    """A Python literal for a str, int, bool, None or a tuple of these."""
    return repr(value)


LINE_LENGTH = 100


def _wrap(text: str, width: int) -> list[str]:
    return textwrap.wrap(text, width, break_long_words=False, break_on_hyphens=False) or [""]


# How the generated dispatcher declares its interface's fingerprint (py_repr of it).
_FINGERPRINT_LINE = re.compile(r"^FINGERPRINT = '([0-9a-f]{16})'$", re.M)


def dispatcher_fingerprint(text: str) -> str | None:
    """The fingerprint a generated dispatcher's text declares, read without importing it."""
    found = _FINGERPRINT_LINE.search(text)
    return found[1] if found else None


def py_comment(text: str, indent: int = 0) -> str:
    """Text as ``#`` comment lines that fit the line length, without the first indent."""
    lines = _wrap(text, LINE_LENGTH - indent - 2)
    return ("\n" + " " * indent).join(f"# {line}".rstrip() for line in lines)


def py_docstring(text: str, indent: int = 0) -> str:
    """Text as a docstring that fits the line length, without the first indent."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    lines = _wrap(escaped, LINE_LENGTH - indent - 6)
    if len(lines) == 1:
        return f'"""{lines[0]}"""'
    pad = "\n" + " " * indent
    return '"""' + pad.join(lines) + pad + '"""'


def _bracketed(head: str, one_line: str, parts: Sequence[str], indent: int, tail: str) -> str:
    """``head(one_line)tail`` if it fits the line length, else one part a line."""
    line = f"{head}({one_line}){tail}"
    if indent + len(line) <= LINE_LENGTH:
        return line
    pad = " " * (indent + 4)
    inner = "".join(f"\n{pad}{part}," for part in parts)
    return f"{head}({inner}\n{' ' * indent}){tail}"


def py_tuple(head: str, items: Sequence[object], indent: int, tail: str = "") -> str:
    """``head(items)tail``, a tuple of literals: on one line if it fits, else one a line."""
    literals = [py_repr(i) for i in items]
    return _bracketed(head, " ".join(f"{x}," for x in literals), literals, indent, tail)


def py_call(head: str, args: Sequence[str], indent: int, tail: str = "") -> str:
    """``head(args)tail`` on one line if it fits, else one argument per line."""
    return _bracketed(head, ", ".join(args), args, indent, tail)


def py_class_name(name: str) -> str:
    """A definition name in CamelCase: ``partition_status`` → ``PartitionStatus``."""
    return "".join(part[:1].upper() + part[1:] for part in name.split("_"))


def _scalar(t: m.Type) -> m.Scalar:
    r = t.resolved
    if isinstance(r, m.Enum):
        return r.base
    if isinstance(r, m.Scalar):
        return r
    raise TypeError(f"{t.name} is not a scalar type")


def py_format(t: m.Type) -> str:
    """The ``struct`` format of one value of a type, without byte order.

    A struct field that is itself a struct is kept as raw bytes (``Ns``) and
    decoded by that struct's own helpers.
    """
    r = t.resolved
    if isinstance(r, m.Struct):
        return "".join(
            f"{f.type.size}s" if isinstance(f.type.resolved, m.Struct) else py_format(f.type)
            for f in r.fields
        )
    return _FORMATS[_scalar(t).name]


def py_scalar_struct(t: m.Type) -> str:
    """The module-level ``struct.Struct`` that packs one scalar of this type."""
    return f"_{_scalar(t).name.upper()}"


def py_scalar_structs(iface: m.Interface) -> tuple[tuple[str, str], ...]:
    """(name, format) of every scalar ``struct.Struct`` the pointer parameters need."""
    used = {
        py_scalar_struct(p.type): _FORMATS[_scalar(p.type).name]
        for h in iface.hypercalls
        for p in h.pointer_params
        if p.length is not None
        and p.length.kind is m.LengthKind.ONE
        and not isinstance(p.type.resolved, m.Struct)
    }
    return tuple(sorted(used.items()))


def py_data_structs(iface: m.Interface) -> tuple[m.Struct, ...]:
    """The structs the dispatcher reads or writes, nested ones included, in declaration order.

    A struct only ever passed ``shared`` is not copied at the call, so it gets no helpers.
    """
    moved: set[str] = set()
    pending = [
        p.type.resolved
        for h in iface.hypercalls
        for p in h.params
        if p.direction is not None and (p.direction.reads_guest or p.direction.writes_guest)
    ]
    while pending:
        t = pending.pop()
        if isinstance(t, m.Struct) and t.name not in moved:
            moved.add(t.name)
            pending += [f.type.resolved for f in t.fields]
    return tuple(t for t in iface.types if isinstance(t, m.Struct) and t.name in moved)


def py_value_type(t: m.Type) -> str:
    """The Python type of one decoded value: int, or a struct's dict type alias."""
    r = t.resolved
    return py_class_name(r.name) if isinstance(r, m.Struct) else "int"


def py_to_handler(t: m.Type, expr: str) -> str:
    """A value of the guest's as the services see it: a time with a unit in nanoseconds."""
    scale = m.ns_per_unit(t)
    if scale is None or scale == 1:
        return expr
    return f"({expr}) * {scale}" if " " in expr else f"{expr} * {scale}"


def py_to_guest(t: m.Type, expr: str) -> str:
    """A value of the services' as the guest reads it: a time in its unit, rounded down."""
    scale = m.ns_per_unit(t)
    return f"{expr} // {scale}" if scale is not None and scale != 1 else expr


def py_field_get(f: m.Field, expr: str) -> str:
    """A struct field's value, read from its unpacked raw value ``expr``."""
    r = f.type.resolved
    if isinstance(r, m.Struct):
        return f"_get_{r.name}({expr})"
    return py_to_handler(f.type, expr)


def py_field_put(f: m.Field) -> str:
    """A struct field's raw value to pack, from the handler's ``value`` dict; a reserved
    field (padding) the handler leaves out is 0."""
    r = f.type.resolved
    if isinstance(r, m.Struct):
        put = f"_put_{r.name}(value[{f.name!r}])"
        return f"{put} if {f.name!r} in value else bytes({r.size})" if f.is_reserved else put
    if f.is_reserved:
        return py_to_guest(f.type, f"value.get({f.name!r}, 0)")
    return py_to_guest(f.type, f"value[{f.name!r}]")


def py_is_buffer(p: m.Param) -> bool:
    """True for pointers the handler sees as bytes: arrays and strings."""
    return p.length is not None and p.length.kind is not m.LengthKind.ONE


def py_handler_params(call: m.Hypercall) -> tuple[m.Param, ...]:
    """The parameters a handler receives: all but the out pointers."""
    return tuple(p for p in call.params if p.direction is not m.Direction.OUT)


def py_handler_param(p: m.Param) -> str:
    """A handler's parameter declaration."""
    return f"{py_name(p.name)}: {py_arg_type(p)}"


def py_struct_outputs(call: m.Hypercall) -> dict[str, tuple[str, ...]]:
    """The fields a handler must give each struct its out parameters return, by parameter:
    all but the reserved ones (padding, 0 unless given)."""
    return {
        p.name: tuple(f.name for f in r.fields if not f.is_reserved)
        for p in call.out_params
        if isinstance(r := p.type.resolved, m.Struct)
    }


def py_handler_args(call: m.Hypercall) -> list[str]:
    """The decoder's arguments to the handler, by keyword: a parameter binds to the
    handler's parameter of the same name, so a handler can serve definitions that order,
    omit or add parameters differently (it gives defaults to the ones some leave out)."""
    return [f"{py_name(p.name)}=a_{p.name}" for p in py_handler_params(call)]


def py_out_local(p: m.Param) -> str:
    """The decoder's local holding what the handler returned for an out parameter."""
    return f"o_{p.name}"


def py_arg_type(p: m.Param) -> str:
    """The type a handler receives for a by-value, in, inout or shared parameter.

    A shared pointer arrives as its (checked) address: the hypervisor keeps using the area.
    """
    if not p.is_pointer or p.is_shared:
        return "int"
    base = "bytes" if py_is_buffer(p) else py_value_type(p.type)
    return f"{base} | None" if p.nullable else base


def py_out_type(p: m.Param) -> str:
    """The type a handler returns for an out or inout parameter (None: leave it)."""
    base = "bytes" if py_is_buffer(p) else py_value_type(p.type)
    return f"{base} | None"


def py_handler_return(call: m.Hypercall) -> str:
    """A handler's return type: the result word, with the out values after it, or what the
    call does instead (an Effect; for a call that does not return, nothing or an Effect)."""
    if call.noreturn:
        return "Effect | None"
    outs = call.out_params
    if not outs:
        return "int | Effect"
    return "tuple[" + ", ".join(["int", *(py_out_type(p) for p in outs)]) + "] | Effect"


def py_wide_words(call: m.Hypercall) -> tuple[int, ...]:
    """Where each 64-bit value's first word sits among the call's words."""
    return tuple(w.index for w in call.words if w.part is m.WordPart.LOW)


def py_has_high_first(iface: m.Interface) -> bool:
    """True when an ABI passes a 64-bit value's high word first."""
    return any(abi.split64 is m.Split64.HIGH_FIRST for abi in iface.abis)


def py_value_ok(check: m.ValueCheck, expr: str, scale: int = 1) -> str:
    """A Python condition that holds when ``expr`` (already sign-adjusted) is allowed; ``expr``
    is ``scale`` times the guest's value (a time with a unit, in nanoseconds)."""
    terms = []
    for low, high in ((low * scale, high * scale) for low, high in check.ranges):
        if low == high:
            terms.append(f"{expr} == {low}")
        elif not check.signed and low == 0:
            terms.append(f"{expr} <= {high}")
        else:
            terms.append(f"{low} <= {expr} <= {high}")
    return " or ".join(terms)


def py_answered(call: m.Hypercall, result: str) -> str:
    """The call's result `result` with its ``answer`` statements applied."""
    if not call.answers:
        return result
    table = ", ".join(f"{a.status.value}: {a.answer.value}" for a in call.answers)
    return f"{{{table}}}.get({result}, {result})"


def py_read(p: m.Param) -> str:
    """The expression that copies an in/inout parameter out of guest memory.

    Strings are read by their check; this covers single values and arrays.
    """
    ptr = f"p_{p.name}"
    assert p.length is not None
    if p.length.kind is m.LengthKind.PARAM:
        return f"mem.read({ptr}, n_{p.name})"
    if p.length.kind is m.LengthKind.CONSTANT:
        return f"mem.read({ptr}, {p.fixed_byte_size})"
    if isinstance(p.type.resolved, m.Struct):
        return f"_get_{p.type.resolved.name}(mem.read({ptr}, {p.type.size}))"
    value = f"{py_scalar_struct(p.type)}.unpack(mem.read({ptr}, {p.type.size}))[0]"
    return py_to_handler(p.type, value)


def py_pack(p: m.Param) -> str:
    """The expression of the bytes an out/inout value ``o_x`` is written as."""
    out = f"o_{p.name}"
    if py_is_buffer(p):
        return out
    if isinstance(p.type.resolved, m.Struct):
        return f"_put_{p.type.resolved.name}({out})"
    return f"{py_scalar_struct(p.type)}.pack({py_to_guest(p.type, out)})"


def py_capacity(p: m.Param) -> str:
    """The byte capacity of a checked out/inout buffer, as an expression."""
    if p.length is not None and p.length.kind is m.LengthKind.PARAM:
        return f"n_{p.name}"
    return str(p.fixed_byte_size)


def py_decode(step: ParamStep, plan: CallPlan) -> str:
    """A parameter's part of a decoder, as the plan says: its value or pointer word, its
    check, its rules (lines at the decoder's indent, the first one without it)."""
    x, number = step.param.name, plan.call.number
    lines = [f"# {step.param.abi_spelling}"]
    if step.use is Use.VALUE:
        lines.append(f"a_{x} = {_py_value(step)}")
        lines += _py_value_check(step, number) + _py_rules(step, number)
        return "\n".join(lines)
    lines.append(f"p_{x} = w[{step.words[0]}]")
    check = step.check
    reject = _py_reject(number, m.RejectEvent.BAD_POINTER)
    if isinstance(check, String):
        string = _py_string(x, check, reject)
        if check.nullable:
            string = [f"a_{x}: bytes | None = None", f"if p_{x} != 0:",
                      *(f"    {line}" for line in string)]
        lines += string
    else:
        assert isinstance(check, Area)
        lines += _py_area(step, check, plan, reject)
    return "\n".join(lines)


def _py_reject(number: int, event: m.RejectEvent) -> str:
    return f"return _reject(h, {number}, Reject.{event.value})"


def _py_value(step: ParamStep) -> str:
    """The expression of a by-value parameter's value from its words, sign included."""
    low, *high = (f"w[{i}]" for i in step.words)
    if not high:
        value = f"({low} ^ _SIGN32) - _SIGN32" if step.signed else low
    else:
        joined = f"{low} | {high[0]} << 32"
        value = f"(({joined}) ^ _SIGN64) - _SIGN64" if step.signed else joined
    return py_to_handler(step.param.type, value)


def _py_value_check(step: ParamStep, number: int) -> list[str]:
    """A by-value check on ``a_x``, which holds a time with a unit in nanoseconds already."""
    x, check = step.param.name, step.check
    if isinstance(check, m.ValueCheck):
        ok = py_value_ok(check, f"a_{x}", m.ns_per_unit(step.param.type) or 1)
        return [f"if not ({ok}):", f"    {_py_reject(number, m.RejectEvent.BAD_VALUE)}"]
    if isinstance(check, CodeAddress):
        return [f"if a_{x} >= psize:", f"    {_py_reject(number, m.RejectEvent.BAD_POINTER)}"]
    return []


def _py_rules(step: ParamStep, number: int) -> list[str]:
    lines = []
    for rule in step.rules:
        lines.append(f"if a_{step.param.name} == {rule.value.value}:  # {rule.spelling}")
        if rule.ends:
            lines += [f"    e = h.end_program({number})",
                      "    return 0 if e is None else e  # no result reaches the guest: it does "
                      "not return"]
        else:
            assert rule.status is not None
            lines.append(f"    return {rule.status.value} & _MASK")
    return lines


def _py_string(x: str, check: String, reject: str) -> list[str]:
    """A string's check and copy: it starts in the partition and ends within its bound."""
    null = "" if check.nullable else f"p_{x} == 0 or "
    return [f"if {null}p_{x} >= psize:", f"    {reject}",
            f"n_{x} = min({check.max_bytes}, psize - p_{x})", f"s_{x} = mem.read(p_{x}, n_{x})",
            f"e_{x} = s_{x}.find(0)", f"if e_{x} < 0:", f"    {reject}", f"a_{x} = s_{x}[:e_{x}]"]


def _py_area(step: ParamStep, check: Area, plan: CallPlan, reject: str) -> list[str]:
    """A pointer's area check, then what the handler gets of it. Python's integers do not
    wrap, so "bytes <= psize and p <= psize - bytes" is just "p <= psize - bytes"."""
    x, lines = step.param.name, []
    if check.count is None:
        bad = f"p_{x} > psize - {check.size}"
    else:
        scaled = f" * {check.element_size}" if check.element_size != 1 else ""
        lines.append(f"n_{x} = w[{plan.words_of(check.count)[0]}]{scaled}")
        bad = f"p_{x} > psize - n_{x}"
    if check.nullable:
        lines += [f"if p_{x} != 0 and {bad}:", f"    {reject}"]
        if step.use is Use.READ:
            lines.append(f"a_{x} = {py_read(step.param)} if p_{x} != 0 else None")
        return lines
    lines += [f"if p_{x} == 0 or {bad}:", f"    {reject}"]
    if step.use is Use.READ:
        lines.append(f"a_{x} = {py_read(step.param)}")
    elif step.use is Use.SHARED:
        lines.append(f"a_{x} = p_{x}  # shared: the handler keeps the address, nothing is read now")
    return lines


def py_answer(plan: CallPlan) -> str:
    """The handler's call and the decoder's answer: the result word, with the outputs
    written back, or the handler's Effect handed on (lines at the decoder's indent, the
    first one without it)."""
    call = plan.call
    args = py_handler_args(call)
    effect = "    return {}  # an effect, for the hypervisor"
    if call.noreturn:
        lines = [py_call(f"e = h.{call.name}", args, 4),
                 "return 0 if e is None else e  # no result reaches the guest: it does not return"]
    elif not call.out_params:
        lines = [py_call(f"r = h.{call.name}", args, 4), "if not isinstance(r, int):",
                 effect.format("r"), f"return {py_answered(call, 'r')} & _MASK"]
    else:
        outs = ", ".join(py_out_local(p) for p in call.out_params)
        lines = [py_call(f"a = h.{call.name}", args, 4), "if not isinstance(a, tuple):",
                 effect.format("a"),
                 "r: int  # the result word (to mypy, an Effect could also be a tuple)",
                 f"r, {outs} = a", *_py_outputs(call), f"return {py_answered(call, 'r')} & _MASK"]
    return "\n    ".join(lines)


def _py_outputs(call: m.Hypercall) -> list[str]:
    """What the handler returned for each out parameter, written back (None: left)."""
    lines = []
    for p in call.out_params:
        x = p.name
        lines.append(f"if o_{x} is not None{f' and p_{x} != 0' if p.nullable else ''}:")
        if py_is_buffer(p):
            capacity = py_capacity(p)
            lines += [f"    if len(o_{x}) > {capacity}:", "        raise ValueError(",
                      f'            f"{call.name}: the handler returned {{len(o_{x})}} bytes for "',
                      f'            f"{x}, which holds {{{capacity}}}"', "        )"]
        lines.append(f"    mem.write(p_{x}, {py_pack(p)})")
    return lines


def py_fetch(abi: m.Abi) -> str:
    """A fetcher's body for one ABI: the number, the argument words where the ABI puts them
    (a block bounded by the partition first), then the call's decoder (lines at the
    function's indent, the first one without it)."""
    lines = ["number = registers[0] & _MASK"]
    if abi.is_block:
        lines += ["block = registers[1] & _MASK", f"if block > mem.size - {abi.block_bytes}:",
                  "    return _reject(handlers, number, Reject.bad_pointer)",
                  f"words = _BLOCK_{abi.name}.unpack(mem.read(block, {abi.block_bytes}))"]
    else:
        lines.append("words = [word & _MASK for word in registers[1:]]")
    nargs, args = ("words[0]", "words[1:]") if abi.block_counted else ("None", "words")
    if abi.split64 is m.Split64.HIGH_FIRST:
        args = f"_low_first(number, {args})"
    lines += ["decoder = _DECODERS.get(number)  # dispatch(), inlined: one call less on every trap",
              "if decoder is None:", "    return _reject(handlers, number, Reject.unknown_call)",
              f"return decoder({nargs}, {args}, mem, handlers)"]
    return "\n    ".join(lines)


FILTERS: dict[str, Callable[..., Any]] = {
    "py_repr": py_repr,
    "py_name": py_name,
    "py_comment": py_comment,
    "py_docstring": py_docstring,
    "py_tuple": py_tuple,
    "py_call": py_call,
    "py_class_name": py_class_name,
    "py_format": py_format,
    "py_scalar_structs": py_scalar_structs,
    "py_data_structs": py_data_structs,
    "py_field_get": py_field_get,
    "py_field_put": py_field_put,
    "py_handler_params": py_handler_params,
    "py_handler_param": py_handler_param,
    "py_struct_outputs": py_struct_outputs,
    "py_handler_return": py_handler_return,
    "py_wide_words": py_wide_words,
    "py_has_high_first": py_has_high_first,
    "py_decode": py_decode,
    "py_answer": py_answer,
    "py_fetch": py_fetch,
    "decode_plan": plan_of,
}
