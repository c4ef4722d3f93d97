"""Partitions run unprivileged (issue 16, point 0), one tiny guest per rule in the style of the
Xen Test Framework.

x86 partitions run at CPL 3 and ARM partitions in user mode, as POK runs them. Each
privileged instruction below gets its own partition: it prints the BEGIN banner, executes
the instruction and, if it went on, its FAILURE verdict. The rule holds when the health
monitor logs the error POK declares for the exception the CPU raises (ILLEGAL_REQUEST for a
general-protection fault or an undefined instruction, MEMORY_VIOLATION for a page fault),
the partition stops there (IDLE, no verdict) and a bystander in the same module prints
exactly what it prints alone. A few instructions do not fault at the user level on the real
CPU either (x86 ``popf``, ARM ``cps`` and ``msr`` to the mode bits): the CPU ignores what
they would change, and those guests check, from inside, that it did.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.emulator_harness import Builder, Part, Run

ILLEGAL, MEMORY = "ILLEGAL_REQUEST", "MEMORY_VIOLATION"


@dataclass(frozen=True)
class Rule:
    """A privileged instruction (GNU assembler, extended-asm syntax) and what it raises."""

    name: str
    instruction: str
    error: str
    detail: str  # a regular expression for the HM report's detail


GP, UD, PF = r"CPU exception 13 at 0x[0-9a-f]+", r"CPU exception 6 at 0x[0-9a-f]+", \
    r"CPU exception 14 at 0x[0-9a-f]+ accessing 0xffc0[0-9a-f]{4}"
UNDEFINED = r"Invalid instruction \(UC_ERR_INSN_INVALID\) at 0x[0-9a-f]+"

X86_RULES = (
    # the interrupt flag and halting
    Rule("cli", "cli", ILLEGAL, GP),
    Rule("sti", "sti", ILLEGAL, GP),
    Rule("hlt", "hlt", ILLEGAL, GP),
    # port I/O (IOPL 0)
    Rule("in", "inb $0x60, %%al", ILLEGAL, GP),
    Rule("out", "outb %%al, $0x80", ILLEGAL, GP),
    Rule("insb", "movl $0x1000, %%edi\ninsb", ILLEGAL, GP),
    Rule("outsb", "movl $0x1000, %%esi\noutsb", ILLEGAL, GP),
    # descriptor tables and the task register
    Rule("lgdt", "lgdt 0x1000", ILLEGAL, GP),
    Rule("lidt", "lidt 0x1000", ILLEGAL, GP),
    Rule("lldt", "xorl %%eax, %%eax\nlldt %%ax", ILLEGAL, GP),
    Rule("ltr", "movl $0x10, %%eax\nltr %%ax", ILLEGAL, GP),
    # control and debug registers
    Rule("mov_to_cr0", "movl %%eax, %%cr0", ILLEGAL, GP),
    Rule("mov_to_cr3", "movl %%eax, %%cr3", ILLEGAL, GP),
    Rule("mov_from_cr3", "movl %%cr3, %%eax", ILLEGAL, GP),
    Rule("clts", "clts", ILLEGAL, GP),
    Rule("lmsw", "xorl %%eax, %%eax\nlmsw %%ax", ILLEGAL, GP),
    Rule("mov_to_dr7", "movl %%eax, %%db7", ILLEGAL, GP),
    # model-specific registers, caches and the TLB
    Rule("wrmsr", "wrmsr", ILLEGAL, GP),
    Rule("rdmsr", "rdmsr", ILLEGAL, GP),
    Rule("invlpg", "invlpg 0x1000", ILLEGAL, GP),
    Rule("wbinvd", "wbinvd", ILLEGAL, GP),
    Rule("invd", "invd", ILLEGAL, GP),
    # fast system calls: no kernel entry is set up for them
    Rule("sysenter", "sysenter", ILLEGAL, GP),
    Rule("sysexit", "sysexit", ILLEGAL, GP),
    Rule("syscall", "syscall", ILLEGAL, UD),
    # the host's time and counters (CR4.TSD: a partition's time is virtual)
    Rule("rdtsc", "rdtsc", ILLEGAL, GP),
    Rule("rdpmc", "xorl %%ecx, %%ecx\nrdpmc", ILLEGAL, UNDEFINED),  # Unicorn's CPU has none
    # segments: a null stack segment, a return to privilege level 0
    Rule("null_stack_segment", "xorl %%eax, %%eax\nmovw %%ax, %%ss", ILLEGAL, GP),
    # every descriptor is the partition's own (DPL 3): none past them may be loaded or called
    Rule("segment_beyond_table", "movl $0x23, %%eax\nmovw %%ax, %%ds", ILLEGAL, GP),
    Rule("far_call_beyond_table", "lcall $0x2b, $0", ILLEGAL, GP),
    Rule("iret_to_ring_0", "pushl %%ss\npushl %%esp\npushfl\npushl $0x08\n"
         "pushl $1f\niret\n1:", ILLEGAL, GP),
    # the hypervisor's own pages above the partition (its descriptor table)
    Rule("hypervisor_page", "movl $1, 0xffc02000", MEMORY, PF),
)

ARM_RULES = (
    Rule("sctlr_write", "mcr p15, 0, r0, c1, c0, 0", ILLEGAL, UNDEFINED),
    Rule("sctlr_read", "mrc p15, 0, r0, c1, c0, 0", ILLEGAL, UNDEFINED),
    Rule("ttbr0_write", "mcr p15, 0, r0, c2, c0, 0", ILLEGAL, UNDEFINED),
    Rule("tpidruro_write", "mcr p15, 0, r0, c13, c0, 3", ILLEGAL, UNDEFINED),
    Rule("spsr_read", "mrs r0, spsr", ILLEGAL, UNDEFINED),
    Rule("srs", "srsdb sp!, #0x13", ILLEGAL, UNDEFINED),
    Rule("rfe", "rfeia sp", ILLEGAL, UNDEFINED),
    Rule("smc", ".arch_extension sec\nsmc #0", ILLEGAL, UNDEFINED),
    Rule("hvc", ".arch_extension virt\nhvc #0", ILLEGAL, UNDEFINED),
    Rule("fpexc_read", ".fpu vfpv4\nvmrs r0, fpexc", ILLEGAL, UNDEFINED),
    Rule("wfi", "wfi", ILLEGAL, r"wait for interrupt \(the CPU halted\) at 0x[0-9a-f]+"),
)

# Instructions the CPU ignores at the user level instead of faulting: the guest checks that
# what they would change did not change (a C statement list; `bad` is 1 if it did).
IGNORED = {
    "x86": {
        "popf_iopl_if": """
            uint32_t before, after;
            __asm__ volatile("pushfl\\n\\tpopl %0" : "=r"(before));
            __asm__ volatile("pushl %0\\n\\tpopfl" : : "r"(before ^ 0x3200u) : "cc");
            __asm__ volatile("pushfl\\n\\tpopl %0" : "=r"(after));
            bad = ((before ^ after) & 0x3200u) != 0; /* IOPL and IF kept */
        """,
    },
    "arm": {
        "cps_mode": """
            uint32_t cpsr;
            __asm__ volatile("cps #0x13\\n\\tcpsid if\\n\\tmrs %0, cpsr" : "=r"(cpsr));
            bad = (cpsr & 0x1fu) != 0x10u || (cpsr & 0xc0u) != 0u; /* user mode, unmasked */
        """,
        "msr_mode": """
            uint32_t cpsr;
            __asm__ volatile("msr cpsr_c, #0xd3\\n\\tmrs %0, cpsr" : "=r"(cpsr));
            bad = (cpsr & 0xffu) != 0x10u;
        """,
    },
}

FAULTING = """#define XTF_NAME "{name}"
#include "xtf.h"

int main(void)
{{
    xtf_begin(XTF_NAME);
    __asm__ volatile("{instruction}" : : : "memory", "cc"{clobbers});
    console_puts("Test result: FAILURE: {name} went on\\n");
    console_printf("*** END OF TEST %s ***\\n", XTF_NAME);
    return 0;
}}
"""

CHECKING = """#define XTF_NAME "{name}"
#include "xtf.h"

static int test(void)
{{
    int bad = 0;
    {body}
    CHECK(!bad, "{name} changed what the user level may not change");
    return 0;
}}

int main(void)
{{
    return xtf_run(XTF_NAME, test);
}}
"""

BYSTANDER = """#define XTF_NAME "bystander"
#include "xtf.h"

int main(void)
{
    pv_system_time_t now;

    xtf_begin(XTF_NAME);
    for (unsigned i = 0; i < 3; i++) {
        (void)pv_get_time(&now);
        console_printf("window %u at %u\\n", i, (unsigned)now);
        next_window();
    }
    console_puts("Test result: SUCCESS\\n");
    console_printf("*** END OF TEST %s ***\\n", XTF_NAME);
    return 0;
}
"""

# An upcall handler that rewrites the status word of its frame to what would give the guest
# privilege (x86: IOPL 3 and virtual-8086 mode; ARM: supervisor mode): irq_return restores
# the guest's flags from the frame, never its privilege.
FORGED_FRAME = """#define XTF_NAME "forged_frame"
#include "xtf.h"

static volatile unsigned handled;

static void handler(uint32_t line, pvrt_upcall_frame *frame)
{
#if defined(__i386__)
    frame->eflags |= 0x23000u;
#else
    frame->cpsr = (frame->cpsr & ~0x1fu) | 0x13u;
#endif
    handled = 1u;
    (void)pv_irq_ack(line);
    pv_irq_return();
}

static uint32_t status_word(void)
{
    uint32_t status;
#if defined(__i386__)
    __asm__ volatile("pushfl\\n\\tpopl %0" : "=r"(status));
#else
    __asm__ volatile("mrs %0, cpsr" : "=r"(status));
#endif
    return status;
}

static int test(void)
{
    uint32_t status;

    CHECK(pvrt_upcall_register(handler) == PV_OK, "registering the handler failed");
    CHECK(pv_irq_request(VIRTUAL_TIMER_LINE) == PV_OK, "irq_request failed");
    CHECK(pv_irq_unmask(VIRTUAL_TIMER_LINE) == PV_OK, "irq_unmask failed");
    CHECK(pv_timer_set_period(1u * MS) == PV_OK, "timer_set_period failed");
    CHECK(pv_irq_enable() == PV_OK, "irq_enable failed");
    while (!handled) {
    }
    (void)pv_timer_set_period(0);
    status = status_word();
#if defined(__i386__)
    CHECK((status & 0x23000u) == 0u, "the forged frame gave eflags 0x%x", (unsigned)status);
#else
    CHECK((status & 0x1fu) == 0x10u, "the forged frame gave cpsr 0x%x", (unsigned)status);
#endif
    return 0;
}

int main(void)
{
    return xtf_run(XTF_NAME, test);
}
"""

# The thread pointer is the hypervisor's to set (thread_pointer_set): x86 reads thread-local
# storage through %gs, whose base it sets; ARM reads TPIDRURO, which it sets.
THREAD_POINTER = """#define XTF_NAME "thread_pointer"
#include "xtf.h"

static volatile uint32_t block[3] = {0x11111111u, 0x22222222u, 0x33333333u};

static int test(void)
{
    uint32_t first, second;

    EXPECT(pv_thread_pointer_set((uint32_t)(uintptr_t)&block[1]), PV_OK, "thread_pointer_set");
#if defined(__i386__)
    __asm__ volatile("movl %%gs:0, %0\\n\\tmovl %%gs:4, %1" : "=r"(first), "=r"(second));
    CHECK(first == 0x22222222u && second == 0x33333333u,
          "%%gs:0 and %%gs:4 read 0x%x and 0x%x", (unsigned)first, (unsigned)second);
#else
    __asm__ volatile("mrc p15, 0, %0, c13, c0, 3" : "=r"(first));
    second = (uint32_t)(uintptr_t)&block[1];
    CHECK(first == second, "TPIDRURO reads 0x%x, not 0x%x", (unsigned)first, (unsigned)second);
#endif
    return 0;
}

int main(void)
{
    return xtf_run(XTF_NAME, test);
}
"""

CLOBBERS = {"x86": ', "eax", "ecx", "edx", "esi", "edi"', "arm": ', "r0"'}
RULES = {"x86": X86_RULES, "arm": ARM_RULES}


def write_programs(directory: Path, arch: str) -> list[Path]:
    """The rule suite's guests: the bystander, the forged upcall frame, the thread pointer,
    one per privileged instruction and one per ignored one."""
    programs = []
    for rule in RULES[arch]:
        path = directory / f"{rule.name}.c"
        instruction = rule.instruction.replace("\n", "\\n\\t")  # lines of the asm string
        path.write_text(FAULTING.format(name=rule.name, instruction=instruction,
                                        clobbers=CLOBBERS[arch]), encoding="utf-8")
        programs.append(path)
    for name, body in IGNORED[arch].items():
        path = directory / f"{name}.c"
        path.write_text(CHECKING.format(name=name, body=body), encoding="utf-8")
        programs.append(path)
    checks = []
    for name, source in (("forged_frame", FORGED_FRAME), ("thread_pointer", THREAD_POINTER)):
        checks.append(directory / f"{name}.c")
        checks[-1].write_text(source, encoding="utf-8")
    bystander = directory / "bystander.c"
    bystander.write_text(BYSTANDER, encoding="utf-8")
    return [bystander, *checks, *programs]


QUIET = "int main(void)\n{\n    return 0;\n}\n"


@dataclass(frozen=True)
class Booted:
    arch: str
    run: Run  # every guest, each in its window, beside the bystander
    alone: Run  # the same schedule, every guest but the bystander quiet
    wall_clock: Run  # the first run again, its windows in host time


def boot_suite(arch: str, factory: pytest.TempPathFactory) -> Booted:
    if arch == "arm":
        pytest.importorskip("ziglang", reason="ARM guests need zig's clang (the arm extra)")
    sources = factory.mktemp(f"privilege_sources_{arch}")
    programs = write_programs(sources, arch)
    (sources / "quiet.c").write_text(QUIET, encoding="utf-8")
    builder = Builder(factory.mktemp(f"privilege_{arch}"), arch,
                      programs=[*programs, sources / "quiet.c"])
    names = [p.stem for p in programs]
    parts = [Part(i + 1, name, program=name, window_ms=1) for i, name in enumerate(names)]
    quiet = [parts[0], *(Part(p.identifier, p.name, program="quiet", window_ms=1)
                         for p in parts[1:])]
    image = builder.image("privileged", parts)
    return Booted(arch, builder.run(image, frames=4),
                  builder.run(builder.image("alone", quiet), frames=4),
                  builder.run(image, frames=4, wall_clock=True))


@pytest.fixture(scope="module")
def x86_suite(tmp_path_factory: pytest.TempPathFactory) -> Booted:
    return boot_suite("x86", tmp_path_factory)


@pytest.fixture(scope="module")
def arm_suite(tmp_path_factory: pytest.TempPathFactory) -> Booted:
    return boot_suite("arm", tmp_path_factory)


@pytest.fixture(params=["x86", "arm"])
def suite(request: pytest.FixtureRequest) -> Booted:
    booted: Booted = request.getfixturevalue(f"{request.param}_suite")
    return booted


def check_fault(booted: Booted, rule: Rule) -> None:
    """The rule's partition faults as the rule says, in deterministic and wall-clock time."""
    for run in (booted.run, booted.wall_clock):
        assert run.console(rule.name) == [f"*** BEGIN OF TEST {rule.name} ***"], run.stdout
        assert re.fullmatch(rf"{rule.error} \({rule.detail}\) -> PARTITION IDLE",
                            "\n".join(run.hm(rule.name))), run.hm(rule.name)
        assert run.result is not None
        summary = next(p for p in run.result.partitions if p.name == rule.name)
        assert (summary.mode, summary.restarts) == ("IDLE", 0)


@pytest.mark.parametrize("rule", X86_RULES, ids=[r.name for r in X86_RULES])
def test_x86_a_privileged_instruction_is_a_fault_for_the_health_monitor(
    x86_suite: Booted, rule: Rule,
) -> None:
    check_fault(x86_suite, rule)


@pytest.mark.parametrize("rule", ARM_RULES, ids=[r.name for r in ARM_RULES])
def test_arm_a_privileged_instruction_is_a_fault_for_the_health_monitor(
    arm_suite: Booted, rule: Rule,
) -> None:
    check_fault(arm_suite, rule)


def test_the_user_level_changes_only_what_it_may(suite: Booted) -> None:
    """What it ignores, a forged upcall frame, and the thread pointer only through the call."""
    for name in (*IGNORED[suite.arch], "forged_frame", "thread_pointer"):
        assert suite.run.console(name) == [f"*** BEGIN OF TEST {name} ***",
                                           "Test result: SUCCESS",
                                           f"*** END OF TEST {name} ***"], suite.run.stdout
        assert suite.run.hm(name) == []


def test_the_bystander_prints_what_it_prints_beside_quiet_partitions(suite: Booted) -> None:
    assert suite.run.console("bystander") == suite.alone.console("bystander")
    assert suite.run.console("bystander")[-1] == "*** END OF TEST bystander ***"
    assert suite.run.hm("bystander") == []


PRIVILEGED_X86_MNEMONICS = re.compile(
    r"\t(cli|sti|hlt|in|out|ins[bwl]?|outs[bwl]?|lgdt|lidt|lldt|ltr|lmsw|clts|wrmsr|rdmsr|"
    r"invlpg|wbinvd|invd|sysenter|sysexit|rdtsc|rdpmc|iret|popf|mov\s+%\w+,%(cr|db)\d|"
    r"mov\s+%(cr|db)\d)\b")


def test_the_runtime_uses_no_privileged_instruction(tmp_path_factory: pytest.TempPathFactory,
                                                   ) -> None:
    """The bare-metal runtime, linked into a partition, as objdump disassembles it: no
    instruction a partition may not execute (popf and iret included, which the user level
    would silently ignore in part)."""
    directory = tmp_path_factory.mktemp("runtime_x86")
    bystander = write_programs(directory, "x86")[0]
    builder = Builder(tmp_path_factory.mktemp("runtime_build"), "x86", programs=[bystander])
    disassembly = subprocess.run(["objdump", "-d", "--no-show-raw-insn", str(builder.elf)],
                                 capture_output=True, text=True, check=True).stdout
    assert "<partition_start>:" in disassembly  # the runtime is in there
    assert PRIVILEGED_X86_MNEMONICS.findall(disassembly) == []
