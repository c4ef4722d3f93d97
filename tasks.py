"""invoke tasks: thin wrappers over the ``pvgen`` command (``invoke --list``), taking its
options under its own names (``invoke image --config FILE`` runs ``pvgen image --config
FILE``) and leaving unset ones to its defaults."""

from __future__ import annotations

import shlex
import sys

from invoke import Context, task


def _pvgen(c: Context, command: str, *operands: str, **options: str | int | bool) -> None:
    """Run ``pvgen COMMAND`` (the pvgen of the Python that runs invoke): each option under
    the CLI's own name (``x_y`` is ``--x-y``), left out when empty so the CLI's default
    holds; every word quoted for the shell."""
    words = [sys.executable, "-m", "pvgen.cli", *command.split()]
    for name, value in options.items():
        flag = "--" + name.replace("_", "-")
        if value is True:
            words.append(flag)
        elif value not in ("", 0, False):
            words += [flag, str(value)]
    c.run(shlex.join([*words, *operands]), pty=False)


_DEFINITION = "the hypercall definition (default: ./hypercalls.def, else the bundled one)"


@task(help={"definition": _DEFINITION, "out": "output directory (default: build/gen)",
            "lock": "the ABI lock file (default: beside the definition)",
            "update_lock": "record the ABI in the lock file"})
def gen(c: Context, definition: str = "", out: str = "", lock: str = "",
        update_lock: bool = False) -> None:
    """Generate every side of the hypercall interface (pvgen gen)."""
    _pvgen(c, "gen", definition=definition, out=out, lock=lock, update_lock=update_lock)


@task(help={"config": "module configuration (default: ./module.xml, else the hello example)",
            "out": "image file (default: build/NAME.img)", "definition": _DEFINITION,
            "gen": "where the generated interface goes (default: build/gen)",
            "kernel": "a linked pok.elf to put the partitions into",
            "arch": "build the guests for this architecture (default: the configuration's)",
            "jobs": "compiler runs at a time (default: one per processor)"})
def image(c: Context, config: str = "", out: str = "", definition: str = "", gen: str = "",
          kernel: str = "", arch: str = "", jobs: int = 0) -> None:
    """Build the guests of a module configuration and pack the image (pvgen image)."""
    _pvgen(c, "image", config=config, out=out, definition=definition, gen=gen, kernel=kernel,
           arch=arch, jobs=jobs)


@task(help={"out": "where the RTEMS BSP tree goes (default: build/rtems-bsp)",
            "definition": _DEFINITION,
            "rtems_tree": "instead, add the BSP to this RTEMS 6 checkout"})
def bsp(c: Context, out: str = "", definition: str = "", rtems_tree: str = "") -> None:
    """Render the paravirtual RTEMS 6 BSP as a drop-in tree (pvgen bsp)."""
    _pvgen(c, "bsp", out=out, definition=definition, rtems_tree=rtems_tree)


@task(help={"newlib_src": "newlib at RTEMS 6's commit: a checkout or source archive "
                          "(default: $PVGEN_NEWLIB_SRC)"})
def rtems_toolchain(c: Context, newlib_src: str = "") -> None:
    """Build the i386-rtems6 toolchain from zig's clang and newlib (pvgen rtems toolchain)."""
    _pvgen(c, "rtems toolchain", newlib_src=newlib_src)


@task(help={"rtems_src": "RTEMS 6: a checkout or source archive (default: $PVGEN_RTEMS_SRC)",
            "newlib_src": "newlib at RTEMS 6's commit (default: $PVGEN_NEWLIB_SRC)",
            "suites": "comma-separated: samples, sptests, psxtests, tmtests (default: samples)",
            "tests": "only these tests, space-separated (e.g. 'hello ticker')"})
def rtems(c: Context, rtems_src: str = "", newlib_src: str = "", suites: str = "",
          tests: str = "") -> None:
    """Build RTEMS 6 with the pokpv BSP and run its tests as partitions (pvgen rtems test)."""
    _pvgen(c, "rtems test", *shlex.split(tests), rtems_src=rtems_src, newlib_src=newlib_src,
           suites=suites)


@task(help={"pok": "a POK checkout (default: $POK_SRC, else ../shared/pok/pok.bundle)",
            "configs": "module configurations, space-separated (default: hello, multi, pokports)",
            "definition": "the hypercall definition (default: POK's own system calls)",
            "work": "where the images, systems and POK's tree go (default: a temporary one)"})
def pok_check(c: Context, pok: str = "", configs: str = "", definition: str = "",
              work: str = "") -> None:
    """Build systems for real POK and the emulator, boot POK under QEMU, compare consoles."""
    _pvgen(c, "pok-check", *shlex.split(configs), pok=pok, definition=definition, work=work)


@task(help={"pok": "the POK checkout to patch (edited in place)",
            "definition": "the hypercall definition (default: hypercalls.def)"})
def pok_patch(c: Context, pok: str, definition: str = "") -> None:
    """Give a POK checkout the definition's kernel side (pvgen pok-patch)."""
    _pvgen(c, "pok-patch", pok=pok, definition=definition)


@task(help={"image": "an image to boot (default: build and boot the example)",
            "definition": _DEFINITION, "trace": "write a Perfetto trace JSON here",
            "time": "stop at this virtual time, in seconds (default: when all have stopped)",
            "frames": "stop after N major frames",
            "console_dir": "also write each partition's console to DIR/NAME.log",
            "wall_clock": "give windows their duration in host time",
            "like_pok": "serve as real POK with pvgen's kernel side does"})
def boot(c: Context, image: str = "", definition: str = "", trace: str = "", time: str = "",
         frames: int = 0, console_dir: str = "", wall_clock: bool = False,
         like_pok: bool = False) -> None:
    """Boot an image in the bundled emulator; with none, generate, build and boot the example."""
    _pvgen(c, "boot", *([image] if image else []), definition=definition, trace=trace,
           time=time, frames=frames, console_dir=console_dir, wall_clock=wall_clock,
           like_pok=like_pok)


@task(help={"file": "an image, or a trace of `pvgen boot --trace` (default: build/hello.img)"})
def inspect(c: Context, file: str = "build/hello.img") -> None:
    """Print what an image holds, or a run's HM log and port traffic (pvgen inspect)."""
    _pvgen(c, "inspect", file)


@task
def test(c: Context) -> None:
    """Run the test suite."""
    c.run("python -m pytest -q", pty=False)


@task
def bench(c: Context) -> None:
    """Run the benchmarks and print their figures."""
    c.run("python bench/run_all.py", pty=False)


@task
def lint(c: Context) -> None:
    """ruff and mypy over the project."""
    c.run("ruff check pvgen tests bench tasks.py", pty=False)
    c.run("mypy", pty=False)
    c.run("mypy bench", pty=False)  # scripts, not a package: checked on their own
