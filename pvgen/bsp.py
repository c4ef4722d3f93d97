"""Render the guest runtimes of pvgen/bsp_templates/ for an interface.

Two trees come out of the templates, both over the same OS-neutral drivers
(pvgen/bsp_templates/shared: console output, the per-line upcall dispatch table with
its acknowledge, the clock's tick accounting, the end of the partition, and the
ARINC 653 APEX calls over the port, partition and time hypercalls):

* ``render_rtems_bsp`` writes the paravirtual RTEMS 6 BSP ``i386/pokpv`` as a
  drop-in tree for an RTEMS checkout (``bsps/i386/pokpv``, ``spec/build/bsps/i386/pokpv``);
* ``render_baremetal`` writes the minimal runtime the example and test
  partitions link with, for one architecture, and says how to build with it.

Both trees carry the files ``pvgen gen`` generates that they compile (the guest
header and the 2013 virtualization layer), rendered here from pvgen/templates,
so a tree stands alone. The templates are package data (pvgen/bsp_templates/), so an
installed pvgen renders every file. The upcall convention the trees are built for is
pvgen.upcall.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from pvgen.arch import ARCHITECTURES
from pvgen.diagnostics import PvgenError
from pvgen.generate import (
    TEMPLATE_SUFFIX,
    Artifact,
    environment_over,
    render_template,
    render_templates,
    write_artifacts,
)
from pvgen.lang_c import c_abi_macro
from pvgen.layers import (
    APEX,
    CORE,
    PARAVIRT_LAYER,
    RTEMS_RESET,
    RTEMS_THREAD_POINTER,
    VIRTUAL_INTERRUPTS,
    Layer,
)
from pvgen.model import Abi, Interface
from pvgen.upcall import CONVENTIONS, UpcallConvention

TEMPLATE_ROOT = Path(__file__).resolve().parent / "bsp_templates"

COPYRIGHT = "Copyright (C) 2026 The pvgen authors"

# Virtual interrupt lines the runtimes have handler slots for. The RTEMS BSP's
# vectors are these lines, and RTEMS builds i386 BSPs with the family header
# bsps/i386/include/bsp/irq.h ahead of the BSP's own: its 17 vectors it is.
IRQ_LINES = 17
TIMER_LINE = 0  # the definition's virtual timer (timer_set_period)

# ARINC 653's return codes (RETURN_CODE_TYPE, fixed by ARINC) and the status code of the
# definition each one translates, by name: the APEX layer answers ARINC's numbers whatever
# the hypervisor numbers its statuses (XtratuM's are negative), and a status that names no
# ARINC code (ILLEGAL_REQUEST, UNKNOWN_HYPERCALL...) is INVALID_CONFIG.
ARINC_RETURN_CODES = (
    ("NO_ERROR", 0, "OK"), ("NO_ACTION", 1, "NO_ACTION"), ("NOT_AVAILABLE", 2, "NOT_AVAILABLE"),
    ("INVALID_PARAM", 3, "INVALID_PARAM"), ("INVALID_CONFIG", 4, "INVALID_CONFIG"),
    ("INVALID_MODE", 5, "INVALID_MODE"), ("TIMED_OUT", 6, "TIMED_OUT"),
)

# Port ids the APEX layer remembers a port's largest message for (APEX_PORT_ID_LIMIT):
# 0 .. APEX_PORT_IDS - 1. POK numbers the module's ports from 0 in one table
# (deployment.h), so every port of a module with up to this many ports has room.
APEX_PORT_IDS = 64

# What pvgen/templates contributes to both trees: the guest header and the layer.
GUEST_HEADER = "guest/{prefix}_hypercalls.h.j2"
LAYER_HEADERS = ("rtems/virtualizationlayercpu.h.j2", "rtems/virtualizationlayerbsp.h.j2")
LAYER_SOURCE = "rtems/virtualizationlayer.c.j2"
PARAVIRT_HOOKS = "rtems/paravirt_i386.c.j2"  # RTEMS_PARAVIRT on i386: the RTEMS BSP only

# --------------------------------------------------------------------------
# The RTEMS BSP
# --------------------------------------------------------------------------

RTEMS_GUEST_ARCH = "x86"
BSP_DIR = PurePosixPath("bsps/i386/pokpv")
SPEC_DIR = PurePosixPath("spec/build/bsps/i386/pokpv")
DEFAULT_PARTITION_SIZE = 0x0040_0000  # BSP_POKPV_PARTITION_SIZE unless config.ini says otherwise

# Build items of the BSP, in the order waf configures them: options before the
# linker command file that substitutes them, bspopts (which collects them) last.
RTEMS_LINKS = (
    "../../obj", "../../objirq", "../../objmem", "../../opto2", "abi", "optpartsize",
    "optresetshutdown", "start",
    "../../optgcc", "../../optclang",  # LINKCMDS_START_DIRECTIVE: STARTUP for gcc, INPUT for lld
    "linkcmds",
    "tstpokpv",  # the states of RTEMS's tests on a partition
    "../../bspopts",
)

# RTEMS's own sources the BSP builds beside its rendered ones.
RTEMS_SOURCES = (
    "bsps/shared/cache/nocache.c",  # no cache to manage from a partition
    "bsps/shared/dev/btimer/btimer-cpucounter.c",  # the timing tests' timer: the CPU counter
    "bsps/shared/dev/getentropy/getentropy-cpucounter.c",
    "bsps/shared/dev/serial/console-polled.c",  # termios over console_outbyte_polled & co.
    "bsps/shared/irq/irq-default-handler.c",
    "bsps/shared/start/bspfatal-default.c",
    "bsps/shared/start/gettargethash-default.c",
    "bsps/shared/start/sbrk.c",
)


class BspError(PvgenError):
    """The interface or the arguments do not allow rendering a runtime."""


def render_rtems_bsp(iface: Interface, out_dir: Path) -> list[Path]:
    """Write the pokpv BSP below ``out_dir``; return every file of the tree.

    ``out_dir`` is laid out like an RTEMS checkout, so copying its contents
    over one adds the BSP (configure it with ``RTEMS_PARAVIRT = True``).
    """
    _check_interface(iface, RTEMS_GUEST_ARCH,
                     needs=(VIRTUAL_INTERRUPTS, RTEMS_RESET, RTEMS_THREAD_POINTER))
    include = BSP_DIR / "include"
    artifacts = [
        *_generated(iface, include, BSP_DIR / "virt", (PARAVIRT_HOOKS,)),
        *_shared(iface, (RTEMS_GUEST_ARCH,), include, BSP_DIR / "shared"),
        *(_render(iface, name, _rtems_path(name))
          for name in _templates("rtems") if not name.startswith(f"rtems/{SPEC_DIR}/")),
    ]
    tree = [a.path for a in artifacts]
    start = BSP_DIR / "start" / "start.S"  # the start-file item builds it, not the library
    context = {
        "copyright": COPYRIGHT,
        "install": _install_groups(tree, include),
        "links": RTEMS_LINKS,
        "sources": sorted(
            [str(p) for p in tree if p.suffix in (".c", ".S") and p != start]
            + list(RTEMS_SOURCES)
        ),
        "start_source": str(start),
        "partition_size": DEFAULT_PARTITION_SIZE,
    }
    artifacts += [
        _render(iface, name, _rtems_path(name), **context)
        for name in _templates(f"rtems/{SPEC_DIR}")
    ]
    write_artifacts(artifacts, out_dir)
    return [out_dir / a.path for a in artifacts]


def _rtems_path(template: str) -> PurePosixPath:
    """pvgen/bsp_templates/rtems mirrors the RTEMS tree."""
    return PurePosixPath(template.removeprefix("rtems/").removesuffix(TEMPLATE_SUFFIX))


def _install_groups(
    tree: list[PurePosixPath], include: PurePosixPath
) -> list[tuple[str, list[str]]]:
    """The headers below include/, grouped by the directory RTEMS installs them to."""
    groups: dict[str, list[str]] = {}
    for path in sorted(p for p in tree if p.is_relative_to(include) and p.suffix == ".h"):
        below = path.parent.relative_to(include)
        destination = "${BSP_INCLUDEDIR}" + ("" if below == PurePosixPath(".") else f"/{below}")
        groups.setdefault(destination, []).append(str(path))
    return sorted(groups.items())


# --------------------------------------------------------------------------
# The bare-metal runtime
# --------------------------------------------------------------------------

# The partition's layout: macros start.S is compiled with, symbols it defines for partition.ld.
MEMORY_MACRO, MEMORY_SYMBOL = "PVRT_PARTITION_SIZE", "__pv_memory_size"
STACK_MACRO, STACK_SYMBOL = "PVRT_STACK_SIZE", "__pv_stack_size"
LAYOUT = {
    "memory_macro": MEMORY_MACRO, "memory_symbol": MEMORY_SYMBOL,
    "stack_macro": STACK_MACRO, "stack_symbol": STACK_SYMBOL,
}

# Flags every compile of a bare-metal partition needs: no host C library, no
# hidden calls into one (stack protector, unwinder personality routines),
# absolute addresses (linked at 0).
CFLAGS = (
    "-ffreestanding", "-fno-pic", "-fno-stack-protector", "-fno-unwind-tables",
    "-fno-asynchronous-unwind-tables",
)
# One segment, aligned to 4 KiB rather than the ABI's page (64 KiB on ARM): the file stays small.
LINK_FLAGS = ("-nostdlib", "-static", "-Wl,--build-id=none", "-Wl,-z,max-page-size=4096")
# gcc builds position-independent executables by default; the partition is linked at 0.
# binutils warns of the partition's one RWX segment, which is what POK loads.
ARCH_LINK_FLAGS = {"x86": ("-no-pie", "-Wl,--no-warn-rwx-segments"), "arm": ()}


@dataclass(frozen=True)
class BaremetalRuntime:
    """A rendered bare-metal runtime: what to compile and how to link a partition.

    Compile every source of ``sources`` and the program's own with ``cflags``,
    ``-I`` each of ``include_dirs`` and ``-D`` each of ``defines`` and of
    ``layout_defines(memory_size, stack_size)``, using the architecture's
    compiler; link them all with ``link_flags`` into a partition ELF linked at 0.
    (The sizes travel as defines, not as linker ``--defsym``, which zig's
    linker driver does not take.)
    """

    arch: str
    abi: str  # the hypercall ABI it was built for, as the definition names it
    sources: tuple[Path, ...]
    linker_script: Path
    include_dirs: tuple[Path, ...]
    defines: tuple[str, ...]
    cflags: tuple[str, ...]
    link_flags: tuple[str, ...]

    def layout_defines(self, memory_size: int, stack_size: int) -> tuple[str, ...]:
        """The defines that give the partition's size and its stack's (bytes) to start.S."""
        if memory_size <= 0 or memory_size % 16 or memory_size > 1 << 32:
            raise BspError(f"pvgen: error: partition size {memory_size}: a multiple of 16 "
                           f"bytes up to 4 GiB")
        if stack_size <= 0 or stack_size % 16 or stack_size >= memory_size:
            raise BspError(
                f"pvgen: error: stack size {stack_size}: a multiple of 16 bytes, less than the "
                f"partition"
            )
        return (f"{MEMORY_MACRO}={memory_size:#x}", f"{STACK_MACRO}={stack_size:#x}")


def render_baremetal(
    iface: Interface, arch: str, out_dir: Path, *, abi: str | None = None
) -> BaremetalRuntime:
    """Write the bare-metal runtime for ``arch`` below ``out_dir`` and say how to use it.

    ``abi`` names one of the definition's ABIs for ``arch``; by default the
    architecture's default ABI. The guest header is rendered into the tree's
    include directory, so the runtime needs nothing from ``pvgen gen``.
    """
    _check_interface(iface, arch)
    start = f"baremetal/arch/{arch}/start.S.j2"
    if not (TEMPLATE_ROOT / start).is_file():
        raise BspError(f"pvgen: error: the bare-metal runtime has no start code for {arch}")
    chosen = _abi(iface, arch, abi)
    include, src = PurePosixPath("include"), PurePosixPath("src")
    artifacts = [
        *_generated(iface, include, src, ()),
        *_shared(iface, (arch,), include, src),
        *(_render(iface, name, _place(name, include, src), **LAYOUT)
          for name in _templates("baremetal") if not name.startswith("baremetal/arch/")),
        _render(iface, start, src / "start.S", **LAYOUT),
    ]
    write_artifacts(artifacts, out_dir)
    script = out_dir / "partition.ld"
    return BaremetalRuntime(
        arch=arch,
        abi=chosen.name,
        sources=tuple(out_dir / a.path for a in artifacts if a.path.suffix in (".c", ".S")),
        linker_script=script,
        include_dirs=(out_dir / include,),
        defines=(c_abi_macro(chosen, iface.prefix),),
        cflags=CFLAGS,
        link_flags=(*LINK_FLAGS, *ARCH_LINK_FLAGS.get(arch, ()), "-T", str(script)),
    )


def _abi(iface: Interface, arch: str, name: str | None) -> Abi:
    architecture = iface.architecture(arch)
    assert architecture is not None  # _check_interface made sure
    if name is None:
        return iface.default_abi(architecture)
    chosen = next((a for a in iface.abis_for(architecture) if a.name == name), None)
    if chosen is None:
        raise BspError(f"pvgen: error: the definition has no ABI {name!r} for {arch}")
    return chosen


# --------------------------------------------------------------------------
# Shared by both trees
# --------------------------------------------------------------------------


def _check_interface(iface: Interface, arch: str, needs: tuple[Layer, ...] = ()) -> None:
    """The definition has an ABI for ``arch`` and every call of the core and of ``needs``."""
    if iface.architecture(arch) is None:
        raise BspError(f"pvgen: error: the definition has no hypercall ABI for {arch}")
    if arch not in CONVENTIONS:
        raise BspError(f"pvgen: error: no upcall convention for {arch} (pvgen.upcall)")
    for layer in (CORE, *needs):
        missing = layer.lacking(iface)
        if missing:
            raise BspError(f"pvgen: error: {layer.purpose} needs hypercalls the definition "
                           f"lacks: {missing}")


def _generated(
    iface: Interface, include: PurePosixPath, src: PurePosixPath, extra_sources: tuple[str, ...]
) -> list[Artifact]:
    """The guest header and the virtualization layer from pvgen/templates, moved into a tree."""
    headers = render_templates(iface, (GUEST_HEADER, *LAYER_HEADERS))
    layer = () if PARAVIRT_LAYER.lacking(iface) else (LAYER_SOURCE,)
    sources = render_templates(iface, (*layer, *extra_sources))
    return [
        *(Artifact(a.template, include / a.path.name, a.content) for a in headers),
        *(Artifact(a.template, src / a.path.name, a.content) for a in sources),
    ]


def _shared(
    iface: Interface, archs: tuple[str, ...], include: PurePosixPath, src: PurePosixPath
) -> list[Artifact]:
    """pvgen/bsp_templates/shared: the header into ``include``, the C into ``src``."""
    conventions = [_ConventionView(ARCHITECTURES[a].c_predefine, CONVENTIONS[a]) for a in archs]
    codes = [_ArincCode(arinc, value, status) for arinc, value, status in ARINC_RETURN_CODES]
    translations = [c for c in codes if iface.status.member(c.status) is not None]
    name_bytes = None if APEX.lacking(iface) else _port_name_bytes(iface)
    return [
        _render(iface, name, _place(name, include, src), conventions=conventions,
                apex_port_ids=APEX_PORT_IDS, apex_name_bytes=name_bytes,
                arinc_return_codes=codes, arinc_translations=translations)
        for name in _templates("shared")
        if not (name in _LAYER_SOURCES and _LAYER_SOURCES[name].lacking(iface))
    ]


# The shared sources of a layer: left out of a runtime whose definition lacks its calls
# (their headers stay, and say why, see pvgen.layers).
_LAYER_SOURCES = {
    "shared/pvrt_irq.c.j2": VIRTUAL_INTERRUPTS,
    "shared/pvrt_clock.c.j2": VIRTUAL_INTERRUPTS,
    "shared/apex.c.j2": APEX,
}


@dataclass(frozen=True)
class _ArincCode:
    """One ARINC return code, for the templates: its value and the status it translates."""

    arinc: str
    value: int
    status: str


def _port_name_bytes(iface: Interface) -> int:
    """The room, terminator included, the APEX layer's calls give a port name (``[nul N]``)."""
    sizes = [
        p.length.count for h in iface.hypercalls if h.name in APEX.calls
        for p in h.params if p.is_string and p.length is not None
    ]
    if not sizes:
        raise BspError("pvgen: error: the port calls of the APEX layer take no name "
                       "([nul N] string)")
    return min(sizes)


def _place(template: str, include: PurePosixPath, src: PurePosixPath) -> PurePosixPath:
    """Headers go to ``include``, C and assembly to ``src``, anything else to the top."""
    path = PurePosixPath(template.removesuffix(TEMPLATE_SUFFIX))
    if path.suffix == ".h":
        return include / path.name
    if path.suffix in (".c", ".S"):
        return src / path.name
    return PurePosixPath(path.name)


@dataclass(frozen=True)
class _ConventionView:
    """An upcall convention with the macro its compiler predefines, for the templates."""

    predefine: str
    convention: UpcallConvention


def _templates(directory: str) -> list[str]:
    """The templates below pvgen/bsp_templates/<directory>, partials (``_*``) left out, sorted."""
    root = TEMPLATE_ROOT / directory
    return sorted(
        str(PurePosixPath(directory) / p.relative_to(root).as_posix())
        for p in root.rglob(f"*{TEMPLATE_SUFFIX}")
        if not p.name.startswith("_")
    )


def _render(iface: Interface, template: str, path: PurePosixPath, **context: object) -> Artifact:
    return render_template(
        environment_over(TEMPLATE_ROOT), template, iface, path,
        irq_lines=IRQ_LINES, timer_line=TIMER_LINE, **context,
    )
