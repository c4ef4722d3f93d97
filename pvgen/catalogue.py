"""The bundled emulator's services, as data: what a definition must say of a call for the
emulator to serve it.

Each service is a hypercall name the emulator's services (pvgen.emulator.services) answer,
with the parameters its handler takes (by name, as the generated dispatcher binds them:
any order, any number), what each must be (a value, or bytes: a pointer with a length),
the fields it can fill in the struct it returns, and the enums whose members it reads by
name. `pvgen gen` checks every call of a definition that has a service against it, so a
definition the services would fail on is refused at its line, before anything is built;
the emulator checks the rest when it boots (a call with no service, the status codes its
services answer), and a test holds the services' own signatures to this catalogue.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum

from pvgen import model as m
from pvgen.diagnostics import Location
from pvgen.lang_py import py_is_buffer  # what a handler sees as bytes, as the dispatcher does


class Received(Enum):
    """What a handler receives for a parameter."""

    VALUE = "a value"  # a by-value word, or a shared area's address
    BYTES = "bytes (a pointer with its length)"


@dataclass(frozen=True)
class ServiceParam:
    name: str
    kind: Received = Received.VALUE
    optional: bool = False  # the handler has a default (definitions that leave it out)


@dataclass(frozen=True)
class Service:
    params: tuple[ServiceParam, ...] = ()
    fields: tuple[str, ...] = ()  # of the struct it returns (an out parameter), if any
    enums: tuple[str, ...] = ()  # the definition's enums it reads (ENUM_MEMBERS)


def _values(*names: str) -> tuple[ServiceParam, ...]:
    return tuple(ServiceParam(name) for name in names)


_BUF, _MSG, _NAME = (ServiceParam(name, Received.BYTES) for name in ("buf", "msg", "name"))
_MODES, _STARTS, _DIRECTION, _VALIDITY = ("partition_mode",), ("start_condition",), \
    ("port_direction",), ("validity",)

SERVICES: dict[str, Service] = {
    "console_write": Service((_BUF, ServiceParam("len"))),
    "console_read": Service(_values("len")),
    "get_ticks": Service(),
    "get_time": Service(),
    "timer_set_period": Service(_values("period")),
    "timer_get_period": Service(),
    "idle": Service(),
    "stop": Service(_values("code")),
    "shutdown": Service(),
    "thread_pointer_set": Service(_values("pointer")),
    "partition_set_mode": Service(_values("mode"), enums=_MODES),
    "partition_get_status": Service(
        fields=("period", "duration", "identifier", "operating_mode", "start_condition",
                "lock_level"), enums=(*_MODES, *_STARTS)),
    "partition_get_id": Service(),
    "partition_get_period": Service(),
    "partition_get_duration": Service(),
    "partition_get_lock_level": Service(),
    "partition_get_operating_mode": Service(enums=_MODES),
    "partition_get_start_condition": Service(enums=_STARTS),
    "partition_get_name": Service(_values("capacity")),
    "raise_application_error": Service((_MSG, ServiceParam("len"))),
    "raise_os_error": Service((ServiceParam("error"), _MSG, ServiceParam("len")),
                              enums=("os_error",)),
    "vcpu_register": Service(_values("handler")),
    "vcpu_unregister": Service(),
    "vcpu_share": Service(_values("area")),
    "irq_request": Service(_values("line")),
    "irq_detach": Service(_values("line")),
    "irq_enable": Service(),
    "irq_disable": Service(),
    "irq_set_level": Service(_values("enabled")),
    "irq_get_level": Service(),
    "irq_flash": Service(),
    "irq_mask": Service(_values("line")),
    "irq_unmask": Service(_values("line")),
    "irq_ack": Service(_values("line")),
    "irq_return": Service(),
    "sampling_create": Service((_NAME, *_values("max_size", "direction", "refresh_period")),
                               enums=_DIRECTION),
    "queuing_create": Service((_NAME, *_values("max_size", "direction"),
                               ServiceParam("max_nb_message", optional=True),
                               ServiceParam("discipline", optional=True)), enums=_DIRECTION),
    "sampling_port_id": Service((_NAME,)),
    "queuing_port_id": Service((_NAME,)),
    "sampling_write": Service((ServiceParam("id"), _MSG, ServiceParam("len"))),
    "sampling_read": Service((ServiceParam("id"), ServiceParam("capacity", optional=True)),
                             enums=_VALIDITY),
    "sampling_status": Service(
        _values("id"), fields=("refresh_period", "max_message_size", "direction",
                               "last_msg_validity"), enums=(*_DIRECTION, *_VALIDITY)),
    "queuing_send": Service((ServiceParam("id"), _MSG, ServiceParam("len"),
                             ServiceParam("timeout", optional=True))),
    "queuing_receive": Service((*_values("id", "capacity"),
                                ServiceParam("timeout", optional=True))),
    "queuing_status": Service(
        _values("id"), fields=("nb_message", "max_nb_message", "max_message_size", "direction",
                               "overflowed", "waiting_processes"), enums=_DIRECTION),
}

# The members each enum a service reads must have (by name; the numbers are the
# definition's): the emulator keeps modes, start conditions, directions and validity in
# its own words and gives the definition's numbers for them. os_error's are any.
ENUM_MEMBERS: dict[str, tuple[str, ...]] = {
    "partition_mode": ("IDLE", "COLD_START", "WARM_START", "NORMAL"),
    "start_condition": ("NORMAL_START", "PARTITION_RESTART", "HM_MODULE_RESTART",
                        "HM_PARTITION_RESTART"),
    "port_direction": ("SOURCE", "DESTINATION"),
    "validity": ("INVALID", "VALID"),
    "os_error": (),
}

# The status codes the services answer, by name: a definition numbers them as its
# hypervisor does (hypercalls.def ARINC's way, an XtratuM profile negative), but must have
# them all for the emulator to run it; TIMED_OUT too when a call takes a timeout.
REQUIRED_STATUS = ("OK", "NO_ACTION", "NOT_AVAILABLE", "INVALID_PARAM", "INVALID_CONFIG",
                   "INVALID_MODE")


def mismatches(iface: m.Interface) -> Iterator[tuple[Location, str]]:
    """Where a call the emulator has a service for is not what that service serves; an
    enum the services read, once, with the services that read it."""
    readers: dict[str, list[str]] = {}
    for call in iface.hypercalls:
        service = SERVICES.get(call.name)
        if service is not None:
            yield from _call_mismatches(iface, call, service)
            for enum in service.enums:
                readers.setdefault(enum, []).append(call.name)
    for enum, calls in readers.items():
        yield from _enum_mismatches(iface, enum, calls)


def _call_mismatches(iface: m.Interface, call: m.Hypercall, service: Service
                     ) -> Iterator[tuple[Location, str]]:
    served = f"the emulator's '{call.name}' service"
    known = {p.name: p for p in service.params}
    given = [p for p in call.params if p.direction is not m.Direction.OUT]
    for param in given:
        wanted = known.get(param.name)
        if wanted is None:
            yield param.location, (f"{served} takes no parameter '{param.name}' (it takes "
                                   f"{_names(service.params)})")
        elif (Received.BYTES if py_is_buffer(param) else Received.VALUE) is not wanted.kind:
            yield param.location, f"{served} takes '{param.name}' as {wanted.kind.value}"
    missing = [p.name for p in service.params
               if not p.optional and p.name not in {g.name for g in given}]
    if missing:
        yield call.location, f"{served} needs the parameter(s) {', '.join(missing)}"
    for param in call.out_params:
        struct = param.type.resolved
        if isinstance(struct, m.Struct):
            unknown = [f.name for f in struct.fields
                       if not f.is_reserved and f.name not in service.fields]
            if unknown:
                yield param.location, (f"{served} fills no field {', '.join(unknown)} of "
                                       f"'{param.name}' (it fills {', '.join(service.fields)})")
    for enum in service.enums:
        if _enum(iface, enum) is None:
            yield call.location, f"{served} reads the enum '{enum}', which the definition lacks"


def _enum(iface: m.Interface, name: str) -> m.Enum | None:
    declared = next((t for t in iface.types if t.name == name), None)
    resolved = declared.resolved if declared is not None else None
    return resolved if isinstance(resolved, m.Enum) else None


def _enum_mismatches(iface: m.Interface, name: str, calls: list[str]
                     ) -> Iterator[tuple[Location, str]]:
    resolved = _enum(iface, name)
    if resolved is None:
        return  # said at each call that reads it
    served = f"the emulator's services of {', '.join(calls)}"
    members = {member.name for member in resolved.members}
    lacking = [n for n in ENUM_MEMBERS[name] if n not in members]
    strange = sorted(members - set(ENUM_MEMBERS[name])) if ENUM_MEMBERS[name] else []
    where = iface.location_of(f"type:{name}")
    if lacking:
        yield where, f"{served} need the members {', '.join(lacking)} of '{name}'"
    if strange:
        yield where, (f"{served} know no member {', '.join(strange)} of '{name}' (it knows "
                      f"{', '.join(ENUM_MEMBERS[name])})")


def _names(params: tuple[ServiceParam, ...]) -> str:
    return ", ".join(p.name for p in params) or "none"
