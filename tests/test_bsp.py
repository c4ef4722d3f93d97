"""The guest runtimes of pvgen/bsp_templates/, rendered by pvgen.bsp.

The RTEMS tree is checked against every file and symbol that
../shared/reference/rtems-bsp.md lists, its build items against the keys
RTEMS's build system reads, and what of it needs no RTEMS header is compiled
(and its start code and linker command file run on Unicorn). The bare-metal
runtime is built for x86 (gcc -m32) and ARM (zig cc) with a small test program
and run on Unicorn through the generated dispatcher, upcalls delivered as
pvgen.upcall says.
"""

from __future__ import annotations

import re
import string
import subprocess
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from pvgen import bsp
from pvgen.bsp import BaremetalRuntime, BspError, render_baremetal, render_rtems_bsp
from pvgen.definition import load, load_text
from pvgen.lang_c import c_abi_macro
from pvgen.model import Abi, Interface
from pvgen.upcall import CONVENTIONS, RETURN_ADDRESS
from tests.cc import FOR_ARCH, GCC_X86, STRICT, Compiler
from tests.conftest import DEFINITION
from tests.guest_harness import GARBAGE, PartitionRun
from tests.pydispatch import load_dispatcher

BSP = Path("bsps/i386/pokpv")
SPEC = Path("spec/build/bsps/i386/pokpv")
MEMORY = 0x10000
STACK = 0x1000
PERIOD = 10_000_000  # ns, the test program's clock
IDLE_PERIODS = 3  # timer periods that pass (unseen by the partition) each time it idles


# Every ABI of the definition on an architecture with an upcall convention.
ABI_CASES = [
    pytest.param(abi.name, id=abi.name)
    for abi in load(DEFINITION).abis if abi.arch.name in CONVENTIONS
]


@pytest.fixture(scope="module")
def rtems_tree(interface: Interface, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("rtems")
    render_rtems_bsp(interface, out)
    return out


@pytest.fixture(scope="module")
def dispatch(interface: Interface, tmp_path_factory: pytest.TempPathFactory) -> ModuleType:
    return load_dispatcher(interface, tmp_path_factory.mktemp("dispatch"))


# ==========================================================================
# The RTEMS tree against rtems-bsp.md
# ==========================================================================


def _strip_comments(text: str) -> str:
    return re.sub(r"/\*.*?\*/", " ", text, flags=re.DOTALL)


def _defined_functions(text: str) -> dict[str, str]:
    """Every function a C text defines, with its body: a name, its (parameters), then {...}."""
    code = _strip_comments(text)
    functions = {}
    for match in re.finditer(r"\b([A-Za-z_]\w*)\s*\(", code):
        depth, i = 1, match.end()
        while depth and i < len(code):
            depth += {"(": 1, ")": -1}.get(code[i], 0)
            i += 1
        rest = code[i:].lstrip()
        if rest.startswith("{") and match.group(1) not in ("if", "while", "for", "switch"):
            depth, end = 0, 0
            while end == 0 or depth:
                depth += {"{": 1, "}": -1}.get(rest[end], 0)
                end += 1
            functions[match.group(1)] = rest[:end]
    return functions


def _tree_text(tree: Path, suffixes: Sequence[str]) -> str:
    return "\n".join(
        p.read_text() for p in sorted((tree / BSP).rglob("*")) if p.suffix in suffixes
    )


def test_rtems_tree_has_every_file_of_the_layout(rtems_tree: Path) -> None:
    bsp_dir = rtems_tree / BSP
    for name in ("include/bsp.h", "include/bsp/irq.h", "include/tm27.h", "start/start.S",
                 "start/bspstart.c", "start/bspreset.c"):
        assert (bsp_dir / name).is_file(), name
    for directory in ("console", "clock", "irq"):
        assert list((bsp_dir / directory).glob("*.c")), f"no C source in {directory}/"
    spec = rtems_tree / SPEC
    for name in ("bsppokpv.yml", "abi.yml"):
        assert (spec / name).is_file(), name
    items = {p.name: yaml.safe_load(p.read_text()) for p in spec.glob("*.yml")}
    assert any(i["build-type"] == "start-file" and i["target"] == "start.o" for i in items.values())
    assert any(i["build-type"] == "config-file" for i in items.values())
    assert any(name.startswith("opt") for name in items)


def test_rtems_tree_defines_every_symbol_a_bsp_provides(rtems_tree: Path) -> None:
    functions = _defined_functions(_tree_text(rtems_tree, (".c",)))
    required = {
        # start-up and reset
        "bsp_start", "bsp_reset",
        # interrupts (bsps/include/bsp/irq-generic.h) and the i386 dispatch entry
        "bsp_interrupt_facility_initialize", "bsp_interrupt_get_attributes",
        "bsp_interrupt_vector_is_enabled", "bsp_interrupt_vector_enable",
        "bsp_interrupt_vector_disable", "bsp_interrupt_is_pending", "bsp_interrupt_raise",
        "bsp_interrupt_clear", "bsp_interrupt_get_priority", "bsp_interrupt_set_priority",
        "BSP_dispatch_isr",
        # the polled console
        "console_initialize_hardware", "console_outbyte_polled", "console_inbyte_nonblocking",
        # RTEMS_PARAVIRT on i386
        "i386_disable_interrupts", "i386_enable_interrupts", "i386_flash_interrupts",
        "i386_set_interrupt_level", "i386_get_interrupt_level",
    }
    assert required <= functions.keys(), required - functions.keys()

    console = _strip_comments((rtems_tree / BSP / "console/console.c").read_text())
    for name in ("BSP_output_char", "BSP_poll_char"):
        assert re.search(rf"^\w+ {name} = \w+;$", console, re.MULTILINE), name


def test_rtems_headers_say_what_rtems_needs(rtems_tree: Path) -> None:
    include = rtems_tree / BSP / "include"
    bsp_h = (include / "bsp.h").read_text()
    assert "#include <bspopts.h>" in bsp_h
    assert "#include <bsp/default-initial-extension.h>" in bsp_h
    idle = re.search(r"^#define BSP_IDLE_TASK_BODY (\w+)$", bsp_h, re.MULTILINE)
    assert idle is not None
    idle_body = _defined_functions(_tree_text(rtems_tree, (".c",)))[idle.group(1)]
    assert "pv_idle()" in idle_body  # the idle hypercall, not hlt
    assert "pokpv_console_flush()" in idle_body  # a buffered line leaves before it sleeps
    irq_h = (include / "bsp/irq.h").read_text()
    assert re.search(rf"^#define BSP_INTERRUPT_VECTOR_COUNT {bsp.IRQ_LINES}$", irq_h, re.M)
    assert "#include <rtems/tm27-default.h>" in (include / "tm27.h").read_text()


def test_rtems_dispatch_entry_ends_in_the_generic_dispatch(rtems_tree: Path) -> None:
    """BSP_dispatch_isr → pvrt_irq_dispatch → line handler → bsp_interrupt_handler_dispatch."""
    functions = _defined_functions(_tree_text(rtems_tree, (".c",)))
    assert "pvrt_irq_dispatch(" in functions["BSP_dispatch_isr"]
    assert "BSP_dispatch_isr(" in functions["pokpv_upcall"]
    assert functions["pokpv_upcall"].rstrip("} \n").endswith("pv_irq_return();")
    handler = re.search(r"pvrt_irq_attach\(\(uint32_t\)vector, (\w+), NULL\)",
                        functions["bsp_interrupt_vector_enable"])
    assert handler is not None
    assert "bsp_interrupt_handler_dispatch(" in functions[handler.group(1)]
    assert "pvrt_upcall_register(pokpv_upcall)" in functions["bsp_start"]


def test_rtems_clock_driver_follows_clockimpl(rtems_tree: Path) -> None:
    clock = _strip_comments((rtems_tree / BSP / "clock/clock.c").read_text())
    for macro in ("Clock_driver_support_initialize_hardware", "Clock_driver_support_install_isr"):
        assert re.search(rf"^#define {macro}\(", clock, re.MULTILINE), macro
    include = clock.index('#include "../../../shared/dev/clock/clockimpl.h"')
    assert include > clock.index("#define Clock_driver_support_install_isr")
    has_timecounter = "rtems_timecounter_install(" in clock
    assert has_timecounter or "#define CLOCK_DRIVER_USE_DUMMY_TIMECOUNTER" in clock
    assert "VIRTUAL_TIMER_LINE" in clock  # the vector of the definition's timer


# ==========================================================================
# The RTEMS build items
# ==========================================================================

COMMON_KEYS = {"SPDX-License-Identifier", "build-type", "copyrights", "enabled-by", "links", "type"}
KEYS_BY_BUILD_TYPE = {
    "bsp": {"arch", "bsp", "cflags", "cppflags", "family", "includes", "install", "source"},
    "option": {"actions", "default", "description"},  # and a name, if it gets a value
    "start-file": {"asflags", "cppflags", "includes", "install-path", "source", "target"},
    "config-file": {"content", "install-path", "target"},
}
# The build items of RTEMS itself (spec/build/bsps/) that the BSP links to.
RTEMS_ITEMS = {"obj", "objirq", "objmem", "opto2", "optgcc", "optclang", "bspopts"}


def _items(tree: Path) -> dict[str, dict[str, Any]]:
    return {p.stem: yaml.safe_load(p.read_text()) for p in sorted((tree / SPEC).glob("*.yml"))}


def test_every_build_item_parses_with_the_keys_of_its_build_type(rtems_tree: Path) -> None:
    for name, item in _items(rtems_tree).items():
        keys = COMMON_KEYS | KEYS_BY_BUILD_TYPE[str(item["build-type"])]
        assert keys <= item.keys(), (name, keys - item.keys())
        assert item["type"] == "build" and item["enabled-by"] is True
        assert item["SPDX-License-Identifier"] == "CC-BY-SA-4.0 OR BSD-2-Clause"
        assert isinstance(item["copyrights"], list) and item["copyrights"]
        if item["build-type"] == "option":
            defaults = item["default"]
            assert isinstance(defaults, list)
            assert all(d.keys() == {"enabled-by", "value"} for d in defaults), name
            actions = [next(iter(a)) for a in item["actions"]]
            assert "name" in item or not any(a.startswith("get-") for a in actions), name
            assert "format-and-define" not in actions or "format" in item, name


def test_the_bsp_item_names_what_the_tree_holds(rtems_tree: Path) -> None:
    items = _items(rtems_tree)
    (name, top), = ((n, i) for n, i in items.items() if i["build-type"] == "bsp")
    assert name == "bsppokpv"
    assert (top["arch"], top["bsp"], top["family"]) == ("i386", "pokpv", "pokpv")
    links = [link["uid"] for link in top["links"]]
    for uid in links:
        local = uid.removeprefix("../../")
        assert (local in RTEMS_ITEMS) if uid.startswith("../../") else (uid in items), uid
    assert {"../../obj", "../../objirq", "../../objmem", "../../opto2", "abi", "start",
            "linkcmds", "../../bspopts"} <= set(links)
    # waf configures links in order: options before the linker command file that uses them.
    content = str(items["linkcmds"]["content"])
    for option, item in items.items():
        if item["build-type"] == "option" and f"${{{item.get('name')}}}" in content:
            assert links.index(option) < links.index("linkcmds"), option
    assert links[-1] == "../../bspopts"
    for source in top["source"]:
        assert (rtems_tree / source).is_file() or source.startswith("bsps/shared/"), source
    rendered = {str(p.relative_to(rtems_tree)) for p in (rtems_tree / BSP).rglob("*")
                if p.suffix in (".c", ".S")}
    assert rendered - set(top["source"]) == {str(BSP / "start/start.S")}
    installed = {f for group in top["install"] for f in group["source"]}
    headers = {str(p.relative_to(rtems_tree)) for p in (rtems_tree / BSP).rglob("*.h")}
    assert installed == headers
    assert items["start"]["source"] == [str(BSP / "start/start.S")]


def _linkcmds(tree: Path, partition_size: int) -> str:
    """The linker command file as waf writes it for gcc: the options substituted (RTEMS's
    optgcc item sets LINKCMDS_START_DIRECTIVE)."""
    content = str(_items(tree)["linkcmds"]["content"])
    return string.Template(content).substitute(BSP_POKPV_PARTITION_SIZE=str(partition_size),
                                               LINKCMDS_START_DIRECTIVE="STARTUP")


def test_linker_command_file_defines_the_work_area(rtems_tree: Path) -> None:
    content = _linkcmds(rtems_tree, MEMORY)
    for symbol in ("WorkAreaBase", "RamEnd"):
        assert re.search(rf"^\s*{symbol} = ", content, re.MULTILINE), symbol


# ==========================================================================
# The RTEMS C that needs no RTEMS header: compiled, and the start code run
# ==========================================================================

RTEMS_HEADER = re.compile(r'#include\s+(<(bsp|rtems|bspopts)[^>]*>|"\.\./)')


def _freestanding_sources(tree: Path) -> list[Path]:
    return sorted(
        p for p in (tree / BSP).rglob("*")
        if p.suffix in (".c", ".S") and not RTEMS_HEADER.search(p.read_text())
    )


def test_rtems_c_without_rtems_headers_compiles(rtems_tree: Path, tmp_path: Path) -> None:
    sources = _freestanding_sources(rtems_tree)
    names = {str(p.relative_to(rtems_tree / BSP)) for p in sources}
    templates = (bsp.TEMPLATE_ROOT / "shared").glob("*.c.j2")
    shared = {f"shared/{p.name.removesuffix('.j2')}" for p in templates}
    assert shared and shared <= names  # the drivers the bare-metal runtime shares
    assert {"virt/paravirt_i386.c", "virt/virtualizationlayer.c", "start/start.S",
            "irq/upcall.S"} <= names
    for source in sources:
        GCC_X86.compile(source, tmp_path / f"{source.stem}.o",
                        includes=(rtems_tree / BSP / "include",))


STUB_BOOT_CARD = r"""
#include "pv_hypercalls.h"
/* RTEMS's interrupt stack area, as confdefs.h places it. */
__attribute__((section(".rtemsstack.interrupt.begin"))) char stub_isr_stack[1024];
__attribute__((section(".rtemsstack.interrupt.end"))) char _ISR_Stack_area_end[1];
static volatile unsigned zeroed[8];
void boot_card(const char *cmdline);
/* start.S's counter entries jump to these (clock/cpucounter.c, which needs RTEMS). */
unsigned pokpv_cpu_counter_read(void);
unsigned pokpv_cpu_counter_frequency(void);
unsigned pokpv_cpu_counter_read(void) { return 0u; }
unsigned pokpv_cpu_counter_frequency(void) { return 1u; }
void boot_card(const char *cmdline)
{
    static const char ok[] = "boot_card(NULL), .bss clear\n";
    unsigned i, any = 0u;
    for (i = 0u; i < 8u; ++i) {
        any |= zeroed[i];
    }
    if (cmdline == 0 && any == 0u) {
        (void)pv_console_write((const uint8_t *)ok, sizeof ok - 1u);
    }
    pv_shutdown();
}
"""


def test_rtems_start_code_and_linker_file_boot_on_unicorn(
    interface: Interface, rtems_tree: Path, dispatch: ModuleType, tmp_path: Path
) -> None:
    """start.S at address 0 sets the interrupt stack, clears .bss and calls boot_card(NULL)."""
    script = tmp_path / "linkcmds"
    script.write_text(_linkcmds(rtems_tree, MEMORY))
    stub = tmp_path / "stub.c"
    stub.write_text(STUB_BOOT_CARD)
    elf = tmp_path / "rtems.elf"
    include = ("-I", str(rtems_tree / BSP / "include"))
    # the linker command file names start.o (STARTUP), found on the library path, as RTEMS
    # installs it beside the BSP's library
    _link(GCC_X86, [rtems_tree / BSP / "start/start.S"], tmp_path / "start.o", (*include, "-c"))
    _link(GCC_X86, [stub], elf, (*include, "-nostdlib", "-static", "-no-pie",
                                 "-Wl,--no-warn-rwx-segments", "-L", str(tmp_path),
                                 "-T", str(script)))
    run = PartitionRun(_abi(interface, None, "x86"), dispatch, elf, MEMORY)
    assert run.entry == run.symbols["_start"] == 0
    assert run.symbols["bsp_section_bss_begin"] < run.symbols["WorkAreaBase"]
    assert run.symbols["WorkAreaBase"] <= run.symbols["RamEnd"] == MEMORY
    run.run()
    assert bytes(run.console) == b"boot_card(NULL), .bss clear\n"
    assert run.ended == ("shutdown", 0)
    assert run.trap_sps[0] < run.symbols["_ISR_Stack_area_end"]


# ==========================================================================
# The bare-metal runtime
# ==========================================================================

HELLO = r"""
#include "partition.h"

/* Never written: volatile, or the compiler would know it is zero without looking. */
volatile uint32_t untouched[16];

int main(void)
{
    uint32_t any = 0u;
    unsigned i;
    int local = 0;

    for (i = 0u; i < 16u; ++i) {
        any |= untouched[i];
    }
    console_printf("*** BEGIN OF TEST %s ***\n", "hello");
    console_printf("bss %u\n", (unsigned)any);
    console_printf("stack %x\n", (unsigned)(uintptr_t)&local);
    console_printf("fmt %d|%05d|%4d|%08x|%x|%u|%c|%%|%s|%3s\n",
                   -42, -7, 42, 0xbeefu, 0u, 4294967295u, 'z', "str", "s");
    (void)clock_start(PERIOD);
    (void)pv_irq_enable();
    while (clock_ticks() == 0u) {
        (void)pv_idle();
    }
    console_printf("ticks %u\n", (unsigned)clock_ticks());
    console_puts("*** END OF TEST hello ***\n");
    return 0;
}
""".replace("PERIOD", f"{PERIOD}u")


def _abi(interface: Interface, name: str | None, arch: str) -> Abi:
    """The ABI called ``name``, or the default ABI of ``arch``."""
    if name is not None:
        return next(a for a in interface.abis if a.name == name)
    architecture = interface.architecture(arch)
    assert architecture is not None
    return interface.default_abi(architecture)


def _link(compiler: Compiler, sources: Sequence[Path], elf: Path, flags: Sequence[str]) -> None:
    args = [*compiler.command, *STRICT, *flags, *map(str, sources), "-o", str(elf)]
    result = subprocess.run(args, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise AssertionError(f"{compiler.name}:\n{' '.join(args)}\n{result.stderr}")


def build_partition(
    runtime: BaremetalRuntime, program: str, work: Path, memory: int = MEMORY,
    stack: int = STACK,
) -> Path:
    """Compile and link a program with the runtime, exactly as BaremetalRuntime says."""
    source = work / "program.c"
    source.write_text(program)
    elf = work / "partition.elf"
    flags = [
        *runtime.cflags,
        *(f"-I{d}" for d in runtime.include_dirs),
        *(f"-D{d}" for d in (*runtime.defines, *runtime.layout_defines(memory, stack))),
        *runtime.link_flags,
    ]
    _link(FOR_ARCH[runtime.arch], [*runtime.sources, source], elf, flags)
    return elf


def _run(
    interface: Interface, abi_name: str | None, arch: str, program: str, dispatch: ModuleType,
    work: Path,
) -> PartitionRun:
    abi = _abi(interface, abi_name, arch)
    runtime = render_baremetal(interface, arch, work / "runtime", abi=abi.name)
    assert runtime.abi == abi.name
    assert runtime.defines == (c_abi_macro(abi, interface.prefix),)
    run = PartitionRun(abi, dispatch, build_partition(runtime, program, work), MEMORY,
                       idle_periods=IDLE_PERIODS)
    try:
        run.run()
    except Exception:
        if abi.trap.mnemonic == "hvc" and not run.calls:
            pytest.skip("Unicorn does not deliver 'hvc' from this mode")
        raise
    return run


@pytest.mark.parametrize("abi_name", ABI_CASES)
def test_baremetal_hello_runs_with_its_clock_on_upcalls(
    interface: Interface, dispatch: ModuleType, tmp_path: Path, abi_name: str
) -> None:
    arch = next(a.arch.name for a in interface.abis if a.name == abi_name)
    run = _run(interface, abi_name, arch, HELLO, dispatch, tmp_path)
    stack = re.search(rb"^stack ([0-9a-f]+)$", run.console, re.MULTILINE)
    assert stack is not None
    assert bytes(run.console) == (
        b"*** BEGIN OF TEST hello ***\n"
        b"bss 0\n"
        b"stack " + stack.group(1) + b"\n"
        b"fmt -42|-0007|  42|0000beef|0|4294967295|z|%|str|  s\n"
        b"ticks 3\n"
        b"*** END OF TEST hello ***\n"
    )
    # .bss was garbage when the program started, and start.S cleared it.
    assert run.read32(run.symbols["untouched"]) == 0
    assert run.uc.mem_read(run.symbols["__bss_end"], 1)[0] == GARBAGE  # only .bss
    # The stack is the top of the partition.
    assert MEMORY - 256 < run.trap_sps[0] < MEMORY
    assert MEMORY - STACK <= int(stack.group(1), 16) < MEMORY
    # Returning from main set the partition mode IDLE.
    assert run.ended == ("partition_set_mode", 0)

    # The upcall path: registered, the vCPU area shared, entered with line 0, the shared
    # clock counted the periods that passed from the area's tick count (no hypercall), the
    # line acknowledged, irq_return restored the context.
    names = [name for name, _ in run.calls]
    assert run.calls[0] == ("vcpu_register", (run.symbols["partition_upcall"],))
    assert run.calls[1] == ("vcpu_share", (run.symbols["pvrt_vcpu_area"],))
    assert names.index("irq_request") < names.index("timer_set_period")  # no tick unrequested
    assert ("timer_set_period", (PERIOD,)) in run.calls
    assert ("irq_request", (0,)) in run.calls and ("irq_unmask", (0,)) in run.calls
    assert [line for line, _ in run.deliveries] == [0]
    delivered = names.index("idle") + 1
    assert names[delivered:delivered + 2] == ["irq_ack", "irq_return"]
    assert not run.vcpu.frames and not run.vcpu.in_service
    # clock_ticks() disables and restores interrupts around its read: on the fast path.
    assert "irq_disable" not in names and "irq_set_level" not in names


@pytest.mark.parametrize("arch", ["x86", "arm"])
def test_baremetal_nonzero_exit_stops_with_the_code(
    interface: Interface, dispatch: ModuleType, tmp_path: Path, arch: str
) -> None:
    run = _run(interface, None, arch, '#include "partition.h"\nint main(void) { return 7; }\n',
               dispatch, tmp_path)
    assert run.ended == ("stop", 7)


@pytest.mark.parametrize("arch", ["x86", "arm"])
def test_baremetal_program_overlapping_the_stack_does_not_link(
    interface: Interface, tmp_path: Path, arch: str
) -> None:
    runtime = render_baremetal(interface, arch, tmp_path / "runtime")
    with pytest.raises(AssertionError, match="overlaps the stack"):
        build_partition(runtime, HELLO, tmp_path, memory=0x1000, stack=0x800)


def test_start_code_refuses_to_build_without_a_layout(
    interface: Interface, tmp_path: Path
) -> None:
    runtime = render_baremetal(interface, "x86", tmp_path)
    start = next(s for s in runtime.sources if s.name == "start.S")
    with pytest.raises(AssertionError, match="PVRT_PARTITION_SIZE"):
        GCC_X86.compile(start, tmp_path / "start.o")


@pytest.mark.parametrize("arch", ["x86", "arm"])
def test_c_upcall_frame_is_the_convention(
    interface: Interface, tmp_path: Path, arch: str
) -> None:
    """The struct the runtimes are compiled with has each register where pvgen.upcall says."""
    runtime = render_baremetal(interface, arch, tmp_path / "runtime")
    convention = CONVENTIONS[arch]
    checks = "".join(
        f"PV_ASSERT(at_{r}, __builtin_offsetof(pvrt_upcall_frame, {r}) == {c.offset(r)});\n"
        for c in [convention] for r in c.frame_registers
    )
    probe = tmp_path / "probe.c"
    probe.write_text(f'#include "pvrt.h"\n{checks}')
    FOR_ARCH[arch].compile(probe, tmp_path / "probe.o", includes=runtime.include_dirs,
                           defines=runtime.defines)


def test_layout_defines_check_the_sizes(interface: Interface, tmp_path: Path) -> None:
    runtime = render_baremetal(interface, "x86", tmp_path)
    assert runtime.layout_defines(0x10000, 0x1000) == (
        "PVRT_PARTITION_SIZE=0x10000", "PVRT_STACK_SIZE=0x1000")
    for memory, stack in ((0x10000, 0x10000), (0x10008, 0x1000), (0x10000, 0), (0, 16)):
        with pytest.raises(BspError):
            runtime.layout_defines(memory, stack)


def test_runtimes_refuse_what_the_definition_cannot_give(
    interface: Interface, tmp_path: Path
) -> None:
    with pytest.raises(BspError, match="no ABI 'svc_arm' for x86"):
        render_baremetal(interface, "x86", tmp_path, abi="svc_arm")
    with pytest.raises(BspError, match="no hypercall ABI for riscv32"):
        render_baremetal(interface, "riscv32", tmp_path)
    text = DEFINITION.read_text()
    without_idle = re.sub(r"hypercall idle = 40 .*?\n}\n", "", text, flags=re.DOTALL)
    assert without_idle != text
    with pytest.raises(BspError, match="'idle'"):
        render_rtems_bsp(load_text(without_idle), tmp_path)


def test_rendering_is_deterministic_and_rewrites_nothing_unchanged(
    interface: Interface, rtems_tree: Path, tmp_path: Path
) -> None:
    again = tmp_path / "again"
    files = render_rtems_bsp(interface, again)
    assert sorted(p.relative_to(again) for p in files) == sorted(
        p.relative_to(rtems_tree) for p in rtems_tree.rglob("*") if p.is_file())
    for path in files:
        assert path.read_bytes() == (rtems_tree / path.relative_to(again)).read_bytes()
    before = {p: p.stat().st_mtime_ns for p in files}
    render_rtems_bsp(interface, again)
    assert {p: p.stat().st_mtime_ns for p in files} == before


# ==========================================================================
# The upcall convention itself
# ==========================================================================


@pytest.mark.parametrize("arch", sorted(CONVENTIONS))
@given(sp=st.integers(min_value=0x1000, max_value=0xFFFF_FFFF), line=st.integers(0, 255))
def test_upcall_entry_is_a_call_below_the_interrupted_stack(arch: str, sp: int, line: int) -> None:
    c = CONVENTIONS[arch]
    entry = c.enter(sp, line)
    # The frame and the call sit below the scratch bytes a guest may push into.
    assert entry.frame + c.frame_size <= sp - c.scratch
    assert entry.stack_pointer <= entry.frame
    assert sp - entry.stack_pointer < c.scratch + c.frame_size + 12 + 2 * c.stack_alignment
    # The handler starts as if called as handler(line, frame) with an aligned stack.
    assert (entry.stack_pointer + c.call_bias) % c.stack_alignment == 0
    if c.argument_registers:
        assert entry.registers == {"r0": line, "r1": entry.frame, "lr": RETURN_ADDRESS}
        assert entry.stack_words == ()
    else:
        assert entry.stack_words == (
            (entry.stack_pointer, RETURN_ADDRESS), (entry.stack_pointer + 4, line),
            (entry.stack_pointer + 8, entry.frame))
        assert entry.frame == entry.stack_pointer + 12
