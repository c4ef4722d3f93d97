"""``pvgen rtems``: the RTEMS harness's commands.

``pvgen rtems toolchain`` builds (once) the i386-rtems6 toolchain from zig's clang and a
newlib source; ``pvgen rtems build`` builds RTEMS 6 with the pokpv BSP and the chosen
test suites; ``pvgen rtems test`` builds, then runs each test program as a partition and
counts the verdicts with the RTEMS tester's rules, and compares each sample's output with
RTEMS's expected output (``pvgen.rtems.expected``); ``pvgen rtems app`` builds an
application of one's own against the BSP (``pvgen.rtems.app``). Sources come from the options or
from ``PVGEN_RTEMS_SRC`` and ``PVGEN_NEWLIB_SRC`` (a checkout or a source archive).
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from pvgen.diagnostics import PvgenError
from pvgen.rtems import BSP, DEFAULT_LIMIT_NS, SUITES
from pvgen.tester import TESTER_VERDICTS

if TYPE_CHECKING:  # the commands import what they use when they run (jinja2, the emulator)
    from pvgen.rtems.build import RtemsBuild
    from pvgen.rtems.expected import Comparison
    from pvgen.rtems.run import ProgramRun
    from pvgen.rtems.toolchain import Toolchain

DEFAULT_SUITES = ("samples",)

class SelectionError(PvgenError):
    """Tests named on the command line that the suites do not have."""


Subcommands = argparse._SubParsersAction  # argparse's own type for add_subparsers()


def add_commands(commands: Subcommands[argparse.ArgumentParser],
                 add_definition: Callable[[argparse.ArgumentParser], None]) -> None:
    """The ``rtems`` command and its subcommands, below pvgen's commands."""
    rtems = commands.add_parser(
        "rtems", help="build the RTEMS toolchain, RTEMS with the pokpv BSP, and run RTEMS's "
        "tests as partitions")
    sub = rtems.add_subparsers(dest="rtems_command", required=True, metavar="SUBCOMMAND")

    toolchain = sub.add_parser("toolchain", help="build the i386-rtems6 toolchain from zig's "
                               "clang and newlib (once; it is cached)")
    _add_toolchain_options(toolchain)
    toolchain.add_argument("--rebuild", action="store_true",
                           help="build it again even if it is in the cache")
    toolchain.set_defaults(run=_cmd_toolchain)

    build = sub.add_parser("build", help="build RTEMS 6 with the pokpv BSP and test suites")
    test = sub.add_parser("test", help="build, then run the test programs as partitions and "
                          "count their verdicts by the RTEMS tester's rules")
    for command, run in ((build, _cmd_build), (test, _cmd_test)):
        command.add_argument("--rtems-src", type=Path, default=None,
                             help="an RTEMS 6 checkout or source archive (default: "
                             "$PVGEN_RTEMS_SRC)")
        _add_toolchain_options(command)
        command.add_argument("--suites", type=_suites, default=DEFAULT_SUITES,
                             help=f"comma-separated, of {', '.join(SUITES)} (default: "
                             f"{','.join(DEFAULT_SUITES)})")
        add_definition(command)
        command.set_defaults(run=run)
    app = sub.add_parser("app", help="build an RTEMS application of one's own against the "
                         "pokpv BSP (building RTEMS first if need be), for <Guest Elf=...>")
    app.add_argument("sources", nargs="+", type=Path, metavar="SOURCE", help="its C files")
    app.add_argument("--out", type=Path, required=True, help="the application's ELF")
    app.add_argument("--rtems-src", type=Path, default=None,
                     help="an RTEMS 6 checkout or source archive (default: $PVGEN_RTEMS_SRC)")
    _add_toolchain_options(app)
    add_definition(app)
    app.set_defaults(run=_cmd_app, suites=None)  # the BSP as last built
    test.add_argument("tests", nargs="*", metavar="TEST",
                      help="run only these tests (by name, e.g. hello sp01)")
    test.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                      help="tests run at once (default: one per processor)")
    test.add_argument("--time", type=float, default=DEFAULT_LIMIT_NS / 1e9, metavar="SECONDS",
                      help=f"virtual seconds a test may take (default: "
                      f"{DEFAULT_LIMIT_NS // 10**9})")


def _suites(text: str) -> tuple[str, ...]:
    """--suites: comma-separated names of SUITES (argparse refuses others, exit 2)."""
    suites = tuple(s for s in text.split(",") if s)
    unknown = [s for s in suites if s not in SUITES]
    if unknown:
        raise argparse.ArgumentTypeError(
            f"no test suite {', '.join(unknown)} (the harness builds {', '.join(SUITES)})")
    return suites


def _add_toolchain_options(command: argparse.ArgumentParser) -> None:
    command.add_argument("--newlib-src", type=Path, default=None,
                         help="newlib at RTEMS 6's commit, a checkout or source archive "
                         "(default: $PVGEN_NEWLIB_SRC)")
    command.add_argument("--rtems-tools", type=Path, default=None, metavar="PREFIX",
                         help="use the i386-rtems6 gcc installed below PREFIX (the RTEMS "
                         "Source Builder's) instead of zig's clang")


def _toolchain(args: argparse.Namespace, rebuild: bool = False) -> Toolchain:
    from pvgen.rtems.sources import NEWLIB, locate
    from pvgen.rtems.toolchain import gcc_toolchain, zig_toolchain

    if args.rtems_tools is not None:
        return gcc_toolchain(args.rtems_tools)
    return zig_toolchain(locate(NEWLIB, args.newlib_src), rebuild=rebuild)


def _cmd_toolchain(args: argparse.Namespace) -> int:
    print(f"pvgen: the i386-rtems6 toolchain: {_toolchain(args, args.rebuild).description}")
    return 0


def _build(args: argparse.Namespace) -> tuple[RtemsBuild, Toolchain]:
    from pvgen.definition import load
    from pvgen.rtems.build import build_rtems
    from pvgen.rtems.sources import RTEMS, locate

    suites: tuple[str, ...] | None = args.suites
    rtems = locate(RTEMS, args.rtems_src)
    toolchain = _toolchain(args)
    return build_rtems(load(args.definition), rtems, toolchain, suites), toolchain


def _cmd_build(args: argparse.Namespace) -> int:
    built, _ = _build(args)
    print(f"pvgen: built RTEMS in {built.seconds:.0f} s; the programs are below "
          f"{built.bsp_dir / 'testsuites'}")
    for suite in args.suites:
        failed = built.failed(suite)
        print(f"  {suite}: {len(built.executables(suite))} built"
              + (f", failed to build: {' '.join(failed)}" if failed else ""))
    return 0


def _cmd_app(args: argparse.Namespace) -> int:
    from pvgen.rtems.app import build_application

    built, toolchain = _build(args)
    elf = build_application(built, toolchain, args.sources, args.out)
    print(f"pvgen: built {elf} for {BSP}")
    return 0


def _cmd_test(args: argparse.Namespace) -> int:
    from pvgen.rtems.expected import compare
    from pvgen.rtems.run import Runner, SuiteProgram

    built, _ = _build(args)
    built_programs = [SuiteProgram(suite, name, elf) for suite in args.suites
                      for name, elf in built.executables(suite).items()]
    wanted = set(args.tests)
    programs = [p for p in built_programs
                if not wanted or {p.name, p.name.split(".")[0]} & wanted]
    unknown = wanted - {n for p in built_programs for n in (p.name, p.name.split(".")[0])}
    if unknown:
        raise SelectionError(f"pvgen: error: no test program {', '.join(sorted(unknown))} in "
                         f"the suites {','.join(args.suites)}")
    runner = Runner(args.definition.resolve(), built.work / "gen", built.work / "images",
                    limit_ns=int(args.time * 1e9))
    runs = runner.run_all(programs, args.jobs)
    differing = []
    for run in runs:
        comparison = compare(built.tree, run.name, run.console) if run.suite == "samples" else None
        print(_line(run, comparison))
        if comparison is not None and not comparison.same:
            differing.append(comparison)
            print(comparison.diff())
    print(format_counts(runs))
    if differing:
        print(f"Output unlike RTEMS's .scn: {' '.join(c.name for c in differing)}")
    return 1 if differing or any(run.verdict.bad for run in runs) else 0


def _line(run: ProgramRun, comparison: Comparison | None) -> str:
    detail = f" ({run.health[0]})" if run.health else ""
    scn = ""
    if comparison is not None:
        scn = f", {'as' if comparison.same else 'UNLIKE'} its .scn ({comparison.rule})"
    return (f"  {run.suite}/{run.name}: {run.verdict.value}{detail}{scn}, "
            f"{run.virtual_ns / 1e9:.3f} s virtual, {run.host_seconds:.1f} s host")


def format_counts(runs: list[ProgramRun]) -> str:
    """The RTEMS tester's summary table of the runs."""
    from pvgen.rtems.run import counts

    table = counts(runs)
    width = len(str(len(runs)))
    lines = [f"{v.label + ':':<15}{table[v]:>{width}}" for v in TESTER_VERDICTS]
    lines.append(f"{'Total:':<15}{len(runs):>{width}}")
    return "\n".join(lines)
