"""What the bare-metal runtime gives a partition's C, run on x86, ARM and Thumb: the
routines compilers call on their own, which a partition linked without a C library lacks
(64-bit division and remainder, checked by the guest against Python's answers; memcpy,
memmove, memset, memcmp), one verdict per program; and console_printf's conversions, 64-bit
ones included, compared with Python's % formatting."""

from __future__ import annotations

import itertools
import shlex
import sys

import pytest

from tests.emulator_harness import Builder, Part
from tests.test_hostile import self_judged

UNSIGNED = (0, 1, 7, 10, 1_000_000, 0xFFFFFFFF, 0x1_0000_0000, 123_456_789_012_345,
            0xFFFFFFFF_FFFFFFFF)
SIGNED = (0, 1, -1, 7, -7, 1_000_000, -1_000_000, 0x7FFFFFFF_FFFFFFFF,
          -0x8000_0000_0000_0000 + 1, -123_456_789_012_345)


def _truncated(n: int, d: int) -> tuple[int, int]:
    """C's division: the quotient truncates toward zero."""
    quotient = abs(n) // abs(d) * (1 if (n < 0) == (d < 0) else -1)
    return quotient, n - quotient * d


def _cases() -> tuple[str, str]:
    """C initialisers of the unsigned and signed cases: {n, d, quotient, remainder}."""
    unsigned = [(n, d, n // d, n % d) for n, d in itertools.product(UNSIGNED, UNSIGNED) if d]
    signed = [(n, d, *_truncated(n, d)) for n, d in itertools.product(SIGNED, SIGNED) if d]

    def literal(value: int, kind: str) -> str:
        if kind == "u":
            return f"{value}ull"
        return f"({value + 1}ll - 1)" if value < 0 else f"{value}ll"  # INT64_MIN + 1 and below

    return (",\n".join("    {" + ", ".join(literal(v, "u") for v in case) + "}"
                       for case in unsigned),
            ",\n".join("    {" + ", ".join(literal(v, "s") for v in case) + "}"
                       for case in signed))


UNSIGNED_CASES, SIGNED_CASES = _cases()
DIVISION = self_judged("division", """\
    unsigned i;

    for (i = 0u; i < sizeof unsigned_cases / sizeof unsigned_cases[0]; i++) {
        volatile uint64_t n = unsigned_cases[i].n, d = unsigned_cases[i].d;
        CHECK(n / d == unsigned_cases[i].q && n % d == unsigned_cases[i].r,
              "unsigned case %u: 0x%x%08x / 0x%x%08x", i, (unsigned)(n >> 32), (unsigned)n,
              (unsigned)(d >> 32), (unsigned)d);
    }
    for (i = 0u; i < sizeof signed_cases / sizeof signed_cases[0]; i++) {
        volatile int64_t n = signed_cases[i].n, d = signed_cases[i].d;
        CHECK(n / d == signed_cases[i].q && n % d == signed_cases[i].r, "signed case %u", i);
    }
    return 0;
""", f"""struct unsigned_case {{
    uint64_t n, d, q, r;
}};
struct signed_case {{
    int64_t n, d, q, r;
}};

static const struct unsigned_case unsigned_cases[] = {{
{UNSIGNED_CASES}
}};
static const struct signed_case signed_cases[] = {{
{SIGNED_CASES}
}};

""")

THUMB = shlex.join([sys.executable, "-m", "ziglang", "cc", "-target", "thumb-freestanding-eabi",
                    "-mcpu=cortex_a15", "-fomit-frame-pointer"])  # svc_arm passes the call in r7


MEMORY = self_judged("memory", """\
    struct record copy;
    volatile unsigned char zeroed[512] = {0};  /* a large zeroed array: the compiler's memset */
    char text[16] = "abcdefgh";
    unsigned i, sum = 0u;

    for (i = 0u; i < 64u; i++) {
        first.words[i] = i;
    }
    copy = first;                              /* a structure copy: its memcpy */
    CHECK(memcmp(&copy, &first, sizeof copy) == 0 && copy.words[63] == 63u, "structure copy");
    for (i = 0u; i < sizeof zeroed; i++) {
        sum += zeroed[i];
    }
    CHECK(sum == 0u, "zeroed array sums to %u", sum);
    memmove(text + 2, text, 6);
    CHECK(memcmp(text, "ababcdef", 8) == 0, "memmove up: %s", text);
    memmove(text, text + 2, 6);
    CHECK(memcmp(text, "abcdefef", 8) == 0, "memmove down: %s", text);
    memset(text, 'z', 3);
    CHECK(memcmp(text, "zzz", 3) == 0 && text[3] == 'd', "memset: %s", text);
    CHECK(memcmp("ab", "ac", 2) < 0 && memcmp("b", "a", 1) > 0, "memcmp's sign");
    return 0;
""", """struct record {
    unsigned words[64];
};

static struct record first;

""")


# The self-judged programs of the compilers' helper routines, by name.
HELPED = {"division": DIVISION, "memory": MEMORY}


@pytest.mark.parametrize("target", ["x86", "arm", "thumb"])
@pytest.mark.parametrize("program", sorted(HELPED))
def test_the_routines_compilers_call_link_and_are_right(
        program: str, target: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    """64-bit division and the memory routines, each in its own guest that judges itself."""
    arch = "x86" if target == "x86" else "arm"
    if arch == "arm":
        pytest.importorskip("ziglang", reason="ARM guests need zig's clang (the arm extra)")
    sources = tmp_path_factory.mktemp(f"{program}_sources_{target}")
    (sources / f"{program}.c").write_text(HELPED[program], encoding="utf-8")
    builder = Builder(tmp_path_factory.mktemp(f"{program}_{target}"), arch,
                      THUMB if target == "thumb" else None, programs=[sources / f"{program}.c"])
    run = builder.run(builder.image(program, [Part(1, program, program=program)]), frames=2)
    assert run.console(program) == [f"*** BEGIN OF TEST {program} ***", "Test result: SUCCESS",
                                    f"*** END OF TEST {program} ***"], run.stdout


# (format, C arguments, Python's rendering)
PRINTED = (
    ("%d|%5d|%05d|%d", "-42, 42, 42, -2147483647 - 1", f"{-42}|{42:5d}|{42:05d}|{-2**31}"),
    ("%u|%x|%08x", "4294967295u, 0xdeadbeefu, 0xbeefu",
     f"{4294967295}|{0xDEADBEEF:x}|{0xBEEF:08x}"),
    ("%lld|%lld|%llu|%llx", "-9223372036854775807ll - 1, 1234567890123ll, "
     "18446744073709551615ull, 0x123456789abcdefull",
     f"{-2**63}|{1234567890123}|{2**64 - 1}|{0x123456789ABCDEF:x}"),
    ("%020llu|%16llx|%ld|%lu", "12345678901234567ull, 0xfedcba9876ull, -5l, 7ul",
     f"{12345678901234567:020d}|{0xFEDCBA9876:16x}|{-5}|{7}"),
    # the digits below the 10^9 place of a value past 32 bits, zeros included
    ("%llu|%llu|%llu", "1000000000005ull, 4294967296ull, 9999999999ull",
     f"{1000000000005}|{4294967296}|{9999999999}"),
)
PRINTING = self_judged("printing", "".join(
    f'    console_printf("{fmt}\\n", {arguments});\n' for fmt, arguments, _ in PRINTED)
    + "    return 0;\n")


@pytest.mark.parametrize("target", ["x86", "arm"])
def test_console_printf_prints_what_c_s_printf_would(
        target: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    if target == "arm":
        pytest.importorskip("ziglang", reason="ARM guests need zig's clang (the arm extra)")
    sources = tmp_path_factory.mktemp(f"printing_sources_{target}")
    (sources / "printing.c").write_text(PRINTING, encoding="utf-8")
    builder = Builder(tmp_path_factory.mktemp(f"printing_{target}"), target,
                      programs=[sources / "printing.c"])
    run = builder.run(builder.image("printing", [Part(1, "printing", program="printing")]),
                      frames=2)
    assert run.console("printing") == ["*** BEGIN OF TEST printing ***",
                                       *(line for _, _, line in PRINTED),
                                       "Test result: SUCCESS", "*** END OF TEST printing ***"]
