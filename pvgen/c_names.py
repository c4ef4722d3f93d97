"""The C identifiers the generated files spell from a definition's names, checked for clashes.

Two declarations of a definition may be different names and still be one identifier in C:
a status ``HC_POKE`` and a hypercall ``poke`` are both ``PV_HC_POKE``; an enum ``a`` with a
member ``B_C`` and an enum ``a_b`` with a member ``C`` are both ``PV_A_B_C``; a hypercall
``trap0`` is the guest header's own ``pv_trap0``. The C compiler would refuse the generated
file, far from the cause. Here each spelling the templates use is listed once, with the
identifiers the generator keeps for itself, so that a clash is refused at the declaration
with ``file:line:col``, like any other error in a definition.

The lists must follow the templates: tests/test_c_names.py renders definitions and checks
that every identifier of the generated C with the interface's prefixes is one listed here.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from pvgen import model as m
from pvgen.diagnostics import Location

# The guest header's own identifiers, after its prefix (lower case: P, upper case: PU).
GUEST_KEPT = ("{PU}_HYPERCALLS_H", "{PU}_ABI_NAME", "{PU}_INTERFACE_VERSION",
              "{PU}_INTERFACE_FINGERPRINT", "{PU}_SPLIT64", "{PU}_ASSERT", "{P}_assert_",
              "{P}_fastpath_area", "{P}_hypercall_id_t", "{P}_status_t")
TRAP_FUNCTIONS = "{P}_trap{n}"  # one per argument count the calls use, up to MAX_TRAP_WORDS
MAX_TRAP_WORDS = 16
# POK's kernel side: the names it gives its own pieces beside each call's handler and number.
POK_KEPT = tuple("pok_hypercall_" + name for name in (
    "init", "health", "info_t", "args_t", "id_t", "reject", "reject_t", "rejected", "returns",
    "range_ok", "string_ok", "partition_of", "partition_size", "caller", "stop_partition",
    "restart_partition",
    "start_over", "upcall_resume", "return_to_partition", "area_word", "lines_t", "line_add",
    "line_in", "line_remove", "timer_t", "timer_set", "timer_fallen", "timer_uncounted",
    "vcpu_t", "vcpus", "vcpu_init", "vcpu_reset", "vcpu_tick", "vcpu_update", "vcpu_publish",
    "vcpu_next", "vcpu_entered", "vcpu_enabled", "vcpu_deliverable", "vcpu_set_enabled"))
POK_MACROS_KEPT = tuple("POK_HYPERCALL_" + name for name in (
    "ADDRESS_TYPE", "INT_NUMBER", "LINES", "LINE_WORDS", "NESTING", "NO_LINE", "TIMER_LINE",
    "REJECT_UNKNOWN_CALL", "REJECT_BAD_POINTER", "REJECT_BAD_ARG_COUNT", "REJECT_BAD_VALUE"))
POK_PREFIXED_KEPT = ("POK_{PU}_INTERFACE_VERSION", "POK_{PU}_INTERFACE_FINGERPRINT",
                     "POK_{PU}_ASSERT", "POK_{PU}_FASTPATH_SHARE", "POK_{PU}_FASTPATH_DISABLE",
                     "POK_{PU}_FASTPATH_SET_LEVEL", "POK_{PU}_FASTPATH_ENABLE",
                     "POK_{PU}_FASTPATH_GET_LEVEL", "POK_{PU}_VCPU_AREA_SIZE",
                     "POK_{PU}_VCPU_AREA_ENABLED_OFFSET", "POK_{PU}_VCPU_AREA_PENDING_OFFSET",
                     "POK_{PU}_VCPU_AREA_TICKS_OFFSET", "pok_{P}_status_t", "pok_{P}_assert_")


@dataclass(frozen=True)
class Spelling:
    identifier: str
    what: str  # the declaration, for a message: "hypercall 'poke'"
    location: Location


def spellings(iface: m.Interface) -> Iterator[Spelling]:
    """Every C identifier a declaration of the definition becomes, in declaration order."""
    p, pu = iface.prefix, iface.prefix.upper()
    for code in iface.status.members:
        where = iface.location_of(f"status:{code.name}")
        yield from _both(f"the status code '{code.name}'", where, f"{pu}_{code.name}")
    for t in iface.types:
        where = iface.location_of(f"type:{t.name}")
        yield from _both(f"the type '{t.name}'", where, f"{p}_{t.name}_t")
        if isinstance(t, m.Enum):
            for member in t.members:
                yield from _both(f"the member '{member.name}' of enum '{t.name}'", where,
                                 f"{pu}_{t.name.upper()}_{member.name}")
    for abi in iface.abis:
        what = f"the ABI '{abi.name}'"
        yield Spelling(f"{pu}_ABI_{abi.name.upper()}", what, abi.location)
        yield Spelling(f"pok_hypercall_gate_{abi.name}", what, abi.location)
    for call in iface.hypercalls:
        what = f"the hypercall '{call.name}'"
        yield Spelling(f"{pu}_HC_{call.name.upper()}", what, call.location)
        yield Spelling(f"{p}_{call.name}", what, call.location)
        yield Spelling(f"pok_hypercall_{call.name}", what, call.location)
        yield Spelling(f"POK_HYPERCALL_{call.name.upper()}", what, call.location)


def _both(what: str, where: Location, guest: str) -> Iterator[Spelling]:
    """A name of the guest header and its POK kernel twin (pok_ / POK_ before it)."""
    yield Spelling(guest, what, where)
    yield Spelling(("POK_" if guest[:1].isupper() else "pok_") + guest, what, where)


def kept(iface: m.Interface) -> frozenset[str]:
    """The identifiers the generated files spell for themselves, not from a declaration."""
    p, pu = iface.prefix, iface.prefix.upper()
    names = [*GUEST_KEPT, *POK_PREFIXED_KEPT]
    return frozenset([*(name.format(P=p, PU=pu) for name in names), *POK_KEPT, *POK_MACROS_KEPT,
                      *(TRAP_FUNCTIONS.format(P=p, n=n) for n in range(MAX_TRAP_WORDS + 1))])


def clashes(iface: m.Interface) -> list[tuple[Location, str]]:
    """Each declaration whose C spelling is already taken, with the message to report there."""
    taken: dict[str, Spelling] = {}
    generated = kept(iface)
    problems = []
    reported: set[str] = set()  # a declaration once, at its first clash
    for spelling in spellings(iface):
        name = spelling.identifier
        earlier = taken.get(name)
        if spelling.what in reported:
            continue
        if name in generated or (earlier is not None and earlier.what != spelling.what):
            reported.add(spelling.what)
        if name in generated:
            problems.append((spelling.location, f"{spelling.what} would be {name} in the "
                             "generated C, a name the generator keeps for itself; rename it"))
        elif earlier is not None and earlier.what != spelling.what:
            problems.append((spelling.location, f"{spelling.what} would be {name} in the "
                             f"generated C, as {earlier.what} is (line {earlier.location.line}); "
                             "rename one of them"))
        taken.setdefault(name, spelling)
    return problems
