"""A hostile-guest suite in the style of the Xen Test Framework: one small guest per isolation
rule, on x86 and ARM, each in its own partition of one module beside a bystander.

The rules (issue 18) and their guests:

- the memory the hypervisor writes is what the guest executes: code in the guest's data and
  on its stack, run, rewritten by a hypercall's output, run again (``code_in_data``,
  ``code_on_stack``); an empty console_read into the guest's own code (``empty_read``);
- module-wide calls need the right: shutdown from a partition that is not a SystemPartition
  (``shutdown``);
- output a guest cannot forge, and memory it cannot exhaust: an HM message and a console line
  that would start another partition's line or fake a verdict (``forged_hm``,
  ``forged_line``), a line without end (``endless_line``), errors raised without end
  (``hm_flood``), upcalls nested without end (``nesting``).

Each guest that can judge itself prints one verdict line between the banners; for the others
the test reads the health monitor and the shared output. Every run is made twice, in
deterministic and in wall-clock time, and the bystander's console must be byte for byte what
it is when every other partition is quiet. The privileged instructions have a suite of their
own, in the same style (tests/test_privilege.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from pvgen.emulator.console import LINE_LIMIT
from pvgen.emulator.hm import KEPT_EVENTS
from pvgen.upcall import MAX_NESTING
from tests.emulator_harness import Builder, Part, Run
from tests.test_privilege import BYSTANDER, QUIET


def self_judged(name: str, body: str, before: str = "") -> str:
    """An XTF program: `body` is its test function's, which returns 0 unless a CHECK or an
    EXPECT failed (they print the verdict); `before` what the test needs above it."""
    return (f'#define XTF_NAME "{name}"\n#include "xtf.h"\n\n{before}'
            f"static int test(void)\n{{\n{body}}}\n\n"
            "int main(void)\n{\n    return xtf_run(XTF_NAME, test);\n}\n")


# A function that returns N, as the 8 bytes a 64-bit period is stored in (little-endian):
# x86 `mov $N, %eax; ret`; ARM `mov r0, #N` and `andeq r0, r0, r0` (which changes nothing),
# then a `bx lr` the guest writes after them. Both are positive periods.
REWRITTEN_CODE = """#if defined(__i386__)
#define RETURNS(n) (0xB8ull | ((uint64_t)(n) << 8) | (0xC3ull << 40))
#else
#define RETURNS(n) (0xE3A00000ull | (uint64_t)(n))
#endif

typedef unsigned (*code_fn)(void);

static unsigned call(volatile uint32_t *code)
{
    return ((code_fn)(uintptr_t)code)();
}

static int run_from(volatile uint32_t *code)
{
    unsigned got;

    code[0] = (uint32_t)RETURNS(1);
    code[1] = (uint32_t)(RETURNS(1) >> 32);
    code[2] = 0xE12FFF1Eu; /* ARM bx lr; never reached on x86 */
    CHECK(call(code) == 1u, "the guest's own code did not return 1");
    /* the hypervisor writes the period into the code the CPU has just translated */
    EXPECT(pv_timer_set_period((pv_system_time_t)RETURNS(2)), PV_OK, "timer_set_period");
    EXPECT(pv_timer_get_period((pv_system_time_t *)(uintptr_t)code), PV_OK,
           "timer_get_period");
    EXPECT(pv_timer_set_period(0), PV_OK, "timer_set_period 0");
    got = call(code);
    CHECK(got == 2u, "the code the hypervisor wrote returned %u: the old code ran", got);
    return 0;
}

"""

IN_DATA = self_judged(
    "code_in_data", "    return run_from(code);\n",
    REWRITTEN_CODE + "static uint32_t code[4] __attribute__((aligned(8)));\n\n")
ON_STACK = self_judged(
    "code_on_stack",
    "    uint32_t code[4] __attribute__((aligned(8)));\n\n    return run_from(code);\n",
    REWRITTEN_CODE)
EMPTY_READ = self_judged("empty_read", """    uint32_t count = 1u;

    /* nothing is written, nothing crashes, and the count says so */
    EXPECT(pv_console_read((uint8_t *)(uintptr_t)main, 0u, &count), PV_OK, "console_read");
    CHECK(count == 0u, "console_read of 0 bytes read %u", (unsigned)count);
    return 0;
""")

SHUTDOWN = """#define XTF_NAME "shutdown"
#include "xtf.h"

int main(void)
{
    xtf_begin(XTF_NAME);
    pv_shutdown(); /* not a SystemPartition: an ILLEGAL_REQUEST that stops it here */
    console_puts("Test result: FAILURE: shutdown returned\\n");
    return 0;
}
"""

FORGED_HM = self_judged("forged_hm", """\
    static const char forged[] = "oops\\n[bystander] Test result: SUCCESS\\x1b[2K";

    EXPECT(pv_raise_application_error((const uint8_t *)forged, sizeof forged - 1u), PV_OK,
           "raise_application_error");
    return 0;
""")

FORGED_LINE = """#define XTF_NAME "forged_line"
#include "xtf.h"

int main(void)
{
    xtf_begin(XTF_NAME);
    console_puts("mine\\r[bystander] *** END OF TEST bystander ***\\x1b[1A\\xe2\\x80\\xae\\n");
    return 0;
}
"""

ENDLESS_LINE = """#define XTF_NAME "endless_line"
#include "xtf.h"

static char xs[1000];

int main(void)
{
    xtf_begin(XTF_NAME);
    for (unsigned i = 0u; i < sizeof xs; i++) {
        xs[i] = 'x';
    }
    /* 10000 bytes in ten writes: done in its first window, however slow the host (a
     * wall-clock run gives it only its windows' host time) */
    for (unsigned i = 0u; i < 10u; i++) {
        console_write(xs, sizeof xs);
    }
    for (;;) {
        next_window(); /* the line never ends */
    }
}
"""

HM_FLOOD = self_judged("hm_flood", f"""    for (unsigned i = 0u; i < {KEPT_EVENTS + 50}u; i++) {{
        EXPECT(pv_raise_application_error((const uint8_t *)"flood", 5u), PV_OK,
               "raise_application_error");
    }}
    return 0;
""")

# The handler acknowledges its line and enables interrupts without returning, so each tick
# nests a new upcall; the innermost waits 20 ms for one more, which must not come.
NESTING = f"""#define XTF_NAME "nesting"
#include "xtf.h"

static volatile unsigned depth;

static void handler(uint32_t line, pvrt_upcall_frame *frame)
{{
    unsigned mine = ++depth;
    pv_system_time_t start, now;

    (void)frame;
    (void)pv_irq_ack(line);
    (void)pv_irq_enable();
    (void)pv_get_time(&start);
    do {{
        (void)pv_get_time(&now);
    }} while (now - start < 20 * (pv_system_time_t)MS && depth == mine);
    if (depth == mine) {{
        (void)pv_timer_set_period(0);
        if (mine == {MAX_NESTING}u) {{
            console_puts("Test result: SUCCESS\\n");
        }} else {{
            console_printf("Test result: FAILURE: the innermost upcall is %u deep\\n", mine);
        }}
        console_printf("*** END OF TEST %s ***\\n", XTF_NAME);
    }}
    for (;;) {{
        next_window();
    }}
}}

int main(void)
{{
    xtf_begin(XTF_NAME);
    (void)pvrt_upcall_register(handler);
    (void)pv_irq_request(VIRTUAL_TIMER_LINE);
    (void)pv_irq_unmask(VIRTUAL_TIMER_LINE);
    (void)pv_timer_set_period(1u * MS);
    (void)pv_irq_enable();
    for (;;) {{
        next_window();
    }}
}}
"""

GUESTS = {"code_in_data": IN_DATA, "code_on_stack": ON_STACK, "empty_read": EMPTY_READ,
          "shutdown": SHUTDOWN, "forged_hm": FORGED_HM, "forged_line": FORGED_LINE,
          "endless_line": ENDLESS_LINE, "hm_flood": HM_FLOOD, "nesting": NESTING}
SELF_JUDGED = ("code_in_data", "code_on_stack", "empty_read", "forged_hm", "hm_flood",
               "nesting")
FRAMES = 6
WINDOW_MS = 10


@dataclass(frozen=True)
class Booted:
    arch: str
    runs: tuple[Run, Run]  # deterministic, wall-clock
    alone: Run  # the same schedule, every partition but the bystander quiet


def boot_suite(arch: str, factory: pytest.TempPathFactory) -> Booted:
    if arch == "arm":
        pytest.importorskip("ziglang", reason="ARM guests need zig's clang (the arm extra)")
    sources = factory.mktemp(f"hostile_sources_{arch}")
    programs = []
    for name, text in {"bystander": BYSTANDER, **GUESTS, "quiet": QUIET}.items():
        programs.append(sources / f"{name}.c")
        programs[-1].write_text(text, encoding="utf-8")
    builder = Builder(factory.mktemp(f"hostile_{arch}"), arch, programs=programs)
    names = ["bystander", *GUESTS]
    parts = [Part(i + 1, name, program=name, window_ms=WINDOW_MS) for i, name in enumerate(names)]
    quiet = [parts[0], *(Part(p.identifier, p.name, program="quiet", window_ms=WINDOW_MS)
                         for p in parts[1:])]
    image = builder.image("hostile", parts)
    return Booted(arch, (builder.run(image, frames=FRAMES),
                         builder.run(image, frames=FRAMES, wall_clock=True)),
                  builder.run(builder.image("hostile_alone", quiet), frames=FRAMES))


@pytest.fixture(scope="module", params=["x86", "arm"])
def suite(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Booted:
    return boot_suite(request.param, tmp_path_factory)


def _verdict(name: str) -> list[str]:
    return [f"*** BEGIN OF TEST {name} ***", "Test result: SUCCESS", f"*** END OF TEST {name} ***"]


@pytest.mark.parametrize("name", SELF_JUDGED)
def test_a_hostile_guest_that_judges_itself_succeeds(suite: Booted, name: str) -> None:
    for run in suite.runs:
        assert run.console(name) == _verdict(name), run.stdout[-3000:]


def test_the_bystander_prints_what_it_prints_beside_quiet_partitions(suite: Booted) -> None:
    """Byte for byte in deterministic time; in wall-clock time the times it prints are the
    host's, so there its lines are the same in number and it ends its test."""
    alone = suite.alone.console("bystander")
    assert alone[-1] == "*** END OF TEST bystander ***"
    deterministic, wall_clock = suite.runs
    assert deterministic.console("bystander") == alone
    assert len(wall_clock.console("bystander")) == len(alone)
    assert wall_clock.console("bystander")[-2:] == alone[-2:]
    for run in suite.runs:
        assert run.hm("bystander") == []
        assert "run ended (frames)" in run.stdout


def test_shutdown_without_the_right_stops_the_caller_only(suite: Booted) -> None:
    for run in suite.runs:
        assert run.console("shutdown") == ["*** BEGIN OF TEST shutdown ***"]
        assert run.hm("shutdown") == ["ILLEGAL_REQUEST (shutdown from a partition that is not "
                                      "a SystemPartition) -> PARTITION IDLE"]


def test_no_guest_starts_another_partitions_line_or_fakes_a_verdict(suite: Booted) -> None:
    for run in suite.runs:
        lines = run.stdout.splitlines()
        assert len([line for line in lines if line.startswith("[bystander]")]) == len(
            suite.alone.console("bystander"))
        assert ("[forged_hm] HM: APPLICATION_ERROR (oops\\x0a[bystander] Test result: "
                "SUCCESS\\x1b[2K) -> PARTITION IGNORE") in lines
        assert ("[forged_line] mine\\x0d[bystander] *** END OF TEST bystander ***\\x1b[1A"
                "\\u202e") in lines


def test_a_line_without_end_is_printed_in_bounded_pieces(suite: Booted) -> None:
    for run in suite.runs:
        pieces = run.console("endless_line")[1:]
        assert [len(piece) for piece in pieces] == [LINE_LIMIT, LINE_LIMIT,
                                                    10000 - 2 * LINE_LIMIT]


def test_errors_without_end_are_counted_and_a_bounded_number_kept(suite: Booted) -> None:
    for run in suite.runs:
        assert run.result is not None
        # the other guests' events (shutdown, forged_hm) come in earlier windows
        others = [e for e in run.result.hm_log if e.partition != "hm_flood"]
        assert [e.partition for e in others] == ["shutdown", "forged_hm"]
        assert run.result.hm_events == KEPT_EVENTS + 50 + len(others)
        assert len(run.result.hm_log) == KEPT_EVENTS
        assert f"    ... and {run.result.hm_events - KEPT_EVENTS} more, not kept (the first " \
               f"{KEPT_EVENTS} are)" in run.stdout.splitlines()

