"""The ``pvgen`` command: the single entry point the invoke tasks call.

Errors the user can fix are printed as ``file:line:col: error: ...`` (with
the source line and a caret for definitions) and end the process with their
exit status (2 for definition errors); they never show a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from pvgen.diagnostics import PvgenError
from pvgen.pipeline import Generated, generate

DEFAULT_DEFINITION = Path("hypercalls.def")
DEFAULT_GEN_DIR = Path("build/gen")


def _report(generated: Generated) -> None:
    if generated.lock_written:
        print(f"pvgen: wrote {generated.lock_written}")
    if generated.note:
        print(f"pvgen: note: {generated.note}", file=sys.stderr)
    print(generated.summary)


def _cmd_gen(args: argparse.Namespace) -> int:
    _report(generate(args.definition, args.out, args.lock, args.update_lock))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pvgen",
        description="Generate and run paravirtualized RTEMS partitions on POK.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    gen = commands.add_parser(
        "gen", help="generate every side of the interface from a hypercall definition"
    )
    gen.add_argument(
        "--def", dest="definition", type=Path, default=DEFAULT_DEFINITION,
        help=f"the hypercall definition (default: {DEFAULT_DEFINITION})",
    )
    gen.add_argument(
        "--out", type=Path, default=DEFAULT_GEN_DIR,
        help=f"output directory (default: {DEFAULT_GEN_DIR})",
    )
    gen.add_argument(
        "--lock", type=Path, default=None,
        help="the ABI lock file (default: beside the definition, NAME.lock.json)",
    )
    gen.add_argument(
        "--update-lock", action="store_true",
        help="record the definition's ABI in the lock file (breaking changes also need a "
        "version bump)",
    )
    gen.set_defaults(run=_cmd_gen)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        status: int = args.run(args)
    except PvgenError as exc:
        print(exc.render(), file=sys.stderr)
        return exc.exit_status
    except OSError as exc:  # writing the outputs or the lock: a message, not a traceback
        print(f"pvgen: error: {exc}", file=sys.stderr)
        return 1
    return status


if __name__ == "__main__":
    sys.exit(main())
