"""The ``pvgen`` command: the single entry point the invoke tasks call.

Errors the user can fix are printed as ``file:line:col: error: ...`` (with
the source line and a caret for definitions) and end the process with their
exit status (2 for definition errors); they never show a traceback.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, cast

from pvgen import defaults
from pvgen.diagnostics import InputError, PvgenError

if TYPE_CHECKING:
    from pvgen.image.uptodate import ImageReport, ImageRequest
    from pvgen.pipeline import Generated

# Each command imports what it needs when it runs: booting an image must not pay for
# lark, jinja2 or lief.

DEFAULT_GEN_DIR, DEFAULT_BSP_DIR = defaults.GEN_DIR, defaults.BSP_DIR


# The modules pyproject.toml's extras install (top-level names): a command that needs one
# says which extra to install, instead of a traceback; the extra a command needs first when
# a module is in more than one.
EXTRAS = {"image": ("lief", "elftools", "xmlschema"), "emulator": ("unicorn", "elftools"),
          "arm": ("ziglang",)}
FIRST_EXTRA = {"boot": "emulator"}


def _extra_with(module: str, command: str) -> str | None:
    """The extra to install for `module`, which `pvgen COMMAND` found missing."""
    holding = [extra for extra, modules in EXTRAS.items() if module in modules]
    first = FIRST_EXTRA.get(command)
    return first if first in holding else next(iter(holding), None)


def _report(generated: Generated) -> None:
    if generated.lock_written:
        print(f"pvgen: wrote {generated.lock_written}")
    for note in generated.notes:
        print(f"pvgen: note: {note}", file=sys.stderr)
    print(generated.summary)


def _warn(warnings: dict[str, str]) -> None:
    """What the compiler said of the partitions it built (PVGEN_CFLAGS=-Werror: errors)."""
    for partition, said in warnings.items():
        print(f"pvgen: warning: building partition '{partition}':\n{said}", file=sys.stderr)


def _writable(path: Path, what: str, directory: bool) -> None:
    """Refuse, before any work, an output the command could not write at its end: a file
    where a directory goes (or the other way), or a place that cannot be written."""
    kinds = {True: "a directory", False: "a file"}
    if path.exists():
        if path.is_dir() != directory:
            raise InputError(path, f"is {kinds[path.is_dir()]}; {what} names {kinds[directory]}")
        if not os.access(path, os.W_OK):
            raise InputError(path, "cannot be written")
        return
    existing = path.parent
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        raise InputError(path, f"cannot be written ({existing} is not a directory it may write "
                         "in)")


def _cmd_gen(args: argparse.Namespace) -> int:
    from pvgen.pipeline import generate

    _writable(args.out, "--out", directory=True)
    _report(generate(args.definition, args.out, args.lock, args.update_lock))
    return 0


def _cmd_image(args: argparse.Namespace) -> int:
    from pvgen.image.uptodate import ImageRequest

    _writable(args.out, "--out", directory=False)
    _writable(args.gen, "--gen", directory=True)
    if args.kernel is not None and not args.kernel.is_file():
        raise InputError(args.kernel, "no such file: --kernel names a linked pok.elf")
    request = ImageRequest(args.config, args.out, args.definition, args.gen, args.kernel,
                           args.arch)
    report = _made(request, args.jobs)
    print(report.manifest, end="")
    return 0


def _made(request: ImageRequest, jobs: int | None = None,
          before_build: Callable[[], None] | None = None) -> ImageReport:
    """Build the requested image unless it is up to date (`before_build` first), and tell
    which, with what the build said (the compiler's warnings: again when up to date)."""
    from pvgen.image.make import made

    report, built = made(request, jobs, before_build)
    print(report.interface)
    for note in report.notes:
        print(f"pvgen: note: {note}", file=sys.stderr)
    _warn(report.warnings)
    done = "wrote" if built else "up to date:"
    if report.pok_note:
        print(f"pvgen: {done} {request.out}")
        print(f"pvgen: note: no POK system: {report.pok_note}", file=sys.stderr)
    else:
        print(f"pvgen: {done} {request.out} and the POK system {report.pok_dir} "
              f"(make POK_PATH=<POK checkout>)")
    if report.kernel:
        print(f"pvgen: {done} {report.kernel} (the given kernel with these partitions)")
    return report


def _cmd_boot(args: argparse.Namespace) -> int:
    from pvgen.emulator.cli import boot

    image = args.image
    if image is None:  # the bundled example, end to end
        from pvgen.definition import load
        from pvgen.emulator.arch import require_emulated
        from pvgen.image.uptodate import ImageRequest

        config = defaults.config()
        request = ImageRequest(config, defaults.image_for(config), args.definition,
                               args.gen or DEFAULT_GEN_DIR, None, None)
        _made(request, before_build=lambda: require_emulated(
            {abi.arch.name for abi in load(args.definition).abis}, args.definition))
        print(f"pvgen: booting {request.out}")
        image = request.out
    return boot(image, args)


def _cmd_inspect(args: argparse.Namespace) -> int:
    """An image's contents, or a run's HM log and port traffic from its trace: told apart by
    what the file holds (an ELF, a JSON document), whatever its name."""
    path: Path = args.file
    try:
        with path.open("rb") as file:
            head = file.read(4096)
    except OSError as exc:
        raise InputError(path, f"cannot read it: {exc.strerror}") from None
    if args.schedule or args.svg or args.perfetto:
        return _inspect_schedule(path, head, args)
    if head.startswith(b"\x7fELF"):
        from pvgen.image.inspect import format_manifest
        from pvgen.image.read import read_image

        image = read_image(path)
        print(f"image {path}: {len(image.archive)} bytes of partitions")
        print(format_manifest(image.manifest), end="")
    elif head.lstrip()[:1] in (b"{", b"["):  # JSON: an object, or Chrome's bare array
        from pvgen.emulator.tracelog import format_run_log, read_trace

        print(format_run_log(path, read_trace(path)), end="")
    else:
        raise InputError(path, "neither an image made by `pvgen image` (an ELF file) nor a "
                         "trace of `pvgen boot --trace` (a JSON document)")
    return 0


def _inspect_schedule(path: Path, head: bytes, args: argparse.Namespace) -> int:
    """The configured schedule of an image or a module configuration: each partition's
    shares printed, and an SVG or a Perfetto trace of one major frame if asked."""
    from pvgen.image.frame import Frame

    if head.startswith(b"\x7fELF"):
        from pvgen.image.read import read_image

        frame = Frame.of_manifest(read_image(path).manifest)
    elif head.lstrip()[:1] == b"<":
        from pvgen.config import load_module

        frame = Frame.of_config(load_module(path))
    else:
        raise InputError(path, "neither an image made by `pvgen image` (an ELF file) nor a "
                         "module configuration (an XML document)")
    print(frame.shares(), end="")
    for out, text in ((args.svg, frame.svg), (args.perfetto, frame.trace)):
        if out is not None:
            try:
                out.write_text(text(), encoding="utf-8")
            except OSError as exc:
                raise InputError(out, f"cannot write it: {exc.strerror}") from None
    return 0


def _cmd_bsp(args: argparse.Namespace) -> int:
    from pvgen.bsp import render_rtems_bsp
    from pvgen.definition import load

    if args.rtems_tree is not None:
        from pvgen.rtems.build import add_bsp
        from pvgen.rtems.sources import RTEMS, SourceError, checked

        if not args.rtems_tree.is_dir():
            raise SourceError(f"pvgen: error: {args.rtems_tree}: --rtems-tree is an RTEMS "
                              "checkout to add the BSP to (a directory)")
        tree = checked(RTEMS, args.rtems_tree.resolve())
        add_bsp(load(args.definition), tree)
        print(f"pvgen: added the RTEMS BSP i386/pokpv to {tree}; configure it with "
              "RTEMS_PARAVIRT = True")
        return 0
    files = render_rtems_bsp(load(args.definition), args.out)
    print(f"pvgen: wrote the RTEMS BSP i386/pokpv ({len(files)} files) in {args.out}; copy it "
          "into an RTEMS checkout (bsps/ and spec/ merge with the tree's own)")
    return 0


def _cmd_new(args: argparse.Namespace) -> int:
    from pvgen.scaffold import FIRST_EXAMPLE

    return _copied(FIRST_EXAMPLE, args.directory)


def _cmd_examples(args: argparse.Namespace) -> int:
    from pvgen.scaffold import examples

    if args.name is None:
        for name, description in examples().items():
            print(f"{name:10} {description}")
        return 0
    return _copied(args.name, args.directory or Path(args.name))


def _copied(example: str, directory: Path) -> int:
    from pvgen.scaffold import copy_example

    written = copy_example(example, directory)
    print(f"pvgen: wrote {len(written)} files in {directory}: "
          f"{', '.join(path.name for path in written)}")
    print(f"pvgen: next: cd {directory} && pvgen boot")
    return 0


def _add_definition_options(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--def", "--definition", dest="definition", type=Path, default=None,
        help=f"the hypercall definition (default: ./{defaults.DEFINITION_NAME}, else the "
        "bundled one)",
    )


def _version() -> str:
    """The installed distribution's version (a checkout run in place has none installed)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("pvgen")
    except PackageNotFoundError:
        return "(not installed)"


class _Parser(argparse.ArgumentParser):
    """argparse, with its usage errors in pvgen's one format (and its status, 2)."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(2, f"pvgen: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    from pvgen.emulator.cli import add_run_options, positive

    parser = _Parser(
        prog="pvgen",
        description="Generate and run paravirtualized RTEMS partitions on POK.",
    )
    parser.add_argument("--version", action="version", version=f"pvgen {_version()}")
    # the commands' parsers are _Parsers too (argparse makes them of the parser's class)
    commands = cast("argparse._SubParsersAction[argparse.ArgumentParser]",
                    parser.add_subparsers(dest="command", required=True, metavar="COMMAND"))

    gen = commands.add_parser(
        "gen", help="generate every side of the interface from a hypercall definition"
    )
    _add_definition_options(gen)
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

    image = commands.add_parser(
        "image", help="build the guests of a module configuration and pack them into an image"
    )
    image.add_argument(
        "--config", type=Path, default=None,
        help="the ARINC 653 module configuration (default: ./module.xml, else "
        "./examples/hello/module.xml, else the bundled hello example)",
    )
    image.add_argument(
        "--out", type=Path, default=None,
        help="the image file (default: build/NAME.img, NAME the configuration's directory)"
    )
    _add_definition_options(image)
    image.add_argument(
        "--gen", type=Path, default=DEFAULT_GEN_DIR,
        help=f"where the generated interface goes (default: {DEFAULT_GEN_DIR})",
    )
    image.add_argument(
        "--kernel", type=Path, default=None,
        help="a linked pok.elf whose partitions to replace (same count, enough room)",
    )
    image.add_argument(
        "--arch", default=None,
        help="build the guests for this architecture instead of the configuration's "
        "Toolchain Arch (e.g. arm), with its default compiler",
    )
    image.add_argument(
        "-j", "--jobs", type=positive, default=None, metavar="N",
        help="compiler runs at a time (default: one per processor)",
    )
    image.set_defaults(run=_cmd_image)

    boot = commands.add_parser(
        "boot", help="boot an image in the bundled emulator (default: build and boot the example)"
    )
    boot.add_argument("image", type=Path, nargs="?",
                      help="an image made by `pvgen image` (default: build one from the module "
                      "`pvgen image` takes by default, and boot it)")
    _add_definition_options(boot)
    add_run_options(boot)
    boot.set_defaults(run=_cmd_boot)

    bsp = commands.add_parser(
        "bsp", help="render the paravirtual RTEMS 6 BSP (i386/pokpv) as a drop-in tree"
    )
    bsp.add_argument(
        "--out", type=Path, default=DEFAULT_BSP_DIR, help=f"output directory (default: "
        f"{DEFAULT_BSP_DIR})"
    )
    bsp.add_argument(
        "--rtems-tree", type=Path, default=None, metavar="TREE",
        help="instead, add the BSP to this RTEMS 6 checkout, with the RTEMS_PARAVIRT hooks "
        "its i386 port needs (made once, each marked)")
    _add_definition_options(bsp)
    bsp.set_defaults(run=_cmd_bsp)

    from pvgen.rtems.cli import add_commands as add_rtems_commands

    add_rtems_commands(commands, _add_definition_options)

    from pvgen.pok.cli import add_commands as add_pok_commands

    add_pok_commands(commands)

    new = commands.add_parser(
        "new", help="start a project of your own: the bundled hello module (one partition) and "
        "hypercalls.def, copied into a new directory")
    new.add_argument("directory", type=Path, help="the project's directory (new, or empty)")
    new.set_defaults(run=_cmd_new)

    examples = commands.add_parser(
        "examples", help="list the bundled example modules, or copy one into a new directory")
    examples.add_argument("name", nargs="?", help="the example to copy")
    examples.add_argument("directory", type=Path, nargs="?",
                          help="where to copy it (default: a new directory named after it)")
    examples.set_defaults(run=_cmd_examples)

    inspect = commands.add_parser(
        "inspect", help="print what an image holds, or a run's HM log and port traffic from "
        "its trace"
    )
    inspect.add_argument("file", type=Path, metavar="IMAGE|TRACE|CONFIG",
                         help="an image made by `pvgen image`, a trace written by "
                         "`pvgen boot --trace`, or (with --schedule) a module configuration")
    inspect.add_argument("--schedule", action="store_true",
                         help="the configured schedule of an image or a module configuration, "
                         "without running it: each partition's share of the major frame and "
                         "of its period")
    inspect.add_argument("--svg", type=Path, metavar="FILE",
                         help="with --schedule: draw one major frame into this SVG file")
    inspect.add_argument("--perfetto", type=Path, metavar="FILE",
                         help="with --schedule: write the configured windows as a trace to "
                         "open in Perfetto (the Trace Event Format `pvgen boot --trace` writes)")
    inspect.set_defaults(run=_cmd_inspect)
    return parser


def _take_defaults(args: argparse.Namespace) -> None:
    """The inputs a command was not given (pvgen.defaults: the current directory's project,
    else the checkout's example, else the bundled one), resolved only for a command that
    reads them: booting a given image reads no definition."""
    booting_an_image = args.command == "boot" and args.image is not None
    if getattr(args, "definition", False) is None and not booting_an_image:
        args.definition = defaults.definition()
    if getattr(args, "config", False) is None:
        args.config = defaults.config()
    if args.command == "image" and args.out is None:
        args.out = defaults.image_for(args.config)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        _take_defaults(args)
        status: int = args.run(args)
        sys.stdout.flush()  # a reader gone away is found here, not at the interpreter's exit
    except PvgenError as exc:
        print(exc.render(), file=sys.stderr)
        return exc.exit_status
    except BrokenPipeError:  # `pvgen ... | head`: the reader has gone, and so do we, quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 128 + signal.SIGPIPE
    except OSError as exc:  # writing the outputs or the lock: a message, not a traceback
        print(f"pvgen: error: {exc}", file=sys.stderr)
        return 1
    except ModuleNotFoundError as exc:
        extra = _extra_with((exc.name or "").split(".")[0], args.command)
        if extra is None:
            raise  # not a part an extra installs: a bug, with its traceback
        print(f"pvgen: error: `pvgen {args.command}` needs the '{extra}' extra (the module "
              f"{exc.name} is missing): pip install 'pvgen[{extra}]'", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # Ctrl-C outside a run (a run ends itself, with its summary)
        print("pvgen: interrupted", file=sys.stderr)
        return 128 + signal.SIGINT
    return status


if __name__ == "__main__":
    sys.exit(main())
