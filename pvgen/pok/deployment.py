"""The module as POK's configuration sees it, and the POK system directory built from it.

``NAME.pok/`` beside an image is a POK system as POK's own make rules build one: a
``Makefile`` that includes POK's rules (``make POK_PATH=<POK checkout>``), ``kernel/`` with
``deployment.h`` (every macro today's POK reads: partitions, sizes, threads, processors and
affinity, lock objects, the schedule in nanoseconds, the ports and their owners, the id
enums) and ``deployment.c`` (the port tables), and the partition ELFs. POK pads each
partition file in place when it assembles ``partitions.bin``, so the Makefile stages
copies and the files pvgen wrote stay as they were.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

import jinja2

from pvgen import lang_c
from pvgen.config.model import MODULE_TICK_NS, ModuleConfig, PortKind
from pvgen.model import Interface
from pvgen.pok.errors import PokError
from pvgen.pok.patch import NEEDS as PARAVIRT_NEEDS
from pvgen.pok.patch import needs_kernel_side

# POK's port kinds (middleware/port.h).
_POK_PORT_KIND = {PortKind.QUEUING: "POK_PORT_KIND_QUEUEING", PortKind.SAMPLING:
                  "POK_PORT_KIND_SAMPLING"}
# POK_NEEDS_* a port kind needs.
_POK_PORT_NEEDS = {PortKind.QUEUING: "POK_NEEDS_PORTS_QUEUEING", PortKind.SAMPLING:
                   "POK_NEEDS_PORTS_SAMPLING"}
# POK moves what a partition's output ports hold to their destinations at the end of the
# partition's slot (kernel/core/sched.c). Its default, at each major frame and only for
# partitions in NORMAL or IDLE, would never move a pvgen partition's: its program runs in
# POK's main thread, in COLD_START, as NORMAL would end it.
_FLUSH_ON_WINDOWS = "POK_NEEDS_FLUSH_ON_WINDOWS"
_BASE_NEEDS = ("POK_NEEDS_TIME", "POK_NEEDS_THREADS", "POK_NEEDS_PARTITIONS", "POK_NEEDS_SCHED",
               "POK_NEEDS_CONSOLE", "POK_NEEDS_USER_DEBUG")  # USER_DEBUG: the serial line


@dataclass(frozen=True)
class PokPort:
    identifier: str  # the C enumerator, <partition>_<port>
    name: str
    partition_index: int
    kind: str  # POK_PORT_KIND_*
    destinations: tuple[str, ...]  # identifiers


@dataclass(frozen=True)
class PokDeployment:
    """The module as POK's configuration macros and tables see it."""

    needs: tuple[str, ...]
    partition_names: tuple[str, ...]
    partition_sizes: tuple[int, ...]
    slots_ns: tuple[int, ...]
    slot_partitions: tuple[int, ...]  # partition index (not identifier) per slot
    major_frame_ns: int
    ports: tuple[PokPort, ...]
    fingerprint: str
    # what the generated paravirtual interface reads of each partition (POK_CONFIG_PV_*)
    identifiers: tuple[int, ...]
    periods_ns: tuple[int, ...]
    durations_ns: tuple[int, ...]
    timer_periods_ns: tuple[int, ...]  # 0: no timer at boot
    system_partitions: tuple[int, ...]  # 1: a SystemPartition, which may shut the module down
    tick_ns: int = MODULE_TICK_NS

    @property
    def nthreads(self) -> tuple[int, ...]:
        """One POK thread per partition: the guest schedules its own threads."""
        return tuple(1 for _ in self.partition_names)

    @property
    def nlockobjects(self) -> tuple[int, ...]:
        """No POK lock objects: the guest's own scheduler has its own."""
        return tuple(0 for _ in self.partition_names)

    @property
    def affinity(self) -> tuple[int, ...]:
        """Every partition on processor 0 (a mask per partition): pvgen modules are single-core."""
        return tuple(1 for _ in self.partition_names)

    @property
    def program_names(self) -> tuple[str, ...]:
        """The partition files as the system's Makefile names them."""
        return tuple(f"{name}.elf" for name in self.partition_names)

    @property
    def staged_names(self) -> tuple[str, ...]:
        """Where the Makefile copies them for POK's rules to pad in place."""
        return tuple(f"staged/{name}" for name in self.program_names)

    @property
    def threads(self) -> int:
        """The partitions' threads plus POK's kernel and idle threads."""
        return sum(self.nthreads) + 2

    def ports_of(self, index: int) -> tuple[PokPort, ...]:
        return tuple(p for p in self.ports if p.partition_index == index)

    @property
    def ports_by_partition(self) -> tuple[tuple[str, tuple[PokPort, ...]], ...]:
        """(partition name, its ports) in partition order."""
        return tuple((name, self.ports_of(i)) for i, name in enumerate(self.partition_names))


def deployment(module: ModuleConfig, iface: Interface) -> PokDeployment:
    """POK's view of the module; refuses what POK's scheduler cannot express."""
    index = {p.identifier: i for i, p in enumerate(module.partitions)}
    cursor = 0
    for window in module.schedule.windows:
        if window.start_ns != cursor:
            raise PokError(
                f"pvgen: error: {module.source}: POK's schedule has no idle slots, but the "
                f"windows leave {cursor}..{window.start_ns} ns of the major frame unassigned"
            )
        cursor = window.end_ns
    if cursor != module.schedule.major_frame_ns:
        raise PokError(
            f"pvgen: error: {module.source}: POK's slots must add up to the major frame; the "
            f"windows end at {cursor} ns, the major frame is {module.schedule.major_frame_ns} ns"
        )
    ident = {(p.identifier, port.name): f"{p.name}_{port.name}" for p in module.partitions
             for port in p.ports}
    destinations: dict[str, tuple[str, ...]] = {
        ident[(c.source.partition, c.source.port)]: tuple(
            ident[(d.partition, d.port)] for d in c.destinations)
        for c in module.channels
    }
    ports = tuple(
        PokPort(ident[(p.identifier, port.name)], port.name, index[p.identifier],
                _POK_PORT_KIND[port.kind], destinations.get(ident[(p.identifier, port.name)], ()))
        for p in module.partitions for port in p.ports
    )
    kinds = {port.kind for p in module.partitions for port in p.ports}
    # a port kind's code only for the kinds the module has: POK's -Werror build of it with
    # no port fails (the loops over zero ports compare always false)
    unused = {need for kind, need in _POK_PORT_NEEDS.items() if kind not in kinds}
    # a definition with a kernel side of its own (pvgen pok-patch) has it built in
    paravirt = (PARAVIRT_NEEDS,) if needs_kernel_side(iface) else ()
    needs = (*_BASE_NEEDS, *paravirt, *sorted(_POK_PORT_NEEDS[k] for k in kinds),
             *((_FLUSH_ON_WINDOWS,) if kinds else ()),
             *(f for f in iface.features if f not in unused))
    return PokDeployment(
        needs=tuple(dict.fromkeys(needs)),
        partition_names=tuple(p.name for p in module.partitions),
        partition_sizes=tuple(p.memory_size for p in module.partitions),
        slots_ns=tuple(w.duration_ns for w in module.schedule.windows),
        slot_partitions=tuple(index[w.partition] for w in module.schedule.windows),
        major_frame_ns=module.schedule.major_frame_ns,
        ports=ports,
        fingerprint=iface.fingerprint,
        identifiers=tuple(p.identifier for p in module.partitions),
        periods_ns=tuple(module.schedule.period_of(p.identifier).period_ns
                         for p in module.partitions),
        durations_ns=tuple(module.schedule.period_of(p.identifier).duration_ns
                           for p in module.partitions),
        timer_periods_ns=tuple(p.timer_period_ns or 0 for p in module.partitions),
        system_partitions=tuple(int(p.system) for p in module.partitions),
    )


@cache
def _templates() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("pvgen.pok", "templates"),
        undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
        keep_trailing_newline=True, autoescape=False,
    )
    env.filters.update(lang_c.FILTERS)
    return env


# Each file of the system directory and the template it comes from.
SYSTEM_TEMPLATES = {
    "Makefile": "Makefile.j2",
    "kernel/Makefile": "kernel.Makefile.j2",
    "kernel/deployment.h": "deployment.h.j2",
    "kernel/deployment.c": "deployment.c.j2",
}


def system_files(
    module: ModuleConfig, iface: Interface, partitions: Sequence[bytes]
) -> dict[str, bytes]:
    """Every file of the module's POK system directory, by its path there."""
    pok = deployment(module, iface)
    files = {
        name: _templates().get_template(template).render(pok=pok, module=module.name).encode()
        for name, template in SYSTEM_TEMPLATES.items()
    }
    files.update(zip(pok.program_names, partitions, strict=True))
    return files
