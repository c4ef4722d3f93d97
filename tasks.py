"""invoke tasks: thin wrappers over the ``pvgen`` command (``invoke --list``)."""

from __future__ import annotations

from invoke import Context, task


@task(help={"definition": "hypercall definition file", "out": "output directory",
            "update_lock": "record the ABI in the lock file"})
def gen(c: Context, definition: str = "hypercalls.def", out: str = "build/gen",
        update_lock: bool = False) -> None:
    """Generate every side of the hypercall interface (pvgen gen)."""
    flags = " --update-lock" if update_lock else ""
    c.run(f"pvgen gen --def {definition} --out {out}{flags}", pty=False)


@task(help={"config": "module configuration (default: the bundled hello example)",
            "out": "image file", "kernel": "a linked pok.elf to put the partitions into",
            "arch": "build the guests for this architecture (default: the configuration's)"})
def image(c: Context, config: str = "examples/hello/module.xml", out: str = "build/hello.img",
          kernel: str = "", arch: str = "") -> None:
    """Build the guests of a module configuration and pack the image (pvgen image)."""
    flags = (f" --kernel {kernel}" if kernel else "") + (f" --arch {arch}" if arch else "")
    c.run(f"pvgen image --config {config} --out {out}{flags}", pty=False)


@task(help={"out": "where the RTEMS BSP tree goes"})
def bsp(c: Context, out: str = "build/rtems-bsp") -> None:
    """Render the paravirtual RTEMS 6 BSP as a drop-in tree (pvgen bsp)."""
    c.run(f"pvgen bsp --out {out}", pty=False)


def _sources(rtems_src: str, newlib_src: str) -> str:
    """The source options of ``pvgen rtems`` (unset: its PVGEN_RTEMS_SRC, PVGEN_NEWLIB_SRC)."""
    return ((f" --rtems-src {rtems_src}" if rtems_src else "")
            + (f" --newlib-src {newlib_src}" if newlib_src else ""))


@task(help={"newlib_src": "newlib at RTEMS 6's commit: a checkout or source archive "
                          "(default: $PVGEN_NEWLIB_SRC)"})
def rtems_toolchain(c: Context, newlib_src: str = "") -> None:
    """Build the i386-rtems6 toolchain from zig's clang and newlib (pvgen rtems toolchain)."""
    c.run(f"pvgen rtems toolchain{_sources('', newlib_src)}", pty=False)


@task(help={"rtems_src": "RTEMS 6: a checkout or source archive (default: $PVGEN_RTEMS_SRC)",
            "newlib_src": "newlib at RTEMS 6's commit (default: $PVGEN_NEWLIB_SRC)",
            "suites": "comma-separated: samples, sptests, psxtests, tmtests",
            "tests": "only these tests, space-separated (e.g. 'hello ticker')"})
def rtems(c: Context, rtems_src: str = "", newlib_src: str = "", suites: str = "samples",
          tests: str = "") -> None:
    """Build RTEMS 6 with the pokpv BSP and run its tests as partitions (pvgen rtems test)."""
    c.run(f"pvgen rtems test{_sources(rtems_src, newlib_src)} --suites {suites} {tests}"
          .rstrip(), pty=False)


@task(help={"pok": "a POK checkout (default: $POK_SRC, else ../shared/pok/pok.bundle)",
            "configs": "module configurations, space-separated (default: hello, multi, pokports)",
            "definition": "the hypercall definition (default: POK's own system calls)"})
def pok_check(c: Context, pok: str = "", configs: str = "", definition: str = "") -> None:
    """Build systems for real POK and the emulator, boot POK under QEMU, compare consoles."""
    flags = (f" --pok {pok}" if pok else "") + (f" --def {definition}" if definition else "")
    c.run(f"pvgen pok-check{flags} {configs}".rstrip(), pty=False)


@task(help={"pok": "the POK checkout to patch (edited in place)",
            "definition": "the hypercall definition (default: hypercalls.def)"})
def pok_patch(c: Context, pok: str, definition: str = "hypercalls.def") -> None:
    """Give a POK checkout the definition's kernel side (pvgen pok-patch)."""
    c.run(f"pvgen pok-patch --pok {pok} --def {definition}", pty=False)


@task(help={"image": "an image to boot (default: build and boot the bundled example)",
            "trace": "write a Perfetto trace JSON here"})
def boot(c: Context, image: str = "", trace: str = "") -> None:
    """Boot an image in the bundled emulator; with none, generate, build and boot the example."""
    flags = f" --trace {trace}" if trace else ""
    c.run(f"pvgen boot {image}{flags}".rstrip(), pty=False)


@task
def inspect(c: Context, image: str = "build/hello.img") -> None:
    """Print what an image holds (pvgen inspect)."""
    c.run(f"pvgen inspect {image}", pty=False)


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
