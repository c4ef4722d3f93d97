"""Serving a partition's hypercalls: from the trap to what the call does.

The generated dispatcher checks and decodes, a service answers or returns an Effect
(``pvgen.emulator.effects``), and ``CallServer`` acts on it, in one place: it writes the
answer, delivers a line that is ready as the call returns, halts the CPU, and blocks a
caller in its call, serving the call again until it answers. A blocked call can only be
ended by another partition, and others run only outside the caller's windows, so the
window loop asks for it again as each of the caller's windows starts and when its deadline
falls inside one (``end_wait``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from pvgen.emulator.calltrace import Recording, answered, shown
from pvgen.emulator.clock import RunTime
from pvgen.emulator.contract import Fetcher
from pvgen.emulator.cpu import NO_RESULT
from pvgen.emulator.effects import Block, Deliver, Halt, Resume, StopReason
from pvgen.emulator.partition import Partition, Waiting
from pvgen.emulator.trace import Trace
from pvgen.emulator.vcpu import UpcallDoesNotFit

# What the call server reports to the health monitor: the partition, the error, its detail,
# and whether the partition can be resumed after it.
HealthReport = Callable[[Partition, str, str, bool], None]


class CallServer:
    """The module's hypercall path, shared by its partitions."""

    def __init__(self, fetch: Fetcher, return_register: str, time: RunTime, trace: Trace,
                 report: HealthReport, numbers: Mapping[str, int]) -> None:
        """`numbers`: each hypercall's number, by name (the trace names the calls)."""
        self._fetch = fetch
        self._names = {number: name for name, number in numbers.items()}
        self._return_register = return_register
        self._time = time
        self._trace = trace
        self._tracing = trace.enabled
        self._report = report

    def on_trap(self, partition: Partition) -> int:
        """Serve a hypercall the fast path left to Python: what it did comes first, and it
        is armed after if the call leaves the partition in the steady state."""
        fast = partition.fast
        if fast is None:
            return self._serve(partition)
        fast.reconcile(partition.vcpu, partition.timer)
        result = self._serve(partition)
        if not partition.owed_ns:  # the native cycle starts segments that owe nothing
            fast.arm(partition.vcpu, partition.timer)
        return result

    def _serve(self, partition: Partition) -> int:
        """The word for the result register, or NO_RESULT to leave the registers alone."""
        registers = partition.cpu.trap_view  # read by the native hook for this trap
        at = self._time.now() if self._tracing else 0
        answer = self._fetch(registers, partition.memory, partition.services)
        if self._tracing:
            self._traced(partition, at, registers[0], answer)
        if isinstance(answer, int):
            result = answer
        elif isinstance(answer, Halt):
            partition.halt(answer.reason, detail=answer.detail)
            return NO_RESULT if answer.answer is None else answer.answer
        else:
            result = self._act(partition, answer)
        if partition.stop is not None:  # the health monitor stopped it, or it blocked
            return NO_RESULT
        line = partition.vcpu.ready()
        if line is None:
            return result
        if result != NO_RESULT:  # the frame must hold the result, as the guest resumes with it
            partition.write_register(self._return_register, result)
        self.deliver(partition, line)
        return NO_RESULT

    def handlers(self, services: object) -> object:
        """The handlers a partition's calls go to: its services, recorded in a traced run."""
        return Recording(services) if self._tracing else services

    def _traced(self, partition: Partition, at: int, number: int, answer: object) -> None:
        """The call's instant: its name, its decoded arguments (none if it was refused), its
        answer."""
        services = partition.services
        call = services.call if isinstance(services, Recording) else None
        if isinstance(services, Recording):
            services.call = None
        args = {} if call is None or call[0] == "hypercall_rejected" else {
            name: shown(value) for name, value in call[1].items()}
        self._trace.instant(partition.entry.identifier, at, "hypercall",
                            self._names.get(number, f"hypercall {number}"), number=number,
                            arguments=args, answer=answered(answer))

    def _act(self, partition: Partition, effect: object) -> int:
        """Act on an effect that leaves the caller's CPU running (or blocked): NO_RESULT, as
        the registers are then what the effect made them."""
        if isinstance(effect, Block):
            self._block(partition, effect.timeout_ns)
        elif isinstance(effect, Deliver):
            partition.write_register(self._return_register, effect.answer)
            self.deliver(partition, effect.line, effect.resumes_enabled)
        else:  # the context it restored is in the registers
            assert isinstance(effect, Resume), f"a service returned {effect!r}"
        return NO_RESULT

    def deliver(self, partition: Partition, line: int, resumes_enabled: bool = True) -> None:
        """Enter the partition's upcall handler for a line, between segments or as a hypercall
        returns. A frame that would not fit the partition (a wild stack pointer) is the
        partition's memory violation, for the health monitor; the emulator goes on."""
        try:
            entry = partition.vcpu.deliver(partition, line, resumes_enabled)
        except UpcallDoesNotFit as exc:
            self._report(partition, "MEMORY_VIOLATION", str(exc), False)
            return
        if self._tracing:
            self._trace.instant(partition.entry.identifier, self._time.now(), "irq",
                                f"line {line}", frame=entry.frame)

    # -- blocking calls (a queuing port call with a timeout) ------------------------------
    def _block(self, partition: Partition, timeout_ns: int) -> None:
        """Block the caller in its call for at most `timeout_ns` (negative: for good)."""
        now = self._time.now()
        deadline = None if timeout_ns < 0 else now + timeout_ns
        partition.waiting = Waiting(tuple(partition.cpu.trap_view), deadline)
        partition.halt(StopReason.WAIT)
        if self._tracing:
            # its own category: the trace has one `hypercall` instant per call served
            self._trace.instant(partition.entry.identifier, now, "wait", "wait",
                                deadline=deadline)

    def waited(self, partition: Partition) -> bool:
        """Whether the call being served again has waited until its deadline (its service
        then answers as the wait running out says, instead of blocking again)."""
        waiting = partition.waiting
        return (waiting is not None and waiting.deadline_ns is not None
                and self._time.now() >= waiting.deadline_ns)

    def _serve_again(self, partition: Partition) -> bool:
        """Serve the call the partition waits in again: True once it has ended (its result
        in the return register, as if it had just returned), False while it waits on."""
        waiting = partition.waiting
        assert waiting is not None
        answer = self._fetch(waiting.registers, partition.memory, partition.services)
        if isinstance(answer, Block):
            return False
        assert isinstance(answer, int), f"a blocking call's service answered {answer}"
        partition.waiting = None
        partition.write_register(self._return_register, answer)
        return True

    def end_wait(self, partition: Partition, end: int) -> bool:
        """End the wait of a partition that has the processor until `end`, if it can end:
        at once, or at its deadline if that falls by `end` (time jumps there: nothing else
        runs meanwhile; a deadline at `end` itself runs out before the next window's
        partition can change anything). False: it sleeps to `end`."""
        if self._serve_again(partition):
            return True
        waiting = partition.waiting
        assert waiting is not None
        if waiting.deadline_ns is None or waiting.deadline_ns > end:
            return False
        self._time.clock.skip(waiting.deadline_ns)
        return self._serve_again(partition)
