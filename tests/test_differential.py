"""Differential test: POK's generated C dispatcher and the emulator's generated Python one agree
(and the emulator's native fast path takes exactly the calls the Python one accepts).

Both are generated from the same definition. The C side is the real generated
``pok/kernel/core/hypercall.c``, compiled for the host (x86-64) together with
``tests/harness/recording_handlers.c.j2``, a handler per hypercall that records
its arguments, into a shared library driven through ctypes over a real memory
buffer (``base_addr`` is the buffer's address). The Python side is the real
generated ``python/<prefix>_dispatch.py``. Every argument vector must give the
same result word, the same rejection event (or none), and the same handler with
the same arguments: a by-value argument as the same value, a pointer rebased
exactly to the guest address it was given and, for in data, the same bytes.

A table covers every rule of docs/dispatch-semantics.md at its boundaries, on
the repository's definition and on tests/shapes.def; hypothesis adds random
vectors. All handlers answer with the same result and never write.
"""

from __future__ import annotations

import ctypes
import shutil
import subprocess
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import jinja2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pvgen import lang_c
from pvgen import model as m
from pvgen.definition import load
from pvgen.emulator.fastpath import fetch_as
from pvgen.emulator.native import PHASE_ACKED, PHASE_DELIVERED, library
from pvgen.emulator.native.layout import FastHeader, WrittenHeader
from pvgen.generate import render_all, write_artifacts
from pvgen.model import Interface
from tests.pydispatch import RESULT, GuestBytes, Recorder, load_dispatcher

HERE = Path(__file__).parent
SHAPES = HERE / "shapes.def"
HARNESS = HERE / "harness"
SHIM = HERE / "pok_shim"
STRICT = ("-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", "-O2")

PSIZE = 256
GUARD = 64  # bytes past the largest partition, so a stray C access does not crash the run
MASK = 0xFFFFFFFF


# ---------------------------------------------------------------------------
# The two dispatchers
# ---------------------------------------------------------------------------


def render_harness(iface: Interface) -> str:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HARNESS),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
    )
    env.filters.update(lang_c.FILTERS)
    x86 = iface.architecture("x86")
    assert x86 is not None, "POK's kernel serves x86 ABIs only"
    return env.get_template("recording_handlers.c.j2").render(
        iface=iface,
        max_params=max(len(h.params) for h in iface.hypercalls),
        width=iface.max_argument_words(x86),
    )


def build_library(iface: Interface, directory: Path) -> Path:
    """Compile the generated core/hypercall.c and the harness into a host shared library."""
    gen = directory / "gen"
    write_artifacts(render_all(iface), gen)
    harness = directory / "harness.c"
    harness.write_text(render_harness(iface), encoding="utf-8")
    library = directory / f"lib{iface.prefix}_dispatch.so"
    args = [
        "gcc", *STRICT, "-shared", "-fPIC",
        f"-I{SHIM}", f"-I{gen / 'pok' / 'kernel' / 'include'}",
        "-DPOK_HYPERCALL_ADDRESS_TYPE=uintptr_t",  # host memory: host-wide addresses
        "-DPOK_NEEDS_PARAVIRT",  # the kernel side is built in (pvgen pok-patch)
        *(f"-D{feature}" for feature in iface.features),
        str(gen / "pok" / "kernel" / "core" / "hypercall.c"), str(harness),
        "-o", str(library),
    ]
    result = subprocess.run(args, capture_output=True, text=True, check=False)
    assert result.returncode == 0, f"{' '.join(args)}\n{result.stderr}"
    return library


def record_type(max_params: int) -> type[ctypes.Structure]:
    """harness_record_t of tests/harness/recording_handlers.c.j2."""
    return type(
        "Record",
        (ctypes.Structure,),
        {
            "_fields_": [
                ("calls", ctypes.c_uint32),
                ("id", ctypes.c_uint32),
                ("nulls", ctypes.c_uint32),
                ("args", ctypes.c_uint64 * max_params),
                ("rejections", ctypes.c_uint32),
                ("rejected_id", ctypes.c_uint32),
                ("event", ctypes.c_uint32),
            ]
        },
    )


@dataclass
class Verdict:
    """What one dispatcher did with one argument vector, in the Python handlers' terms."""

    result: int
    rejections: list[tuple[int, int]]  # (number, event code)
    calls: list[tuple[str, tuple[Any, ...]]]  # (handler, arguments as Python receives them)


class Both:
    """The C and the Python dispatcher of one definition, over one shared memory buffer."""

    def __init__(self, iface: Interface, directory: Path) -> None:
        self.iface = iface
        self.python: ModuleType = load_dispatcher(iface, directory)
        self.lib = ctypes.CDLL(str(build_library(iface, directory)))
        x86 = iface.architecture("x86")
        assert x86 is not None
        self.width = iface.max_argument_words(x86)
        record = record_type(max(len(h.params) for h in iface.hypercalls))
        self.record = record.in_dll(self.lib, "harness_record")
        self.psize = ctypes.c_uint32.in_dll(self.lib, "harness_psize")
        ctypes.c_int32.in_dll(self.lib, "harness_result").value = RESULT
        self.lib.harness_call.argtypes = [
            ctypes.c_uint32, ctypes.c_uint32, ctypes.c_uint32, ctypes.POINTER(ctypes.c_uint32),
            ctypes.c_void_p,
        ]
        self.lib.harness_call.restype = ctypes.c_uint32
        self.buffer = (ctypes.c_uint8 * (PSIZE + GUARD))()
        self.view = memoryview(self.buffer).cast("B")
        self.by_number = {h.number: h for h in iface.hypercalls}

    def load_memory(self, content: bytes) -> None:
        self.view[: len(content)] = content

    def run_c(self, number: int, nargs: int | None, words: Sequence[int], psize: int) -> Verdict:
        self.psize.value = psize
        array = (ctypes.c_uint32 * self.width)(*words)
        result = self.lib.harness_call(
            number, nargs is not None, nargs or 0, array, ctypes.addressof(self.buffer)
        )
        rec = self.record
        assert rec.rejections + rec.calls <= 1
        rejections = [(rec.rejected_id, rec.event)] if rec.rejections else []
        calls = [self._python_view(self.by_number[rec.id], words)] if rec.calls else []
        return Verdict(result, rejections, calls)

    def run_python(
        self, number: int, nargs: int | None, words: Sequence[int], psize: int
    ) -> Verdict:
        mem = GuestBytes(self.view, psize)
        handlers = Recorder(self.iface)
        result = self.python.dispatch(number, nargs, list(words), mem, handlers)
        assert mem.writes == []
        return Verdict(
            result, [(n, int(event)) for n, event in handlers.rejections], handlers.calls
        )

    def _python_view(self, call: m.Hypercall, words: Sequence[int]) -> tuple[str, tuple[Any, ...]]:
        """The C handler's recorded arguments as the Python handler receives them.

        A non-NULL pointer must arrive rebased to exactly the guest address in
        its word; its in data is then read from the shared buffer (a shared
        pointer stays an address).
        """
        rec = self.record
        values: dict[str, Any] = {}
        for i, p in enumerate(call.params):
            raw = rec.args[i]
            if not p.is_pointer:
                values[p.name] = raw - (1 << 64) if signed(p.type) and raw >> 63 else raw
                continue
            if rec.nulls >> i & 1:
                assert p.nullable, f"{call.name}: NULL for the non-nullable {p.name}"
                values[p.name] = None
                continue
            word = words[word_index(call, p.name)]
            assert raw == word, f"{call.name}: {p.name} rebased to {raw:#x}, not {word:#x}"
            # A shared pointer reaches the Python handler as its address: nothing is read.
            values[p.name] = raw if p.is_shared else self._read(call, p, raw, words)
        handler_params = [p for p in call.params if p.direction is not m.Direction.OUT]
        return call.name, tuple(values[p.name] for p in handler_params)

    def _read(self, call: m.Hypercall, p: m.Param, at: int, words: Sequence[int]) -> Any:
        """The in data at ``at``, as the Python handler receives it."""
        assert p.length is not None
        memory = bytes(self.view)
        if p.length.kind is m.LengthKind.NUL:
            return memory[at:].split(b"\0", 1)[0]
        if p.length.kind is m.LengthKind.PARAM:
            count = words[word_index(call, p.length.param or "")]
            return memory[at : at + count * p.element_size]
        if p.length.kind is m.LengthKind.CONSTANT:
            return memory[at : at + p.length.count * p.element_size]
        return decode(p.type, memory[at : at + p.type.size])

    def compare(self, case: Case) -> Verdict:
        self.load_memory(case.memory())
        c = self.run_c(case.number, case.nargs, case.words, case.psize)
        py = self.run_python(case.number, case.nargs, case.words, case.psize)
        assert py == c, f"{case}: C {c}, Python {py}"
        return c


def word_index(call: m.Hypercall, name: str) -> int:
    """Where the (first) word of a parameter sits among the call's words."""
    return next(w.index for w in call.words if w.param.name == name)


def signed(t: m.Type) -> bool:
    r = t.resolved
    return not isinstance(r, m.Struct) and r.signed


def decode(t: m.Type, data: bytes) -> Any:
    """A value read from guest memory at the model's offsets: an int, or for a struct a dict of
    its fields by name."""
    r = t.resolved
    if isinstance(r, m.Struct):
        return {f.name: decode(f.type, data[f.offset : f.offset + f.type.size]) for f in r.fields}
    return int.from_bytes(data, "little", signed=r.signed)


@pytest.fixture(scope="module")
def pv(interface: Interface, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Both]:
    if shutil.which("gcc") is None:
        pytest.skip("no host gcc")
    yield Both(interface, tmp_path_factory.mktemp("pv"))


@pytest.fixture(scope="module")
def xt(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Both]:
    if shutil.which("gcc") is None:
        pytest.skip("no host gcc")
    yield Both(load(SHAPES), tmp_path_factory.mktemp("xt"))


# ---------------------------------------------------------------------------
# The table
# ---------------------------------------------------------------------------


def pattern(size: int) -> bytearray:
    """Guest memory without a NUL byte, so that only the strings a case writes end."""
    return bytearray((i * 7 + 1) & 0xFF or 0x55 for i in range(size))


@dataclass(frozen=True)
class Case:
    what: str
    number: int
    words: tuple[int, ...]
    nargs: int | None = None  # None: a register ABI (no count)
    psize: int = PSIZE
    patches: tuple[tuple[int, bytes], ...] = field(default=())
    handled: bool | None = None  # True/False: the expected outcome, checked too

    def memory(self) -> bytes:
        data = pattern(PSIZE + GUARD)
        for at, content in self.patches:
            data[at : at + len(content)] = content
        return bytes(data)

    def __str__(self) -> str:
        return self.what


def case(
    what: str, number: int, *words: int, nargs: int | None = None, psize: int = PSIZE,
    patches: tuple[tuple[int, bytes], ...] = (), handled: bool | None = None,
) -> Any:
    padded = (*words, *[0] * (5 - len(words)))
    return pytest.param(
        Case(what, number, padded, nargs, psize, patches, handled), id=what.replace(" ", "-")
    )


STRINGS = ((0x10, b"port\0"), (0x60, b"x" * 31 + b"\0"), (0x90, b"x" * 32 + b"\0"),
           (0xC0, b"\0"))

PV_CASES = [
    # 1. the number
    case("unknown 0", 0, handled=False),
    case("unknown 12 with any count", 12, nargs=99, handled=False),
    case("reserved 50", 50, handled=False),
    case("reserved 201", 201, nargs=0, handled=False),
    case("unknown 999", 999, 1, 2, 3, handled=False),
    case("unknown all ones", 0xFFFFFFFF, handled=False),
    # 2. the count
    case("console_write counted", 10, 0x10, 4, nargs=2, handled=True),
    case("console_write count 1", 10, 0x10, 4, nargs=1, handled=False),
    case("console_write count 3", 10, 0x10, 4, nargs=3, handled=False),
    case("console_write count 0", 10, 0x10, 4, nargs=0, handled=False),
    case("irq_enable count 0", 27, nargs=0, handled=True),
    case("irq_enable count 1", 27, nargs=1, handled=False),
    case("wrong count before bad value", 404, 99, nargs=2, handled=False),
    # 3. pointers: NULL, zero length, the end of the partition, wrapping
    case("console_write null", 10, 0, 4, handled=False),
    case("console_write null empty", 10, 0, 0, handled=False),
    case("console_write empty at psize", 10, PSIZE, 0, handled=True),
    case("console_write empty past psize", 10, PSIZE + 1, 0, handled=False),
    case("console_write empty inside", 10, 0x10, 0, handled=True),
    case("console_write exactly at end", 10, PSIZE - 8, 8, handled=True),
    case("console_write one past", 10, PSIZE - 7, 8, handled=False),
    case("console_write whole partition but 0", 10, 1, PSIZE - 1, handled=True),
    case("console_write longer than partition", 10, 1, PSIZE, handled=False),
    case("console_write ptr+len wraps", 10, 0xFFFFFFF0, 0x20, handled=False),
    case("console_write len wraps ptr", 10, 0x10, 0xFFFFFFF8, handled=False),
    case("console_write last address", 10, 0xFFFFFFFF, 1, handled=False),
    case("console_read exactly at end", 11, PSIZE - 16, 16, PSIZE - 20, handled=True),
    case("console_read count one past", 11, 0x10, 16, PSIZE - 3, handled=False),
    case("get_ticks at end", 20, PSIZE - 8, handled=True),
    case("get_ticks one past", 20, PSIZE - 7, handled=False),
    case("get_time null", 21, 0, handled=False),
    case("partition_get_status at end", 411, PSIZE - 32, handled=True),
    case("partition_get_status one past", 411, PSIZE - 31, handled=False),
    case("partition_get_status wraps", 411, 0xFFFFFFF0, handled=False),
    case("queuing_status at end", 114, 9, PSIZE - 20, handled=True),
    case("queuing_status one past", 114, 9, PSIZE - 19, handled=False),
    case("sampling_read capacity wraps", 102, 1, 0x10, 0xFFFFFFF8, 0x40, 0x44, handled=False),
    case("sampling_read ok", 102, 1, 0x10, 0x20, 0x40, 0x44, handled=True),
    case("sampling_read valid null", 102, 1, 0x10, 0x20, 0x40, 0, handled=False),
    # ... in a 4 GiB - 1 partition (out pointers only: nothing is read)
    case("status near 4G ok", 411, 0xFFFFFFDF, psize=MASK, handled=True),
    case("status near 4G one past", 411, 0xFFFFFFE0, psize=MASK, handled=False),
    case("console_read near 4G ok", 11, 0xF, 0xFFFFFFF0, 0x20, psize=MASK, handled=True),
    case("console_read near 4G past", 11, 0x10, 0xFFFFFFF0, 0x20, psize=MASK, handled=False),
    # ... in tiny partitions
    case("empty partition: empty buffer at 0 is still NULL", 10, 0, 0, psize=0, handled=False),
    case("empty partition: empty buffer at 1", 10, 1, 0, psize=0, handled=False),
    case("one-byte partition: empty at psize", 10, 1, 0, psize=1, handled=True),
    case("empty partition: code 0", 30, 0, psize=0, handled=False),
    # 3. strings
    case("string found", 101, 0x10, 0x40, patches=STRINGS, handled=True),
    case("string empty", 101, 0xC0, 0x40, patches=STRINGS, handled=True),
    case("string NUL is the 32nd byte", 101, 0x60, 0x40, patches=STRINGS, handled=True),
    case("string NUL is the 33rd byte", 101, 0x90, 0x40, patches=STRINGS, handled=False),
    case("string without NUL", 101, 0x20, 0x40, handled=False),
    case("string ends at partition end", 101, PSIZE - 3, 0x40,
         patches=((PSIZE - 3, b"ab\0"),), handled=True),
    case("string runs off partition end", 101, PSIZE - 3, 0x40,
         patches=((PSIZE - 3, b"abc\0"),), handled=False),
    case("string at psize", 101, PSIZE, 0x40, patches=((PSIZE, b"\0"),), handled=False),
    case("string null", 101, 0, 0x40, handled=False),
    case("string in a small partition", 113, 0x10, 0x40, psize=0x14,
         patches=((0x10, b"abcd\0"),), handled=False),
    case("sampling_create ok", 105, 0x10, 64, 1, 0x20, 0x30, patches=STRINGS, handled=True),
    case("sampling_create period one past", 105, 0x10, 64, 1, PSIZE - 7, 0x30,
         patches=STRINGS, handled=False),
    case("sampling_create bad direction", 105, 0x10, 64, 2, 0x20, 0x30, patches=STRINGS,
         handled=False),
    case("queuing_create ok", 110, 0x10, 64, 8, 1, 0x30, patches=STRINGS, handled=True),
    case("bad string before bad value", 110, 0x20, 64, 8, 7, 0x30, handled=False),
    # 3. values
    case("u8 255", 25, 255, handled=True),
    case("u8 256", 25, 256, handled=False),
    case("u8 all ones", 25, 0xFFFFFFFF, handled=False),
    case("bool 0", 37, 0, handled=True),
    case("bool 1", 37, 1, handled=True),
    case("bool 2", 37, 2, handled=False),
    case("enum last member", 404, 3, handled=True),
    case("enum past the last", 404, 4, handled=False),
    case("enum sign bit", 404, 0x80000000, handled=False),
    case("i64 -2", 22, 0xFFFFFFFE, 0xFFFFFFFF, handled=True),
    case("i64 min", 22, 0, 0x80000000, handled=True),
    case("i64 mixed", 22, 0x89ABCDEF, 0x01234567, handled=True),
    case("i32 min, noreturn", 41, 0x80000000, handled=True),
    case("i32 -1", 41, 0xFFFFFFFF, handled=True),
    case("noreturn without arguments", 707, nargs=0, handled=True),
    case("irq_return", 32, handled=True),
    # 3. shared pointers: checked like any pointer, handed over as the address
    case("vcpu_share at end", 38, PSIZE - 12, handled=True),
    case("vcpu_share one past", 38, PSIZE - 11, handled=False),
    case("vcpu_share null", 38, 0, handled=False),
    case("vcpu_share wraps", 38, 0xFFFFFFF8, handled=False),
    case("vcpu_share in a partition smaller than the area", 38, 4, psize=8, handled=False),
    # 3. code addresses
    case("code 0", 30, 0, handled=True),
    case("code last byte", 30, PSIZE - 1, handled=True),
    case("code at psize", 30, PSIZE, handled=False),
    case("code all ones", 30, 0xFFFFFFFF, handled=False),
]

XT_CASES = [
    # narrow and signed values, a signed enum with gaps
    case("values extremes", 1, 0xFFFFFF80, 0xFFFF8000, 65535, 1, 0xFFFFFFFE, handled=True),
    case("values top", 1, 127, 32767, 0, 0, 5, handled=True),
    case("i8 128", 1, 128, handled=False),
    case("i8 below min", 1, 0xFFFFFF7F, handled=False),
    case("i16 0x8000", 1, 0, 0x8000, handled=False),
    case("u16 0x10000", 1, 0, 0, 0x10000, handled=False),
    case("bool 2", 1, 0, 0, 0, 2, handled=False),
    case("enum gap -1", 1, 0, 0, 0, 0, 0xFFFFFFFF, handled=False),
    case("enum gap 2", 1, 0, 0, 0, 0, 2, handled=False),
    case("enum -2 not sign-extended", 1, 0, 0, 0, 0, 0xFFFE, handled=False),
    case("i64 and u64", 2, 0, 0x80000000, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF, handled=True),
    case("code", 3, PSIZE - 1, handled=True),
    case("code at psize", 3, PSIZE, handled=False),
    # element count times size
    case("u32 array to the end", 4, 4, PSIZE // 4 - 1, handled=True),
    case("u32 array one element past", 4, 8, PSIZE // 4 - 1, handled=False),
    case("u32 array empty at psize", 4, PSIZE, 0, handled=True),
    case("u32 array count over psize", 4, 0x10, PSIZE // 4 + 1, handled=False),
    case("count times 4 wraps to 0", 4, 0x10, 0x40000000, handled=False),
    case("count times 4 wraps to 4", 4, 0x10, 0x40000001, handled=False),
    case("count all ones", 4, 0x10, 0xFFFFFFFF, handled=False),
    # nullable
    case("nullable null with huge count", 4, 0, 0xFFFFFFFF, 0, handled=True),
    case("nullable out at end", 4, 0, 0, PSIZE - 8, handled=True),
    case("nullable out one past", 4, 0, 0, PSIZE - 7, handled=False),
    case("nullable string null", 6, 0, 0x20, patches=((0x20, b"abc\0"),), handled=True),
    case("nullable string set", 6, 0x20, 0x20, patches=((0x20, b"abc\0"),), handled=True),
    case("short string too long", 6, 0, 0x30, patches=((0x30, b"abcd"),), handled=False),
    case("inout both null", 7, 0, 0, handled=True),
    case("inout both set", 7, 0x10, 0x20, handled=True),
    case("inout struct one past", 7, 0, PSIZE - 23, handled=False),
    # fixed sizes, nested structs
    case("fixed ok", 5, 0x10, 0x20, 0x40, handled=True),
    case("fixed out struct at end", 5, 0x10, 0x20, PSIZE - 24, handled=True),
    case("fixed out struct one past", 5, 0x10, 0x20, PSIZE - 23, handled=False),
    case("fixed array one past", 5, 0x10, PSIZE - 3, 0x40, handled=False),
    case("fixed inout null", 5, 0, 0x20, 0x40, handled=False),
    # a length checked after the buffers that use it
    case("copy buffer too long before bad u8", 8, PSIZE - 10, 300, 0x10, handled=False),
    case("copy ok", 8, 0x10, 16, 0x40, handled=True),
    case("copy in one past", 8, PSIZE - 15, 16, 0x40, handled=False),
    # a shared pointer, then a value checked after it
    case("shared at end", 10, PSIZE - 24, 1, handled=True),
    case("shared one past", 10, PSIZE - 23, 1, handled=False),
    case("shared null", 10, 0, 1, handled=False),
    case("shared bad before bad value", 10, PSIZE, 256, handled=False),
    case("shared ok then bad value", 10, 0x10, 256, handled=False),
    case("noreturn signed", 9, 0xFFFFFFFF, handled=True),
    case("count wrong", 9, 0, nargs=0, handled=False),
]


def check(both: Both, c: Case) -> None:
    verdict = both.compare(c)
    if c.handled is not None:
        assert bool(verdict.calls) is c.handled, f"{c}: {verdict}"


@pytest.mark.parametrize("c", PV_CASES)
def test_table_on_the_definition(pv: Both, c: Case) -> None:
    check(pv, c)


@pytest.mark.parametrize("c", XT_CASES)
def test_table_on_every_shape(xt: Both, c: Case) -> None:
    check(xt, c)


def valid_words(call: m.Hypercall, width: int) -> tuple[int, ...]:
    """Words every check of ``call`` passes: each pointer at its own 16 bytes, each string
    empty there, lengths 2, values their type's smallest."""
    words = [0x10 * (i + 1) for i in range(width)]
    for w in call.words:
        check = w.param.value_check
        if check is not None:
            words[w.index] = check.ranges[0][0] & MASK
    for p in call.pointer_params:
        if p.length is not None and p.length.param is not None:
            words[word_index(call, p.length.param)] = 2
    return tuple(words)


def test_every_hypercall_is_reached_on_both_sides(pv: Both, xt: Both) -> None:
    """A valid vector for each call reaches the same handler in C and in Python."""
    for both in (pv, xt):
        for h in both.iface.hypercalls:
            strings = tuple((0x10 * (i + 1), b"\0") for i in range(both.width))
            c = Case(f"{h.name} valid", h.number, valid_words(h, both.width), h.word_count,
                     PSIZE, strings)
            verdict = both.compare(c)
            assert [name for name, _ in verdict.calls] == [h.name], c


def test_a_counted_block_announcing_all_ones_words_is_a_wrong_count(pv: Both) -> None:
    check(pv, Case("console_write count 0xFFFFFFFF", 10, (0x10, 4, 0, 0, 0), 0xFFFFFFFF))


# ---------------------------------------------------------------------------
# Random vectors
# ---------------------------------------------------------------------------


def words_near(psize: int) -> st.SearchStrategy[int]:
    return st.one_of(
        st.integers(0, MASK),
        st.integers(0, psize + 8),
        st.integers(0, 40).map(lambda k: (psize - k) & MASK),
        st.integers(0, 40).map(lambda k: (MASK - k) & MASK),
        st.sampled_from([0x40000000, 0x40000001, 0x80000000, 0x7FFFFFFF, 0xFFFF, 0x10000]),
    )


@st.composite
def vectors(draw: st.DrawFn, iface: Interface) -> Case:
    calls = [h.number for h in iface.hypercalls]
    # Mostly calls of the interface, with their right count or none.
    number = draw(st.integers(0, MASK) if draw(st.integers(0, 4)) == 4 else st.sampled_from(calls))
    call = next((h for h in iface.hypercalls if h.number == number), None)
    count = call.word_count if call else 0
    nargs = draw(st.sampled_from([None, count, count, None, draw(st.integers(0, MASK))]))
    psize = draw(st.one_of(st.just(PSIZE), st.integers(0, PSIZE)))
    words = tuple(draw(st.lists(words_near(psize), min_size=5, max_size=5)))
    memory = draw(st.binary(min_size=PSIZE, max_size=PSIZE))
    return Case("random", number, words, nargs, psize, ((0, memory),))


@settings(max_examples=1500, deadline=None)
@given(data=st.data())
def test_random_vectors_on_the_definition(pv: Both, data: st.DataObject) -> None:
    pv.compare(data.draw(vectors(pv.iface)))


@settings(max_examples=1500, deadline=None)
@given(data=st.data())
def test_random_vectors_on_every_shape(xt: Both, data: st.DataObject) -> None:
    xt.compare(data.draw(vectors(xt.iface)))


def test_harness_reports_a_rejection_of_its_own_kind(pv: Both) -> None:
    """The comparison is not vacuous: the C side's record really changes per call."""
    pv.load_memory(bytes(pattern(PSIZE + GUARD)))
    rejected = pv.run_c(999, None, (0, 0, 0, 0, 0), PSIZE)
    handled = pv.run_c(10, 2, (0x10, 3, 0, 0, 0), PSIZE)
    assert rejected.rejections == [(999, m.RejectEvent.UNKNOWN_CALL.code)]
    assert rejected.result == 7 and rejected.calls == []
    assert handled.rejections == [] and handled.result == RESULT
    assert handled.calls == [("console_write", (bytes(pattern(0x13)[0x10:0x13]), 3))]



# ---------------------------------------------------------------------------
# The native fast path's fetch (pvupcall.c) against the Python dispatcher
# ---------------------------------------------------------------------------
# The upcall fast path serves irq_ack of the timer line itself, in C, fetching the line as
# the ABI says (pvgen.emulator.fastpath.fetch_as, from the dispatcher's ABIS). What it takes,
# the generated dispatcher must accept with that line; what the dispatcher accepts with
# that line, it must take: on every ABI of the definition, over random trap registers,
# blocks near the partition's end and counts.


def native_takes_ack(dispatcher: ModuleType, abi: str, registers: Sequence[int],
                     memory: bytearray) -> bool:
    ram = (ctypes.c_uint8 * len(memory)).from_buffer(memory)
    written = WrittenHeader(0xFFFFFFFF, 0)
    header = FastHeader(armed=1, phase=PHASE_DELIVERED, ack_number=dispatcher.NUMBERS["irq_ack"],
                        timer_line=0, memory_size=len(memory), ram=ctypes.addressof(ram),
                        written=ctypes.addressof(written))
    header.area_pending = len(memory) - 4
    fetch_as(header, dispatcher.ABIS[abi])
    values = (ctypes.c_uint32 * len(registers))(*registers)
    result = ctypes.c_int64(-2)
    taken = library().pv_fast_call(ctypes.byref(header), values, None, ctypes.byref(result))
    assert bool(taken) == (header.phase == PHASE_ACKED)
    return bool(taken)


def python_takes_ack(dispatcher: ModuleType, iface: Interface, abi: str,
                     registers: Sequence[int], memory: bytearray) -> bool:
    recorder = Recorder(iface)
    dispatcher.fetch_and_dispatch(abi, list(registers), GuestBytes(bytearray(memory)), recorder)
    return recorder.calls == [("irq_ack", (0,))] and not recorder.rejections


@pytest.fixture(scope="module")
def dispatcher(interface: Interface, tmp_path_factory: pytest.TempPathFactory) -> ModuleType:
    if shutil.which("gcc") is None and shutil.which("cc") is None:
        pytest.skip("no host C compiler for the native fast path")
    return load_dispatcher(interface, tmp_path_factory.mktemp("native"))


@settings(max_examples=600, deadline=None)
@given(data=st.data())
def test_the_native_fast_path_takes_exactly_the_acks_the_dispatcher_accepts(
        interface: Interface, dispatcher: ModuleType, data: st.DataObject) -> None:
    abi = data.draw(st.sampled_from([a.name for a in interface.abis]))
    size = data.draw(st.sampled_from([64, 256]))
    memory = bytearray(data.draw(st.binary(min_size=size, max_size=size)))
    number = dispatcher.NUMBERS["irq_ack"]
    layout = dispatcher.ABIS[abi]
    if layout.convention == "block":  # a block at the partition's end (its count, the line)
        edge = size - layout.block_bytes
        block = data.draw(st.integers(-4, 8).map(lambda d: (edge + d) & MASK)
                          | words_near(size))
        if block + 8 <= size:  # also where the whole block does not fit
            words = [data.draw(st.sampled_from([1, 1, 0, 2, MASK])),
                     data.draw(st.sampled_from([0, 0, 1, MASK]))]
            memory[block:block + 8] = b"".join(w.to_bytes(4, "little") for w in words)
        registers = [number, block]
    else:
        registers = [number, *(data.draw(st.sampled_from([0, 0, 1, MASK]))
                               for _ in layout.argument_registers)]
    assert native_takes_ack(dispatcher, abi, registers, bytearray(memory)) == \
        python_takes_ack(dispatcher, interface, abi, registers, memory)


def test_the_native_fast_path_comparison_sees_both_answers(
        interface: Interface, dispatcher: ModuleType) -> None:
    """Not vacuous: the fast path takes a well-formed ack of the timer line, and not one of
    another line."""
    memory = bytearray(64)
    for abi in interface.abis:
        layout = dispatcher.ABIS[abi.name]
        number = dispatcher.NUMBERS["irq_ack"]
        for line, taken in ((0, True), (1, False)):
            if layout.convention == "block":
                words = [1, line] if layout.block_counted else [line]
                memory[8:8 + 4 * len(words)] = b"".join(w.to_bytes(4, "little") for w in words)
                registers = [number, 8]
            else:
                registers = [number, line, 0, 0, 0, 0][:1 + len(layout.argument_registers)]
            assert native_takes_ack(dispatcher, abi.name, registers, bytearray(memory)) is taken
            assert python_takes_ack(dispatcher, interface, abi.name, registers, memory) is taken


def test_the_native_fast_path_and_the_dispatcher_agree_at_the_partition_s_end(
        interface: Interface, dispatcher: ModuleType) -> None:
    """Every block position around the last one that fits, with each count and line."""
    size, number = 64, dispatcher.NUMBERS["irq_ack"]
    for abi in interface.abis:
        layout = dispatcher.ABIS[abi.name]
        if layout.convention != "block":
            continue
        edge = size - layout.block_bytes
        for block in range(edge - 8, size - 7):
            for count in (0, 1, 2):
                for line in (0, 1):
                    memory = bytearray(size)
                    words = [count, line] if layout.block_counted else [line, count]
                    memory[block:block + 8] = b"".join(w.to_bytes(4, "little") for w in words)
                    registers = [number, block]
                    assert native_takes_ack(dispatcher, abi.name, registers,
                                            bytearray(memory)) == \
                        python_takes_ack(dispatcher, interface, abi.name, registers, memory), \
                        (abi.name, block, count, line)
