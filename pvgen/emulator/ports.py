"""Sampling and queuing ports (issue #6): the module's channels and what each partition created.

ARINC 653 partitions talk only through channels that the module configuration declares: a
sampling channel joins one SOURCE port to one or more DESTINATION ports and holds the latest
message, a queuing channel joins one SOURCE to one DESTINATION and holds a FIFO. A partition
uses a port only once it has created it (CREATE_SAMPLING_PORT / CREATE_QUEUING_PORT, during
its initialisation), naming it and repeating its configured attributes, and then by the
identifier the creation returned.

The state is split by lifetime, because a partition restart forgets some of it and not the
rest (POK keeps nothing of a partition across a restart, but a channel is the module's):

- ``SamplingChannel`` and ``QueuingChannel``: the messages, which belong to the channel. A
  sampling message survives the restart of any partition; a queue is emptied when the
  partition at its destination restarts (the messages were meant for the instance that is
  gone, and the new one starts from its initialisation, as a cold or warm start should).
- ``PartitionPorts``: the ports one partition has created, forgotten when it restarts (it
  must create them again; identifiers start over from 1).
- ``ModulePorts``: the configuration (which ports each partition has, which channel each is
  in) and the two above, built once per module from the image's manifest.
- ``PortCalls``: the APEX rules of one partition's port calls, as ``Outcome`` values that name
  the status; ``pvgen.emulator.services`` turns them into the definition's numbers and the trace.

Nothing here knows the generated dispatcher or the CPU: statuses, directions and validities
are names, and callers pass the virtual time and whether the partition is initialising.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

from pvgen.image.manifest import Manifest, PortEntry

# Status names of hypercalls.def: the services look their numbers up in the dispatcher's STATUS.
OK, NO_ACTION, NOT_AVAILABLE, TIMED_OUT = "OK", "NO_ACTION", "NOT_AVAILABLE", "TIMED_OUT"
INVALID_PARAM, INVALID_CONFIG, INVALID_MODE = "INVALID_PARAM", "INVALID_CONFIG", "INVALID_MODE"
# The manifest's words for kinds and directions, and the validity enum's names.
SAMPLING, QUEUING = "sampling", "queuing"
SOURCE, DESTINATION = "SOURCE", "DESTINATION"
VALID, INVALID = "VALID", "INVALID"


class PortOutcome(NamedTuple):
    """What a port call came to: its status name, and for the trace the port it concerned
    ("" when the call named none this partition has), the bytes moved or offered, and why a
    refused call was refused. A named tuple, not a frozen dataclass: every message makes one,
    and a frozen dataclass costs a message more than a third of a null hypercall to build."""

    status: str
    port: str = ""
    length: int = 0
    reason: str = ""
    message: int = 0  # the message sent, written, received or read, by its number (0: none)


class SampledMessage(NamedTuple):
    """A sampling message and the virtual time it was written, which its validity needs (a
    named tuple, as every write makes one: see PortOutcome), and its number in the module."""

    data: bytes
    written_ns: int
    number: int


class QueuedMessage(NamedTuple):
    """A queuing message, and its number in the module (the trace links its receive to its
    send by it)."""

    data: bytes
    number: int


class SamplingChannel:
    """The one message of a sampling channel: each write replaces it, and every destination
    reads that same message, judged against its own refresh period."""

    def __init__(self) -> None:
        self.message: SampledMessage | None = None  # None: never written

    def write(self, data: bytes, now_ns: int, number: int) -> None:
        self.message = SampledMessage(data, now_ns, number)


class QueuingChannel:
    """A queuing channel's FIFO, held at its destination: the depth is the destination port's,
    and so is the overflow flag. A channel without a destination (a SOURCE port the
    configuration connects to nothing) can take no message."""

    def __init__(self, depth: int | None) -> None:
        self.depth = depth  # None: no destination
        self.messages: deque[QueuedMessage] = deque()
        # a message was refused because the queue was full, since the destination last took one
        self.overflowed = False

    @property
    def connected(self) -> bool:
        return self.depth is not None

    def append(self, message: QueuedMessage) -> bool:
        """Queue a message; False (and the overflow flag set) when the queue is full."""
        assert self.depth is not None, "a channel without a destination takes no message"
        if len(self.messages) >= self.depth:
            self.overflowed = True
            return False
        self.messages.append(message)
        return True

    def oldest(self) -> QueuedMessage | None:
        return self.messages[0] if self.messages else None

    def take(self) -> QueuedMessage:
        """Remove the oldest message: the destination has it, so the overflow is reported."""
        self.overflowed = False
        return self.messages.popleft()

    def clear(self) -> None:
        self.messages.clear()
        self.overflowed = False


@dataclass
class SamplingPort:
    """A sampling port a partition created, and the validity of its last read (for its status)."""

    identifier: int
    config: PortEntry
    channel: SamplingChannel
    last_validity: str = INVALID


@dataclass
class QueuingPort:
    """A queuing port a partition created."""

    identifier: int
    config: PortEntry
    channel: QueuingChannel


Port = SamplingPort | QueuingPort


class PartitionPorts:
    """The ports one partition has created, by identifier and by name.

    Identifiers are the partition's own, from 1 in creation order over both kinds (0 is never a
    port, so a guest's zeroed variable names none); a restart starts the table over.
    """

    def __init__(self) -> None:
        self._by_id: dict[int, Port] = {}
        self._by_name: dict[str, Port] = {}

    def get(self, identifier: int) -> Port | None:
        return self._by_id.get(identifier)

    def named(self, name: str) -> Port | None:
        return self._by_name.get(name)

    def add_sampling(self, config: PortEntry, channel: SamplingChannel) -> SamplingPort:
        port = SamplingPort(len(self._by_id) + 1, config, channel)
        self._add(port)
        return port

    def add_queuing(self, config: PortEntry, channel: QueuingChannel) -> QueuingPort:
        port = QueuingPort(len(self._by_id) + 1, config, channel)
        self._add(port)
        return port

    def _add(self, port: Port) -> None:
        self._by_id[port.identifier] = port
        self._by_name[port.config.name] = port


class ModulePorts:
    """The module's ports: what the configuration gives each partition, the channels, and the
    ports each partition has created.

    Every configured port has a channel: its Connection_Table channel, or one of its own when
    the configuration connects it to nothing (a lone sampling source's writes are kept and read
    by nobody, a lone destination is never written, a lone queuing source can send nothing).
    Restarts are learnt by counting (``reconcile``), so that the module's restart path needs no
    knowledge of ports: a restart is only observable through a port call, and every port call
    reconciles first, so the effect is the same as forgetting at the restart itself.
    """

    def __init__(self, manifest: Manifest, like_pok: bool = False) -> None:
        self._configured: dict[int, dict[str, PortEntry]] = {
            p.identifier: {port.name: port for port in p.ports} for p in manifest.partitions
        }
        self._sampling: dict[tuple[int, str], SamplingChannel] = {}
        self._queuing: dict[tuple[int, str], QueuingChannel] = {}
        self._sent = 0  # messages numbered so far: each send or write takes the next number
        # the queues whose destination each partition is, which its restart empties
        self._inbound: dict[int, list[QueuingChannel]] = {p.identifier: []
                                                          for p in manifest.partitions}
        for channel in manifest.channels:
            ends = (channel.source, *channel.destinations)
            source = self.configured(*channel.source)
            if source is None:
                continue  # the configuration checks keep this out of images
            if source.kind == SAMPLING:
                shared = SamplingChannel()
                self._sampling.update(dict.fromkeys(ends, shared))
            else:
                destination = channel.destinations[0]
                config = self.configured(*destination)
                queue = QueuingChannel(config.max_nb_messages if config is not None else None)
                self._queuing.update(dict.fromkeys(ends, queue))
                self._inbound[destination[0]].append(queue)
        for identifier, ports in self._configured.items():
            for name, port in ports.items():
                key = (identifier, name)
                if port.kind == SAMPLING:
                    self._sampling.setdefault(key, SamplingChannel())
                elif key not in self._queuing:
                    lone = port.max_nb_messages if port.direction == DESTINATION else None
                    self._queuing[key] = QueuingChannel(lone)
                    if lone is not None:
                        self._inbound[identifier].append(self._queuing[key])
        self._created = {identifier: PartitionPorts() for identifier in self._configured}
        # POK's transfer (``like_pok``): a SOURCE port writes into an outbox of its own, which
        # moves into the channel at the end of its partition's window (``flush``)
        self._outboxes: dict[int, list[Outbox]] = {identifier: [] for identifier in
                                                   self._configured}
        if like_pok:
            self._add_outboxes(manifest)
        self._order = [p.identifier for p in manifest.partitions]  # reconcile's counts' order
        self._restarts = [0] * len(self._order)

    def _add_outboxes(self, manifest: Manifest) -> None:
        for channel in manifest.channels:
            partition, name = channel.source
            config = self.configured(partition, name)
            if config is None:
                continue
            key = (partition, name)
            outbox: Outbox
            if config.kind == SAMPLING:
                outbox = SamplingOutbox(self._sampling[key], channel.destinations)
                self._sampling[key] = outbox.pending
            else:
                outbox = QueuingOutbox(self._queuing[key], channel.destinations)
                self._queuing[key] = outbox.pending
            self._outboxes[partition].append(outbox)

    def flush(self, partition: int, now_ns: int) -> None:
        """The end of the partition's window, under POK's transfer: what its SOURCE ports hold
        moves into their channels, if a destination port has been created by then (POK moves
        a message only to a port that exists, and drops it otherwise)."""
        for outbox in self._outboxes[partition]:
            outbox.flush(self._created, now_ns)

    def numbered(self) -> int:
        """The next message's number in the module (from 1; the trace links by it)."""
        self._sent += 1
        return self._sent

    def configured(self, partition: int, name: str) -> PortEntry | None:
        """The port of this name the configuration gives the partition, if any."""
        return self._configured.get(partition, {}).get(name)

    def sampling_channel(self, partition: int, name: str) -> SamplingChannel:
        return self._sampling[partition, name]

    def queuing_channel(self, partition: int, name: str) -> QueuingChannel:
        return self._queuing[partition, name]

    def created(self, partition: int) -> PartitionPorts:
        return self._created[partition]

    def reconcile(self, restarts: Sequence[int]) -> None:
        """Catch up with the partitions' restart counts, in the manifest's order: every
        partition restarted since the last look forgets its ports and its inbound queues.
        Every port call comes here first, so the usual case, no restart, is one comparison."""
        if restarts == self._restarts:
            return
        for n, (partition, count) in enumerate(zip(self._order, restarts, strict=True)):
            if self._restarts[n] != count:
                self._restarts[n] = count
                self.restarted(partition)

    def restarted(self, partition: int) -> None:
        """The partition was reloaded: it must create its ports again, and the messages queued
        for it are dropped. Sampling messages stay in their channels."""
        self._created[partition] = PartitionPorts()
        for queue in self._inbound[partition]:
            queue.clear()


class SamplingOutbox:
    """A sampling SOURCE's latest write, kept until its window ends (POK's transfer)."""

    def __init__(self, channel: SamplingChannel, destinations: Sequence[tuple[int, str]]
                 ) -> None:
        self.channel = channel
        self.destinations = tuple(destinations)
        self.pending = SamplingChannel()

    def flush(self, created: dict[int, PartitionPorts], now_ns: int) -> None:
        message, self.pending.message = self.pending.message, None
        if message is not None and _any_created(created, self.destinations):
            self.channel.write(message.data, now_ns, message.number)  # its age: from the move


class QueuingOutbox:
    """A queuing SOURCE's messages, kept until its window ends (POK's transfer)."""

    def __init__(self, channel: QueuingChannel, destinations: Sequence[tuple[int, str]]
                 ) -> None:
        self.channel = channel
        self.destinations = tuple(destinations)
        self.pending = QueuingChannel(channel.depth)

    def flush(self, created: dict[int, PartitionPorts], now_ns: int) -> None:
        if _any_created(created, self.destinations):
            for message in self.pending.messages:
                self.channel.append(message)  # a full queue drops it, as POK's does
        self.pending.clear()


Outbox = SamplingOutbox | QueuingOutbox


def _any_created(created: dict[int, PartitionPorts],
                 destinations: Sequence[tuple[int, str]]) -> bool:
    return any(created[partition].named(name) is not None for partition, name in destinations)


@dataclass(frozen=True)
class SamplingStatus:
    """SAMPLING_PORT_STATUS_TYPE, with the direction and validity by name."""

    refresh_period_ns: int
    max_message_size: int
    direction: str
    last_msg_validity: str


@dataclass(frozen=True)
class QueuingStatus:
    """QUEUING_PORT_STATUS_TYPE, with the direction by name."""

    nb_message: int
    max_nb_message: int
    max_message_size: int
    direction: str
    overflowed: bool


class PortCalls:
    """The APEX rules of one partition's port calls (ARINC 653 Part 1). A call that would
    wait answers NOT_AVAILABLE: whether its caller waits is the services' to decide.

    Checks come in ARINC's order, with one change: a creation's attributes are checked before
    whether the port exists already, so NO_ACTION always means "that very port, as
    configured" and carries its identifier. Every call that names a port by identifier
    answers INVALID_PARAM for one this partition has not created as that kind.
    """

    def __init__(self, ports: ModulePorts, partition: int) -> None:
        self.ports = ports
        self.partition = partition

    # -- creation and look-up -------------------------------------------------------------
    def sampling_create(self, name: str, max_size: int, direction: str, refresh_ns: int,
                        initializing: bool) -> tuple[PortOutcome, int | None]:
        config = self.ports.configured(self.partition, name)
        if config is None or config.kind != SAMPLING:
            return PortOutcome(INVALID_CONFIG, reason=f"no sampling port '{name}' here"), None
        wrong = _mismatch(config, max_size, direction, ("refresh period", refresh_ns,
                                                        config.refresh_period_ns))
        return self._create(config, wrong, initializing)

    def queuing_create(self, name: str, max_size: int, depth: int | None, direction: str,
                       initializing: bool) -> tuple[PortOutcome, int | None]:
        """`depth` None: the caller does not repeat it (POK's call has none), the configured
        one holds."""
        config = self.ports.configured(self.partition, name)
        if config is None or config.kind != QUEUING:
            return PortOutcome(INVALID_CONFIG, reason=f"no queuing port '{name}' here"), None
        configured = config.max_nb_messages
        wrong = _mismatch(config, max_size, direction,
                          ("depth", configured if depth is None else depth, configured))
        return self._create(config, wrong, initializing)

    def _create(self, config: PortEntry, wrong: str,
                initializing: bool) -> tuple[PortOutcome, int | None]:
        if wrong:
            return PortOutcome(INVALID_CONFIG, config.name, reason=wrong), None
        created = self.ports.created(self.partition)
        existing = created.named(config.name)
        if existing is not None:
            outcome = PortOutcome(NO_ACTION, config.name, reason="already created")
            return outcome, existing.identifier
        if not initializing:
            return PortOutcome(INVALID_MODE, config.name, reason="created in NORMAL mode"), None
        key = (self.partition, config.name)
        port: Port
        if config.kind == SAMPLING:
            port = created.add_sampling(config, self.ports.sampling_channel(*key))
        else:
            port = created.add_queuing(config, self.ports.queuing_channel(*key))
        return PortOutcome(OK, config.name), port.identifier

    def port_id(self, kind: str, name: str) -> tuple[PortOutcome, int | None]:
        port = self.ports.created(self.partition).named(name)
        if port is None or port.config.kind != kind:
            return PortOutcome(INVALID_CONFIG, reason=f"no {kind} port '{name}' created"), None
        return PortOutcome(OK, name), port.identifier

    # -- sampling ---------------------------------------------------------------------------
    def sampling_write(self, identifier: int, data: bytes, now_ns: int) -> PortOutcome:
        port = self._sampling(identifier)
        if port is None:
            return _unknown(SAMPLING, identifier, len(data))
        refused = _refused_outgoing(port.config, len(data))
        if refused is not None:
            return refused
        name, size, number = port.config.name, len(data), self.ports.numbered()
        port.channel.write(data, now_ns, number)
        return PortOutcome(OK, name, size, message=number)

    def sampling_read(self, identifier: int, capacity: int | None, now_ns: int
                      ) -> tuple[PortOutcome, bytes | None, int | None, str | None]:
        """The latest message, its length and its validity: VALID while its age is at most
        this port's refresh period. `capacity` None: the caller's buffer holds the port's
        largest message."""
        port = self._sampling(identifier)
        if port is None:
            return _unknown(SAMPLING, identifier), None, None, None
        name = port.config.name
        if port.config.direction != DESTINATION:
            refused = PortOutcome(INVALID_MODE, name, reason="not a DESTINATION port")
            return refused, None, None, None
        message = port.channel.message
        if message is None:
            port.last_validity = INVALID
            return PortOutcome(NO_ACTION, name, 0, "nothing written yet"), None, 0, INVALID
        size = len(message.data)
        if capacity is not None and capacity < size:
            reason = f"{size} bytes do not fit {capacity}"
            return PortOutcome(INVALID_PARAM, name, size, reason), None, None, None
        refresh = port.config.refresh_period_ns
        assert refresh is not None, "a sampling port has a refresh period"
        port.last_validity = VALID if now_ns - message.written_ns <= refresh else INVALID
        return (PortOutcome(OK, name, size, message=message.number), message.data, size,
                port.last_validity)

    def sampling_status(self, identifier: int) -> tuple[PortOutcome, SamplingStatus | None]:
        port = self._sampling(identifier)
        if port is None:
            return _unknown(SAMPLING, identifier), None
        config = port.config
        assert config.refresh_period_ns is not None, "a sampling port has a refresh period"
        status = SamplingStatus(config.refresh_period_ns, config.max_message_size,
                                config.direction, port.last_validity)
        return PortOutcome(OK, config.name), status

    # -- queuing ----------------------------------------------------------------------------
    def queuing_send(self, identifier: int, data: bytes) -> PortOutcome:
        port = self._queuing(identifier)
        if port is None:
            return _unknown(QUEUING, identifier, len(data))
        refused = _refused_outgoing(port.config, len(data))
        if refused is not None:
            return refused
        name, size = port.config.name, len(data)
        if not port.channel.connected:
            return PortOutcome(INVALID_CONFIG, name, size, "connected to no destination")
        number = self.ports.numbered()
        if not port.channel.append(QueuedMessage(data, number)):
            return PortOutcome(NOT_AVAILABLE, name, size, "queue full")
        return PortOutcome(OK, name, size, message=number)

    def queuing_receive(self, identifier: int, capacity: int
                        ) -> tuple[PortOutcome, bytes | None, int | None]:
        port = self._queuing(identifier)
        if port is None:
            return _unknown(QUEUING, identifier), None, None
        name = port.config.name
        if port.config.direction != DESTINATION:
            return PortOutcome(INVALID_MODE, name, reason="not a DESTINATION port"), None, None
        oldest = port.channel.oldest()
        if oldest is None:
            return PortOutcome(NOT_AVAILABLE, name, 0, "queue empty"), None, 0
        size = len(oldest.data)
        if capacity < size:
            reason = f"{size} bytes do not fit {capacity}"
            return PortOutcome(INVALID_PARAM, name, size, reason), None, None
        message = port.channel.take()
        return PortOutcome(OK, name, size, message=message.number), message.data, size

    def queuing_status(self, identifier: int) -> tuple[PortOutcome, QueuingStatus | None]:
        """A SOURCE port's own queue is always empty: a message goes to the destination's
        queue as it is sent (or is refused), so only a DESTINATION counts messages and
        overflows."""
        port = self._queuing(identifier)
        if port is None:
            return _unknown(QUEUING, identifier), None
        config, queue = port.config, port.channel
        assert config.max_nb_messages is not None, "a queuing port has a depth"
        inbound = config.direction == DESTINATION
        status = QueuingStatus(len(queue.messages) if inbound else 0, config.max_nb_messages,
                               config.max_message_size, config.direction,
                               queue.overflowed and inbound)
        return PortOutcome(OK, config.name), status

    # -- identifiers ----------------------------------------------------------------------
    def _sampling(self, identifier: int) -> SamplingPort | None:
        port = self.ports.created(self.partition).get(identifier)
        return port if isinstance(port, SamplingPort) else None

    def _queuing(self, identifier: int) -> QueuingPort | None:
        port = self.ports.created(self.partition).get(identifier)
        return port if isinstance(port, QueuingPort) else None


def _mismatch(config: PortEntry, max_size: int, direction: str,
              third: tuple[str, int | None, int | None]) -> str:
    """Why a creation's attributes are not the configured ones ("" when they are)."""
    what, given, configured = third
    for label, asked, wanted in (("direction", direction, config.direction),
                                 ("max message size", max_size, config.max_message_size),
                                 (what, given, configured)):
        if asked != wanted:
            return f"{label} {asked}, configured {wanted}"
    return ""


def _unknown(kind: str, identifier: int, length: int = 0) -> PortOutcome:
    return PortOutcome(INVALID_PARAM, "", length, f"no {kind} port {identifier} created")


def _refused_outgoing(config: PortEntry, size: int) -> PortOutcome | None:
    """What APEX answers a write or send of `size` bytes on the port, in ARINC's order of
    checks, if it refuses it: oversize, empty, not a SOURCE port."""
    if size > config.max_message_size:
        return PortOutcome(INVALID_CONFIG, config.name, size,
                       f"longer than its {config.max_message_size} bytes")
    if size == 0:
        return PortOutcome(INVALID_PARAM, config.name, 0, "empty message")
    if config.direction != SOURCE:
        return PortOutcome(INVALID_MODE, config.name, size, "not a SOURCE port")
    return None
