"""``pvgen pok-patch``: give a POK tree the kernel side of a hypercall definition.

The kernel side is generated (``pok/kernel/`` of ``pvgen gen``): the gates, the dispatch,
a handler for every hypercall over POK's own services, and the paravirtual CPU with its
x86 upcall entry. Applying it to a POK tree is three things, none of them a copy of
POK's code:

- the generated files go into the tree's ``kernel/`` (they are pvgen's own; running again
  with another definition replaces them);
- POK's kernel Makefiles gain their objects, and POK's x86 start-up installs the gates
  (``pok_hypercall_init`` after ``pok_syscall_init``);
- POK's ``update_tss``, which every trap and interrupt passes on its way back to a
  partition, calls ``pok_hypercall_return_to_partition``: the one place virtual
  interrupts are delivered.

All of it is compiled only into systems whose ``deployment.h`` defines
``POK_NEEDS_PARAVIRT`` (every ``NAME.pok/`` of such a definition), and checked there
against the system's interface fingerprint, so POK's own examples still build in a
patched tree and a system never meets a kernel side of another definition.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path, PurePosixPath

from pvgen.generate import render_templates, template_module, template_names, write_artifacts
from pvgen.model import Interface
from pvgen.pok.errors import PokError
from pvgen.source_edits import Edit, EditSet

# POK's own system calls trap there (POK_SYSCALL_INT_NUMBER): a definition that traps there
# is served by the unmodified kernel, and has no kernel side to add.
POK_SYSCALL_VECTOR = 42
NEEDS = "POK_NEEDS_PARAVIRT"
GENERATED = PurePosixPath("pok")  # the kernel side's place in `pvgen gen`'s output
SERVICES = "pok/kernel/core/_services.c.j2"  # the handlers' bodies, by hypercall

_OBJECTS = {
    Path("kernel/core/Makefile"): "hypercall.o hypercall_vcpu.o hypercall_services.o",
    Path("kernel/arch/x86/Makefile"): "hypercall.o hypercall_upcall.o",
}
_INCLUDE = f"""\
#ifdef {NEEDS} /* @MARK@ */
#include <core/hypercall.h>
#endif
"""

EDITS = (
    *(Edit(f"the objects of {path.parent}", path, r"^LO_DEPS\s*=", None, "",
           f"# @MARK@\nLO_OBJS +=\t{objects}\n", "the LO_DEPS line")
      for path, objects in _OBJECTS.items()),
    Edit("the gates' declarations", Path("kernel/arch/x86/event.c"), r"^#include", None,
         _INCLUDE, "", "an #include line"),
    Edit("the gates", Path("kernel/arch/x86/event.c"), r"^\s*pok_syscall_init\(\);", None, "",
         f"#ifdef {NEEDS} /* @MARK@ */\n  pok_hypercall_init();\n#endif\n",
         "the call of pok_syscall_init() in pok_event_init()"),
    Edit("the upcall entry's declaration", Path("kernel/arch/x86/interrupt.c"), r"^#include",
         None, _INCLUDE, "", "an #include line"),
    Edit("the upcall entry", Path("kernel/arch/x86/interrupt.c"), r"^\s*tss_set_esp0\(", None,
         "",
         f"#ifdef {NEEDS} /* @MARK@ */\n    pok_hypercall_return_to_partition(frame);\n#endif\n",
         "the call of tss_set_esp0() in update_tss()"),
)

HOOKS = EditSet(
    mark="Inserted by pvgen for its paravirtual interface", edits=EDITS,
    differs="this POK differs from the one pvgen's kernel side was written for (b2e1cc3)",
    restore="restore the file as POK has it (git checkout)", error=PokError)


def needs_kernel_side(iface: Interface) -> bool:
    """Whether systems of the definition need a patched POK: they trap elsewhere than at
    POK's own system calls."""
    x86 = iface.architecture("x86")
    return x86 is not None and iface.default_abi(x86).trap_immediate != POK_SYSCALL_VECTOR


def unserved_calls(iface: Interface) -> list[str]:
    """The definition's hypercalls POK's kernel side has no handler for (a macro each in
    SERVICES, bound by the call's name as the emulator's services are)."""
    services = template_module(SERVICES, iface)
    return [h.name for h in iface.hypercalls if not hasattr(services, h.name)]


def patch_tree(tree: Path, iface: Interface) -> list[Path]:
    """Put the definition's kernel side into the POK tree; the files written or edited."""
    if not (tree / "kernel").is_dir() or not (tree / "misc" / "mk").is_dir():
        raise PokError(f"pvgen: error: {tree}: not a POK checkout (no kernel/ and misc/mk/)")
    if not needs_kernel_side(iface):
        raise PokError(
            f"pvgen: error: {iface.source}: interface {iface.name} has no kernel side for POK: "
            + ("it has no x86 ABI" if iface.architecture("x86") is None else
               f"it traps at POK's own system-call vector {POK_SYSCALL_VECTOR}, which the "
               "unmodified kernel serves"))
    unserved = unserved_calls(iface)
    if unserved:
        raise PokError(f"pvgen: error: {iface.source}: POK has no service for the hypercall(s) "
                       f"{', '.join(unserved)} of interface {iface.name} (its services are "
                       f"{SERVICES})")
    templates = [t for t in template_names() if PurePosixPath(t).parts[:2] == ("pok", "kernel")]
    artifacts = [replace(a, path=a.path.relative_to(GENERATED))
                 for a in render_templates(iface, templates)]
    written = [path.relative_to(tree) for path in write_artifacts(artifacts, tree)]
    return sorted({*written, *HOOKS.apply(tree)})
