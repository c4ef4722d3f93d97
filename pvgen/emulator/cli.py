"""`pvgen boot IMAGE` and `python -m pvgen.emulator IMAGE`: boot an image, report like a
tester."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from contextlib import nullcontext
from decimal import Decimal, InvalidOperation
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from pvgen.defaults import GEN_DIR as DEFAULT_GEN_DIR
from pvgen.diagnostics import PvgenError
from pvgen.emulator.errors import EmulatorError
from pvgen.emulator.hm import log_lines
from pvgen.emulator.progress import ClearingWriter, Progress, StatusLine
from pvgen.tester import Verdict

if TYPE_CHECKING:
    from pvgen.emulator.module import Module
    from pvgen.emulator.run import RunResult


def _seconds(text: str) -> int:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError("the time must be positive")
    return int(value * 1_000_000_000)


def positive(text: str) -> int:
    """An option's whole number of at least 1 (argparse's type: a bad one is a usage error)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def add_run_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--frames", type=positive, help="stop after N major frames")
    parser.add_argument("--time", dest="time_ns", type=_seconds, metavar="SECONDS",
                        help="stop at this virtual time (default: when every partition has "
                        "stopped, at most 60 s)")
    parser.add_argument("--mips", type=positive, default=100,
                        help="virtual CPU rate in million instructions per second (default 100)")
    parser.add_argument("--wall-clock", action="store_true",
                        help="give windows their duration in host time (not deterministic)")
    parser.add_argument("--trace", type=Path, help="write a Chrome/Perfetto trace JSON here")
    parser.add_argument("--junit", type=Path, metavar="FILE",
                        help="write a JUnit XML report here: a test case per partition, its "
                        "verdict, console and health-monitor events (for CI)")
    parser.add_argument("--console-dir", type=Path,
                        help="also write each partition's console to DIR/NAME.log")
    parser.add_argument("--console-baud", type=positive, metavar="BAUD",
                        help="a console write takes the time a serial line of BAUD bits a "
                        "second takes to send it (POK's console: 38400; default: no time; "
                        "deterministic time only)")
    parser.add_argument("--like-pok", action="store_true",
                        help="serve as real POK with pvgen's kernel side does: port messages "
                        "move at the end of the sender's window, and only to destination ports "
                        "created by then; no HM tables (what cannot resume stops the partition)")
    parser.add_argument("--gen", type=Path, default=None,
                        help="a directory `pvgen gen` wrote, whose dispatcher to boot with "
                        "(default: generated from the definition the image carries; for an "
                        f"image that carries none, {DEFAULT_GEN_DIR})")


def boot(image: Path, args: argparse.Namespace) -> int:
    # Unicorn and pyelftools only when booting: `pvgen` builds its parser with add_run_options
    # for every command, and `pvgen --help` or `pvgen gen` must work without the extras
    from pvgen.emulator.junit import junit_report
    from pvgen.emulator.loader import load
    from pvgen.emulator.module import Module
    from pvgen.emulator.run import RunOptions

    loaded, dispatcher = load(image, args.gen)
    status = StatusLine(sys.stderr) if sys.stderr.isatty() else None
    options = RunOptions(mips=args.mips, frames=args.frames, time_ns=args.time_ns,
                         wall_clock=args.wall_clock, trace=args.trace,
                         console_dir=args.console_dir, console_baud=args.console_baud,
                         like_pok=args.like_pok, transcripts=args.junit is not None,
                         out=sys.stdout if status is None else ClearingWriter(sys.stdout, status))
    module = Module(loaded, dispatcher, options)
    with nullcontext() if status is None else Progress(status, partial(_where, module)):
        result = module.run()
    print(summary(result))
    if args.junit is not None:
        _write_report(args.junit, junit_report(result, loaded.manifest.module))
    return result.exit_status


def _write_report(path: Path, report: bytes) -> None:
    try:
        path.write_bytes(report)
    except OSError as exc:
        raise EmulatorError(f"pvgen: error: {path}: cannot write the JUnit report: "
                            f"{exc.strerror}") from None


def _where(module: Module, host_seconds: float) -> str:
    """The progress line: the virtual time reached, where the run stops, the host time."""
    return (f"pvgen: running {module.manifest.module}: {module.reached_ns / 1e9:.2f} of "
            f"{module.options.stops_at_ns(module.manifest.major_frame_ns) / 1e9:g} s virtual, "
            f"{host_seconds:.0f} s")


# How the summary says a verdict where its word alone would not tell.
_SAID = {Verdict.TIMEOUT: "timeout (its test had not ended when the run stopped at its limit)",
         Verdict.INVALID: "no test"}


def summary(result: RunResult) -> str:
    lines = [f"run ended ({result.ended_by}) at {result.now_ns / 1e9:.6f} s virtual, "
             f"{result.frames} major frame(s)"]
    for p in result.partitions:
        ticks = (f", timer ticks {p.ticks_due} due / {p.ticks_raised} raised"
                 if p.ticks_due else "")
        ended = " (its program ended)" if p.ended and p.mode != "IDLE" else ""
        said = _SAID.get(p.verdict, p.verdict.value)
        lines.append(f"  {p.name}: {said}, mode {p.mode}{ended}, {p.hypercalls} "
                     f"hypercalls, {p.restarts} restart(s){ticks}")
    if result.hm_events:  # a run without events says nothing about the health monitor
        lines += log_lines(result.hm_log, result.hm_events)
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pvgen.emulator", description=__doc__)
    parser.add_argument("image", type=Path, help="an image made by `pvgen image`")
    add_run_options(parser)
    args = parser.parse_args(argv)
    try:
        return boot(args.image, args)
    except PvgenError as exc:
        print(exc.render(), file=sys.stderr)
        return exc.exit_status
