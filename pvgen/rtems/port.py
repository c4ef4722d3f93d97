"""What RTEMS 6's i386 port needs to run in a partition, as RTEMS_PARAVIRT hooks.

The port already has the hook pattern: with RTEMS_PARAVIRT, ``<rtems/score/paravirt.h>``
defines ``I386_DISABLE_INLINE_ISR_DISABLE_ENABLE`` and the port calls the BSP's
``i386_disable_interrupts`` & co. instead of ``cli``/``sti``. Two things the port does on
a thread switch (``_CPU_Context_switch`` in ``cpu_asm.S``) a partition cannot do:

* keep each thread's interrupt level in its EFLAGS: ``pushf`` and ``popf`` save and
  restore IF, which at the user level the CPU neither shows nor changes, while the level
  that counts is the partition's virtual one;
* write the thread's thread-local storage segment into the GDT and load ``%gs`` with it
  (also for the idle thread, ``_CPU_Use_thread_local_storage`` in ``cpuimpl.h``): a
  partition has no GDT of its own.

So ``paravirt.h`` gains ``I386_PARAVIRT_CONTEXT``, and under it the port calls the BSP:
``_CPU_Paravirt_Context_save(running)`` after saving EFLAGS (the virtual level goes into
the saved IF bit), ``_CPU_Paravirt_Context_restore(heir)`` instead of the GDT write and
``%gs`` load (the level from IF, the thread pointer with the ``thread_pointer_set``
hypercall) and ``_CPU_Paravirt_Use_thread_local_storage(context)`` for the idle thread
(bsp_templates' ``start/paravirt-context.c``).

``apply_hooks`` makes these edits in an RTEMS tree (``pvgen.source_edits``: pvgen's own
lines at anchors found by pattern; the port's text is not copied).
"""

from __future__ import annotations

from pathlib import Path

from pvgen.diagnostics import PvgenError
from pvgen.source_edits import Edit, EditSet

MACRO = "I386_PARAVIRT_CONTEXT"
MARK = "Inserted by pvgen for the pokpv BSP"
PORT = Path("cpukit/score/cpu/i386")


class PortError(PvgenError):
    """RTEMS's i386 port is not as the paravirtualization hooks expect it."""


EDITS = (
    Edit(
        "the hooks", PORT / "include/rtems/score/paravirt.h",
        r"^#define\s+I386_DISABLE_INLINE_ISR_DISABLE_ENABLE\b", None, "",
        """
/*
 * @MARK@: a partition can neither change
 * EFLAGS.IF nor install a segment in the GDT, so on a thread switch the BSP
 * keeps the thread's virtual interrupt level in its saved EFLAGS.IF
 * (_CPU_Paravirt_Context_save(), _CPU_Paravirt_Context_restore()) and sets
 * its thread pointer through the hypervisor (_CPU_Paravirt_Context_restore(),
 * _CPU_Paravirt_Use_thread_local_storage()).
 */
#define I386_PARAVIRT_CONTEXT
""",
        "the definition of I386_DISABLE_INLINE_ISR_DISABLE_ENABLE"),
    Edit(
        "the thread pointer", PORT / "include/rtems/score/cpuimpl.h",
        r"^static inline void _CPU_Use_thread_local_storage\(",
        (r"_CPU_Get_TLS_thread_pointer\(", r"^}"), """\
#if defined(I386_PARAVIRT_CONTEXT)
/*
 * @MARK@: see paravirt.h. The thread pointer is
 * the base of the thread's thread-local storage segment (not the address of
 * its descriptor), which the hypervisor makes the base of %gs.
 */
void _CPU_Paravirt_Context_save( Context_Control *running );
void _CPU_Paravirt_Context_restore( const Context_Control *heir );
void _CPU_Paravirt_Use_thread_local_storage( const Context_Control *context );

static inline void _CPU_Use_thread_local_storage(
  const Context_Control *context
)
{
  _CPU_Paravirt_Use_thread_local_storage( context );
}

static inline void *_CPU_Get_TLS_thread_pointer(
  const Context_Control *context
)
{
  return (void *) ( (uintptr_t) context->gs.base_address_15_0
    | (uintptr_t) context->gs.base_address_23_16 << 16
    | (uintptr_t) context->gs.base_address_31_24 << 24 );
}
#else
""",
        "#endif /* I386_PARAVIRT_CONTEXT */\n",
        "the definitions of _CPU_Use_thread_local_storage() and _CPU_Get_TLS_thread_pointer()"),
    Edit(
        "the saved interrupt level", PORT / "cpu_asm.S",
        r"^\s*popl\s+REG_EFLAGS\(eax\)", None, "", """\
#if defined(I386_PARAVIRT_CONTEXT)
        /* @MARK@: see paravirt.h */
        pushl     edx
        pushl     ecx
        pushl     eax                      /* the running thread's context */
        call      SYM (_CPU_Paravirt_Context_save)
        popl      eax
        popl      ecx
        popl      edx
#endif
""",
        "the save of EFLAGS in _CPU_Context_switch"),
    Edit(
        "the heir's level and thread pointer", PORT / "cpu_asm.S",
        r"^\s*GET_CPU_ID\s+ecx\s*$", r"^\s*movl\s+edx\s*,\s*gs\s*$", """\
#if defined(I386_PARAVIRT_CONTEXT)
        /* @MARK@: see paravirt.h */
        pushl     eax                      /* the heir's context */
        call      SYM (_CPU_Paravirt_Context_restore)
        addl      $4, esp
#else
""",
        "#endif /* I386_PARAVIRT_CONTEXT */\n",
        "the load of %gs in _CPU_Context_switch"),
)


HOOKS = EditSet(
    mark=MARK, edits=EDITS,
    differs="this i386 port differs from RTEMS 6's, and the pokpv BSP's RTEMS_PARAVIRT hook "
            "cannot be added",
    restore="restore the file as RTEMS has it (git checkout)", error=PortError)


def apply_hooks(tree: Path) -> list[Path]:
    """Add the pokpv BSP's RTEMS_PARAVIRT hooks to the i386 port of an RTEMS tree; the files
    edited now (none if every hook was there already)."""
    return HOOKS.apply(tree)


def port_fingerprint() -> str:
    """What changes when the edits do."""
    return HOOKS.fingerprint
