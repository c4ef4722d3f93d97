"""The hypervisor's services: the handlers the generated dispatcher calls.

One PartitionServices per partition, so every handler knows its caller. The
dispatcher has already checked and copied the arguments (see
docs/dispatch-semantics.md); handlers only act. The port calls (issue #6) follow
the APEX rules of pvgen.emulator.ports, whose outcomes name their status; here they
become the definition's numbers and, with --trace, `port` instants.
"""

from __future__ import annotations

from enum import IntEnum
from functools import cached_property
from typing import Any

from pvgen.catalogue import ENUM_MEMBERS, REQUIRED_STATUS, SERVICES
from pvgen.config.model import MODULE_TICK_NS
from pvgen.emulator.contract import Dispatcher
from pvgen.emulator.effects import Block, Deliver, Halt, Resume, StopReason
from pvgen.emulator.errors import EmulatorError
from pvgen.emulator.kernel import Kernel
from pvgen.emulator.partition import Mode, Partition
from pvgen.emulator.ports import (
    NOT_AVAILABLE,
    OK,
    QUEUING,
    SAMPLING,
    TIMED_OUT,
    PortCalls,
    PortOutcome,
)


def check_definition(dispatcher: Dispatcher) -> None:
    """Refuse, before anything runs, a definition the services cannot serve (the catalogue,
    pvgen.catalogue): one lacking a status code they answer, declaring a hypercall no service
    handles (a handler is per service, never per ABI: any definition may declare any of them,
    with its own number), or giving a call a parameter, a struct field or an enum its
    service does not know, or leaving out one it needs. `pvgen gen` refused the last kinds
    already, at their lines; this is for a dispatcher generated elsewhere (--gen)."""
    missing = [name for name in REQUIRED_STATUS if name not in dispatcher.STATUS]
    if missing:
        raise EmulatorError(
            f"pvgen: error: the emulator's services answer status codes the definition lacks: "
            f"{', '.join(missing)}")
    unserved = [name for name in dispatcher.NUMBERS if name not in SERVICES]
    if unserved:
        raise EmulatorError(
            f"pvgen: error: the emulator has no service for the definition's hypercall(s) "
            f"{', '.join(unserved)}")
    problems = [problem for name, given in dispatcher.HANDLER_PARAMS.items()
                for problem in _parameter_problems(name, given)]
    problems += [f"{name}: its service answers no field {', '.join(unknown)} of '{param}'"
                 for name, outputs in dispatcher.OUTPUT_FIELDS.items()
                 for param, fields in outputs.items()
                 if (unknown := [f for f in fields if f not in SERVICES[name].fields])]
    problems += [f"{name}: its service reads the enum '{enum}' with the members "
                 f"{', '.join(ENUM_MEMBERS[enum])}"
                 for name in dispatcher.NUMBERS for enum in SERVICES[name].enums
                 if not _has_members(dispatcher, enum)]
    timeouts = any("timeout" in given for given in dispatcher.HANDLER_PARAMS.values())
    if timeouts and "TIMED_OUT" not in dispatcher.STATUS:
        problems.append("a call takes a timeout, but there is no TIMED_OUT status")
    if problems:
        raise EmulatorError("pvgen: error: the emulator's services cannot serve the "
                            "definition:\n  " + "\n  ".join(problems))


def _parameter_problems(name: str, given: tuple[str, ...]) -> list[str]:
    """What is wrong between the parameters a definition gives a call and its service's."""
    accepted = {p.name: p for p in SERVICES[name].params}
    unknown = [p for p in given if p not in accepted]
    needed = [p for p, param in accepted.items() if not param.optional and p not in given]
    problems = []
    if unknown:
        problems.append(f"{name}: its service takes no parameter {', '.join(unknown)}")
    if needed:
        problems.append(f"{name}: its service needs the parameter {', '.join(needed)}")
    return problems


def _has_members(dispatcher: Dispatcher, enum: str) -> bool:
    declared = dispatcher.ENUMS.get(enum)
    if declared is None:
        return False
    names = {member.name for member in declared}
    wanted = set(ENUM_MEMBERS[enum])
    return not wanted or names == wanted


class PartitionServices:
    """The handlers of one partition's hypercalls (pv_dispatch.Handlers)."""

    def __init__(self, module: Kernel, partition: Partition) -> None:
        self.module = module
        self.partition = partition
        self._time = module.time  # read often: one attribute less
        status = module.dispatcher.STATUS  # the definition's status codes, by name
        self.ok: int = status["OK"]
        self.no_action: int = status["NO_ACTION"]
        self.invalid_param: int = status["INVALID_PARAM"]
        self.invalid_mode: int = status["INVALID_MODE"]
        self._status: dict[str, int] = dict(status)  # port outcomes' numbers, looked up often
        self._tracing = module.trace.enabled

    def _enum(self, name: str) -> type[IntEnum]:
        """The definition's enum `name`: there for each call whose service reads it (the
        catalogue's enums, checked at gen and at boot)."""
        return self.module.dispatcher.ENUMS[name]

    # the definition's numbers of the ARINC modes and start conditions, by name: read only by
    # the calls that need them, so a definition without those calls needs no such enums
    @cached_property
    def _modes(self) -> dict[int, Mode]:
        return {int(m): Mode[m.name] for m in self._enum("partition_mode")}

    @cached_property
    def _mode_numbers(self) -> dict[Mode, int]:
        return {mode: number for number, mode in self._modes.items()}

    @cached_property
    def _start_conditions(self) -> dict[str, int]:
        return {c.name: int(c) for c in self._enum("start_condition")}

    # -- refusals -------------------------------------------------------------------
    def hypercall_rejected(self, number: int, event: Any) -> None:
        self.module.health_event(self.partition, "ILLEGAL_REQUEST",
                                 f"hypercall {number} refused: {event.name}", resumable=True)

    def end_program(self, number: int) -> Halt:
        """A ``when ... end`` rule of the definition: the call ends the partition's program
        (on POK, NORMAL ends the calling main thread), which runs no more until restarted."""
        return Halt(StopReason.END, detail=f"hypercall {number}")

    # -- console ----------------------------------------------------------------------
    def console_write(self, buf: bytes, len: int) -> int:
        self.module.console_write(self.partition, buf)
        return self.ok

    def console_read(self, len: int) -> tuple[int, bytes, int]:
        return self.ok, b"", 0  # the emulator's consoles have no input

    # -- time (pvgen.emulator.timer holds the arithmetic, the module raises the ticks) -------------
    def get_ticks(self) -> tuple[int, int]:
        """The ticks of the partition's virtual timer since its boot or restart, every one
        fallen by now; a partition whose timer never ran reads the module's own ticks."""
        now, timer = self._time.now(), self.partition.timer
        if timer.period or timer.due:
            return self.ok, timer.fallen(now)
        return self.ok, now // MODULE_TICK_NS

    def get_time(self) -> tuple[int, int]:
        return self.ok, self._time.now()

    def timer_set_period(self, period: int) -> int:
        """Re-phase the timer: its first tick falls one period from now (0 stops it)."""
        if period < 0:
            return self.invalid_param
        self.module.set_timer(self.partition, period)
        return self.ok

    def timer_get_period(self) -> tuple[int, int]:
        return self.ok, self.partition.timer.period

    # -- the partition's life -----------------------------------------------------------
    def idle(self) -> Halt:
        """Give up the processor until the next event; the module decides when that is (the
        partition's next tick in this window, or its next window)."""
        return Halt(StopReason.IDLE, answer=self.ok)

    def stop(self, code: int) -> Halt:
        return Halt(StopReason.STOP, detail=f"stopped with error code {code}")

    def shutdown(self) -> Halt | None:
        """Only a SystemPartition may shut the module down; another's call is an
        ILLEGAL_REQUEST after which it cannot go on (the call does not return)."""
        if not self.partition.entry.system:
            self.module.health_event(self.partition, "ILLEGAL_REQUEST",
                                     "shutdown from a partition that is not a SystemPartition",
                                     resumable=False)
            return None
        return Halt(StopReason.SHUTDOWN)

    def thread_pointer_set(self, pointer: int) -> int:
        self.partition.cpu.set_thread_pointer(pointer)
        return self.ok

    def partition_set_mode(self, mode: int) -> int | Halt:
        wanted = self._modes[mode]
        if wanted is Mode.WARM_START and self.partition.mode is Mode.COLD_START:
            return self.invalid_mode  # ARINC 653: a cold start cannot become a warm one
        if wanted is Mode.NORMAL:
            if self.partition.mode is Mode.NORMAL:
                return self.no_action
            self.partition.mode = Mode.NORMAL
            return self.ok
        return Halt(StopReason.MODE, detail=wanted.value)

    def partition_get_status(self) -> tuple[int, dict[str, int]]:
        """ARINC's PARTITION_STATUS, in one call."""
        period, duration = self._period_and_duration
        return self.ok, dict(zip(SERVICES["partition_get_status"].fields, (
            period, duration, self.partition.entry.identifier,
            self._mode_numbers[self.partition.mode],
            self._start_conditions[self.partition.start_condition], 0), strict=True))

    # PARTITION_STATUS field by field, as POK's system calls 405..410 read it. They answer
    # ARINC's meaning, where POK's kernel answers the partition's index in its tables (id)
    # and the schedule slot of that index (duration).
    def partition_get_id(self) -> tuple[int, int | None]:
        """The configured identifier; INVALID_CONFIG above 255, which the byte POK's call
        has for it cannot hold (ARINC allows larger identifiers; a definition giving the call
        a wider type is held to the same limit)."""
        identifier = self.partition.entry.identifier
        if identifier > 0xFF:
            return self._status["INVALID_CONFIG"], None
        return self.ok, identifier

    def partition_get_period(self) -> tuple[int, int]:
        return self.ok, self._period_and_duration[0]

    def partition_get_duration(self) -> tuple[int, int]:
        return self.ok, self._period_and_duration[1]

    def partition_get_lock_level(self) -> tuple[int, int]:
        return self.ok, 0  # the guest schedules its own threads: the hypervisor holds no lock

    def partition_get_operating_mode(self) -> tuple[int, int]:
        return self.ok, self._mode_numbers[self.partition.mode]

    def partition_get_start_condition(self) -> tuple[int, int]:
        return self.ok, self._start_conditions[self.partition.start_condition]

    @property
    def _period_and_duration(self) -> tuple[int, int]:
        """The configured period and duration (an image from before they were recorded: the
        major frame and the partition's time in it)."""
        entry = self.partition.entry
        if entry.period_ns:
            return entry.period_ns, entry.duration_ns
        return self.module.manifest.major_frame_ns, sum(
            w.duration_ns for w in self.module.manifest.windows
            if w.partition == entry.identifier)

    def partition_get_name(self, capacity: int) -> tuple[int, bytes | None, int]:
        """The partition's configured name (XtratuM's partition control table has it; any
        definition may declare the call): its bytes if they fit, and its length either way,
        so a guest whose buffer is short learns how much it needs (INVALID_PARAM)."""
        name = self.partition.name.encode("utf-8")
        if len(name) > capacity:
            return self.invalid_param, None, len(name)
        return self.ok, name, len(name)

    def raise_application_error(self, msg: bytes, len: int) -> int:
        text = msg.decode("utf-8", "replace")
        self.module.health_event(self.partition, "APPLICATION_ERROR", text, resumable=True)
        return self.ok

    def raise_os_error(self, error: int, msg: bytes, len: int) -> int:
        """An error the guest OS found in one of its processes (a missed deadline, a stack
        overflow...): the hypervisor cannot see those itself, so it takes the OS's word and
        applies its tables as to its own errors. The generated check has refused any error
        that is not the OS's to report."""
        name: str = self._enum("os_error")(error).name
        self.module.health_event(self.partition, name, msg.decode("utf-8", "replace"),
                                 resumable=True)
        return self.ok

    # -- virtual interrupts (pvgen.emulator.vcpu holds the rules) ----------------------------
    def vcpu_register(self, handler: int) -> int:
        if handler >= self.partition.entry.memory_size:
            return self.invalid_param
        self.partition.vcpu.register(handler)
        return self.ok

    def vcpu_unregister(self) -> int:
        self.partition.vcpu.register(None)
        return self.ok

    def vcpu_share(self, area: int) -> int:
        """The dispatcher checked that the area lies in the partition; it stays shared until
        the partition restarts (its new vCPU has none)."""
        layout = self.module.dispatcher.VCPU_AREA
        if layout is None:  # the definition marks no call `fastpath share`: no known layout
            return self._status["INVALID_CONFIG"]
        if area % 4:
            return self.invalid_param  # its words are read and written whole
        self.partition.vcpu.share(self.partition, area, layout)
        return self.ok

    def irq_request(self, line: int) -> int:
        self.partition.vcpu.request(line)
        return self.ok

    def irq_detach(self, line: int) -> int:
        if line not in self.partition.vcpu.requested:
            return self.no_action
        self.partition.vcpu.detach(line)
        return self.ok

    def irq_enable(self) -> int:
        self.partition.vcpu.enable()
        return self.ok

    def irq_disable(self) -> int:
        return int(self.partition.vcpu.disable())

    def irq_set_level(self, enabled: int) -> int:
        self.partition.vcpu.set_level(bool(enabled))
        return self.ok

    def irq_get_level(self) -> int:
        return int(self.partition.vcpu.enabled)

    def irq_flash(self) -> int | Deliver:
        """Let one ready line in, as a brief enable would, with the caller resuming disabled."""
        line = self.partition.vcpu.flash()
        if line is None:
            return self.ok
        return Deliver(line, self.ok, resumes_enabled=False)

    def irq_mask(self, line: int) -> int:
        self.partition.vcpu.mask(line)
        return self.ok

    def irq_unmask(self, line: int) -> int:
        self.partition.vcpu.unmask(line)
        return self.ok

    def irq_ack(self, line: int) -> int:
        self.partition.vcpu.acknowledge(line)
        return self.ok

    def irq_return(self) -> Resume | None:
        """Resume the interrupted context from the innermost upcall frame; with none, an
        ILLEGAL_REQUEST after which the call cannot go on (it does not return)."""
        if self.partition.vcpu.resume(self.partition):
            return Resume()
        self.module.health_event(self.partition, "ILLEGAL_REQUEST",
                                 "irq_return with no upcall to return from", resumable=False)
        return None

    # -- ports (pvgen.emulator.ports holds the APEX rules) -------------------------------------
    # A definition may leave out a parameter the services give a default (POK's calls have
    # no queue depth, no read capacity); a timeout other than 0 blocks the caller.
    def sampling_create(self, name: bytes, max_size: int, direction: int,
                        refresh_period: int) -> tuple[int, int | None]:
        outcome, port = self._ports().sampling_create(
            _port_name(name), max_size, self._direction_name(direction), refresh_period,
            self._initializing)
        return self._port_status("sampling_create", outcome), port

    def queuing_create(self, name: bytes, max_size: int, direction: int,
                       max_nb_message: int | None = None,
                       discipline: int | None = None) -> tuple[int, int | None]:
        """Without a depth, the configured one; any discipline the definition accepts is
        served alike: a partition blocks on a port as one caller, so the waiting callers
        FIFO and PRIORITY would order are never more than one."""
        outcome, port = self._ports().queuing_create(
            _port_name(name), max_size, max_nb_message, self._direction_name(direction),
            self._initializing)
        return self._port_status("queuing_create", outcome), port

    def sampling_port_id(self, name: bytes) -> tuple[int, int | None]:
        outcome, port = self._ports().port_id(SAMPLING, _port_name(name))
        return self._port_status("sampling_port_id", outcome), port

    def queuing_port_id(self, name: bytes) -> tuple[int, int | None]:
        outcome, port = self._ports().port_id(QUEUING, _port_name(name))
        return self._port_status("queuing_port_id", outcome), port

    def sampling_write(self, id: int, msg: bytes, len: int) -> int:
        outcome = self._ports().sampling_write(id, msg, self._time.now())
        return self._port_status("sampling_write", outcome)

    def sampling_read(self, id: int, capacity: int | None = None,
                      ) -> tuple[int, bytes | None, int | None, int | None]:
        """Without a capacity, the guest's buffer holds the port's largest message."""
        outcome, data, length, validity = self._ports().sampling_read(id, capacity,
                                                                      self._time.now())
        valid = None if validity is None else self._validity[validity]
        return self._port_status("sampling_read", outcome, validity), data, length, valid

    def sampling_status(self, id: int) -> tuple[int, dict[str, int] | None]:
        outcome, status = self._ports().sampling_status(id)
        fields = None
        if status is not None:
            fields = dict(zip(SERVICES["sampling_status"].fields, (
                status.refresh_period_ns, status.max_message_size,
                int(self._enum("port_direction")[status.direction]),
                int(self._enum("validity")[status.last_msg_validity])), strict=True))
        return self._port_status("sampling_status", outcome), fields

    def queuing_send(self, id: int, msg: bytes, len: int, timeout: int = 0) -> int | Block:
        outcome = self._ports().queuing_send(id, msg)
        if outcome.status == NOT_AVAILABLE and self._waits(timeout):
            return Block(timeout)  # the module serves the call again
        return self._port_status("queuing_send", self._timed(outcome))

    def queuing_receive(self, id: int, capacity: int, timeout: int = 0,
                        ) -> tuple[int, bytes | None, int | None] | Block:
        outcome, data, length = self._ports().queuing_receive(id, capacity)
        if outcome.status == NOT_AVAILABLE and self._waits(timeout):
            return Block(timeout)  # the module serves the call again
        return self._port_status("queuing_receive", self._timed(outcome)), data, length

    def queuing_status(self, id: int) -> tuple[int, dict[str, int] | None]:
        outcome, status = self._ports().queuing_status(id)
        fields = None
        if status is not None:
            direction = int(self._enum("port_direction")[status.direction])
            # waiting_processes 0: the guest's processes wait in the guest
            fields = dict(zip(SERVICES["queuing_status"].fields, (
                status.nb_message, status.max_nb_message, status.max_message_size,
                direction, int(status.overflowed), 0), strict=True))
        return self._port_status("queuing_status", outcome), fields

    def _waits(self, timeout_ns: int) -> bool:
        """Whether a call that found its queue empty or full waits (the module then serves
        it again when it may go on): a timeout of 0 never does, nor one that has run out; a
        negative one is infinite."""
        return timeout_ns != 0 and not self.module.waited(self.partition)

    def _timed(self, outcome: PortOutcome) -> PortOutcome:
        """A queue still empty or full when a wait has run out: TIMED_OUT."""
        if outcome.status == NOT_AVAILABLE and self.module.waited(self.partition):
            return outcome._replace(status=TIMED_OUT, reason="the wait ran out")
        return outcome

    @cached_property
    def _validity(self) -> dict[str, int]:
        """The definition's numbers of the sampling validities, by name (a definition with no
        sampling ports has none)."""
        return {v.name: int(v) for v in self._enum("validity")}

    @cached_property
    def _port_calls(self) -> PortCalls:
        """The partition's side of the module's ports, which all its partitions share."""
        return PortCalls(self.module.ports, self.partition.entry.identifier)

    def _ports(self) -> PortCalls:
        """The port calls, once the ports know of every restart since the last port call."""
        calls = self._port_calls
        calls.ports.reconcile([p.restarts for p in self.module.partitions])
        return calls

    @property
    def _initializing(self) -> bool:
        """Ports are created during initialisation only (ARINC: not in NORMAL mode)."""
        return self.partition.mode in (Mode.COLD_START, Mode.WARM_START)

    def _direction_name(self, direction: int) -> str:
        name: str = self._enum("port_direction")(direction).name
        return name

    def _port_status(self, call: str, outcome: PortOutcome, validity: str | None = None) -> int:
        """The outcome's status number; with --trace, a `port` instant for each call that moved
        a message or was refused (and each creation): the port, the length, the status."""
        if self._tracing and (outcome.status != OK or call not in _QUIET_PORT_CALLS):
            args: dict[str, object] = {"port": outcome.port, "length": outcome.length,
                                       "status": outcome.status}
            if validity is not None:
                args["validity"] = validity
            if outcome.reason:
                args["reason"] = outcome.reason
            identifier, now = self.partition.entry.identifier, self._time.now()
            self.module.trace.instant(identifier, now, "port", f"{call} {outcome.port}".rstrip(),
                                      **args)
            if outcome.message and outcome.status == OK:
                self.module.trace.flow(identifier, now, outcome.message, call in _SENDING)
        return self._status[outcome.status]


# Calls whose message a flow in the trace starts at (it ends where it is received or read).
_SENDING = frozenset({"sampling_write", "queuing_send"})
# Calls that move no message and change nothing: traced only when refused.
_QUIET_PORT_CALLS = frozenset({"sampling_port_id", "queuing_port_id", "sampling_status",
                               "queuing_status"})


def _port_name(name: bytes) -> str:
    """A port name as the guest wrote it: bytes that are not UTF-8 stay distinct (and match no
    configured name) instead of being replaced."""
    return name.decode("utf-8", "surrogateescape")
