"""``pvgen pok-check``: build module configurations for real POK and for the emulator, boot
both, and say partition by partition whether they print the same (``pvgen.pok.check``)."""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from pvgen.diagnostics import PvgenError

if TYPE_CHECKING:
    from pvgen.pok.check import SystemCheck

Subcommands = argparse._SubParsersAction  # argparse's own type for add_subparsers()

# POK's own system calls: what the unmodified kernel serves.
DEFAULT_DEFINITION = Path("examples/hypervisors/pok_x86.def")
DEFAULT_CONFIGS = (Path("examples/hello/module.xml"), Path("examples/multi/module.xml"),
                   Path("tests/profiles/pokports.xml"))


def add_commands(commands: Subcommands[argparse.ArgumentParser]) -> None:
    check = commands.add_parser(
        "pok-check", help="build systems for real POK (its make rules) and for the emulator, "
        "boot POK under qemu-system-i386, and compare each partition's console")
    check.add_argument("configs", type=Path, nargs="*", metavar="CONFIG",
                       default=list(DEFAULT_CONFIGS),
                       help="module configurations (default: "
                       f"{' '.join(map(str, DEFAULT_CONFIGS))})")
    check.add_argument("--def", "--definition", dest="definition", type=Path,
                       default=DEFAULT_DEFINITION,
                       help=f"the hypercall definition (default: {DEFAULT_DEFINITION}, POK's "
                       "own system calls)")
    check.add_argument("--pok", type=Path, default=None, metavar="DIR",
                       help="a POK checkout (default: $POK_SRC, else ../shared/pok/pok.bundle "
                       "beside this project); it is copied, never built in")
    check.add_argument("--work", type=Path, default=None, metavar="DIR",
                       help="where the images, POK systems and POK's tree go (default: a "
                       "temporary directory)")
    check.set_defaults(run=_cmd_check)
    patch = commands.add_parser(
        "pok-patch", help="give a POK tree the kernel side of a hypercall definition: its "
        "gates, dispatch, handlers and paravirtual CPU, and the hooks that call them")
    patch.add_argument("--pok", type=Path, required=True, metavar="DIR",
                       help="the POK checkout to patch (its files are edited in place)")
    patch.add_argument("--def", "--definition", dest="definition", type=Path,
                       default=Path("hypercalls.def"),
                       help="the hypercall definition (default: hypercalls.def)")
    patch.set_defaults(run=_cmd_patch)


def _cmd_patch(args: argparse.Namespace) -> int:
    from pvgen.definition import load
    from pvgen.pok.patch import patch_tree

    iface = load(args.definition)
    changed = patch_tree(args.pok, iface)
    print(f"pvgen: {args.pok}: the kernel side of {iface.name} v{iface.version} "
          f"({iface.fingerprint}); {len(changed)} file(s) written or edited")
    for path in changed:
        print(f"  {path}")
    return 0


def _cmd_check(args: argparse.Namespace) -> int:
    from pvgen.definition import load
    from pvgen.pok.check import check_system
    from pvgen.pok.tree import locate, work_tree

    source = locate(args.pok, Path.cwd())
    iface = load(args.definition)
    status = 0
    with tempfile.TemporaryDirectory(prefix="pvgen-pok-") as scratch:
        work = args.work or Path(scratch)
        tree = work_tree(source, work, iface)
        for config in args.configs:
            try:
                result = check_system(config, args.definition, work, tree)
            except PvgenError as exc:  # the others are still checked
                print(exc.render(), file=sys.stderr)
                status = max(status, exc.exit_status)
                continue
            print(report(result), flush=True)
            status = max(status, 0 if result.same else 1)
    return status


def report(result: SystemCheck) -> str:
    """One line per partition, and the differences as unified diffs."""
    qemu = result.qemu
    done = "" if qemu.done_seconds is None else f", all printed at {qemu.done_seconds:.1f} s"
    lines = [f"{result.module}: POK built in {result.build_seconds:.1f} s, ran "
             f"{qemu.seconds:.1f} s under QEMU{done} (ended: {qemu.ended_by})"]
    for partition in result.partitions:
        verdict = "same" if partition.same else "DIFFERENT"
        lines.append(f"  {partition.name}: {verdict} ({len(partition.emulator)} line(s) in the "
                     f"emulator, {len(partition.pok)} on POK)")
        if not partition.same:
            lines += ["    " + line for line in partition.diff()]
    lines += [f"  POK printed after the last expected line: {line}" for line in result.unexpected]
    lines += [f"  POK's kernel: {line}" for line in result.kernel_lines]
    if not qemu.console:
        lines.append("  POK never started its partitions; its boot log ends:")
        lines += ["    " + line for line in qemu.boot_log.splitlines()[-10:]]
    return "\n".join(lines)
