"""An i386-rtems6 toolchain RTEMS's own build (waf) can use, and how to configure with it.

Two routes. The one pvgen builds itself needs nothing but what pvgen already installs
from PyPI: zig's clang (the ``ziglang`` package, as for ARM guests), which compiles for
``x86-rtems`` and links with its ld.lld. Into a cache directory outside any checkout go

* small wrappers named as RTEMS's ``COMPILER = clang`` support looks them up (``clang``,
  ``clang++``, ``llvm-ar``, ``ld.lld``), which call zig directly (a compile costs no
  Python start-up);
* newlib, from a source the user gives (RTEMS 6 pins a commit), built by that clang;
* zig's compiler_rt in place of libgcc (64-bit division and the other helpers);
* what gcc's crt files and libgcc headers would otherwise give RTEMS: ``_init``/``_fini``
  over the constructor arrays, and the declarations of ``<gcov.h>`` librtemstest includes;
* ``rtems-bin2c`` (pvgen.rtems.bin2c), which RTEMS's test suites call.

The other route is a user's own i386-rtems6 gcc, built with the RTEMS Source Builder:
``gcc_toolchain(prefix)`` checks it is there and configures RTEMS with it as RTEMS's own
documentation does. zig's route has no C++ runtime for RTEMS (libc++ has no RTEMS thread
support), so RTEMS's C++ library and C++ tests are left out of its builds
(``Toolchain.cxx``).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pvgen.cache import cache_dir, locked
from pvgen.diagnostics import BuildFailed, PvgenError
from pvgen.rtems.sources import Source
from pvgen.rtems.steps import run_logged

TARGET = "i386-rtems6"  # RTEMS's name for the target: newlib's --target, the sysroot's
ZIG_TARGET = "x86-rtems"  # zig's name for it
NEWLIB_MARCH = "pentium"  # the BSP's ABI (bsp_templates' abi.yml): no SSE
# Changes whenever what this module writes into a toolchain changes, so that an old
# toolchain in the cache is not used for a new recipe.
RECIPE = "4"
# newlib's configuration as RTEMS's source builder configures it for RTEMS 6.
NEWLIB_OPTIONS = (
    "--disable-multilib", "--enable-newlib-io-c99-formats", "--enable-threads",
    "--enable-newlib-iconv",
    "--enable-newlib-iconv-encodings=big5,cp775,cp850,cp852,cp855,cp866,euc_jp,euc_kr,"
    "euc_tw,iso_8859_1,iso_8859_10,iso_8859_11,iso_8859_13,iso_8859_14,iso_8859_15,"
    "iso_8859_2,iso_8859_3,iso_8859_4,iso_8859_5,iso_8859_6,iso_8859_7,iso_8859_8,"
    "iso_8859_9,iso_ir_111,koi8_r,koi8_ru,koi8_u,koi8_uni,ucs_2,ucs_2_internal,ucs_2be,"
    "ucs_2le,ucs_4,ucs_4_internal,ucs_4be,ucs_4le,us_ascii,utf_16,utf_16be,utf_16le,utf_8,"
    "win_1250,win_1251,win_1252,win_1253,win_1254,win_1255,win_1256,win_1257,win_1258",
)

Log = Callable[[str], None]


class RtemsToolchainError(PvgenError):
    """The RTEMS toolchain cannot be made from what is here (zig, the cache, a prefix)."""


class ToolchainBuildError(BuildFailed):
    """Building a piece of the RTEMS toolchain (newlib) failed; its log says where."""


@dataclass(frozen=True)
class Toolchain:
    """A toolchain for RTEMS's waf: its ``--rtems-tools`` prefix, and the options of a BSP's
    section of ``config.ini`` that go with it."""

    description: str
    prefix: Path  # waf's --rtems-tools: the programs are in prefix/bin
    options: tuple[tuple[str, str], ...]  # config.ini: COMPILER, LINKFLAGS, LDFLAGS
    cxx: bool  # whether it compiles and links C++ for RTEMS
    cc: str  # its C compiler driver, in bin/
    # how an application links against the installed BSP ({lib}: its library directory)
    application_link: tuple[str, ...]

    @property
    def bin(self) -> Path:
        return self.prefix / "bin"

    def environment(self) -> dict[str, str]:
        """The environment its programs run in: the prefix's bin first on PATH."""
        env = dict(os.environ)
        env["PATH"] = f"{self.bin}{os.pathsep}{env.get('PATH', '')}"
        return env


def zig_executable() -> Path:
    """The zig binary of the ziglang package, or how to install it."""
    spec = importlib.util.find_spec("ziglang")
    if spec is None or spec.origin is None:
        raise RtemsToolchainError(
            "pvgen: error: the RTEMS toolchain is zig's clang, and the ziglang package is not "
            "installed: python3 -m pip install 'pvgen[rtems]'")
    zig = Path(spec.origin).parent / "zig"
    if not zig.is_file():
        raise RtemsToolchainError(f"pvgen: error: the ziglang package has no zig binary ({zig})")
    return zig


def zig_version(zig: Path) -> str:
    try:
        done = subprocess.run([str(zig), "version"], capture_output=True, text=True,
                              check=False)
    except OSError as exc:
        raise RtemsToolchainError(f"pvgen: error: cannot run {zig}: {exc.strerror}") from None
    if done.returncode != 0:
        raise RtemsToolchainError(f"pvgen: error: {zig} version failed (exit {done.returncode}): "
                             f"{done.stderr.strip()}")
    return done.stdout.strip()


def zig_toolchain(newlib: Source, *, log: Log = print, rebuild: bool = False,
                  jobs: int | None = None) -> Toolchain:
    """The zig route, built into the cache if this newlib, zig and recipe have not been."""
    zig = zig_executable()
    version = zig_version(zig)
    # the wrappers name this zig and this Python: another installation is another toolchain
    python = Path(sys.executable).resolve()  # python and python3 are one interpreter
    key = hashlib.sha256(f"{newlib.identity}\0{version}\0{RECIPE}\0{zig}\0{python}"
                         .encode()).hexdigest()[:12]
    prefix = cache_dir() / "rtems" / f"toolchain-{TARGET}-{key}"
    if any(c.isspace() for c in str(prefix)):
        # RTEMS's waf splits LDFLAGS and LINKFLAGS at white space, so the libraries' paths
        # below must have none
        raise RtemsToolchainError(f"pvgen: error: the cache {cache_dir()} has white space in its "
                             "path, which RTEMS's build splits flags at; set XDG_CACHE_HOME "
                             "to a directory without any")
    done = prefix / "toolchain.json"
    with locked(prefix):  # another pvgen building it: wait, then find it built
        if rebuild or not done.is_file():
            shutil.rmtree(prefix, ignore_errors=True)
            log(f"pvgen: building the {TARGET} toolchain (zig {version}, newlib from "
                f"{newlib.tree}) in {prefix}")
            _build_zig_toolchain(zig, newlib, prefix, jobs or os.cpu_count() or 1, log)
            done.write_text(json.dumps({"zig": version, "newlib": newlib.identity,
                                        "recipe": RECIPE}, indent=2) + "\n", encoding="utf-8")
    lib = prefix / TARGET / "lib"
    # zig links only without its own libc (it has none for RTEMS): the BSP's linker command
    # file and the libraries a gcc driver for RTEMS would add are given here
    libraries = (f"-Wl,-Bstatic -Wl,--gc-sections -Wl,-z,norelro -L{lib} {lib / 'libc.a'} "
                 "-lm -lpvgen-initfini -lcompiler_rt")
    return Toolchain(
        description=f"zig {version} (clang) with newlib, {prefix}",
        prefix=prefix,
        options=(("COMPILER", "clang"), ("LINKFLAGS", "-nostdlib -Wl,-T,linkcmds"),
                 ("LDFLAGS", libraries)),
        cxx=False,
        cc="clang",
        application_link=("-nostdlib", "-Wl,-T,{lib}/linkcmds", "-L{lib}", "-lrtemsbsp",
                          "-lrtemscpu", *libraries.split()),
    )


def gcc_toolchain(prefix: Path) -> Toolchain:
    """A user's i386-rtems6 gcc (the RTEMS Source Builder's), installed below `prefix`."""
    gcc = prefix / "bin" / f"{TARGET}-gcc"
    if not gcc.is_file():
        raise RtemsToolchainError(f"pvgen: error: {prefix}: no {TARGET} gcc there (no {gcc})")
    cxx = (prefix / "bin" / f"{TARGET}-g++").is_file()
    # RTEMS's own way of linking an application with gcc: the BSP's specs (-qrtems) find
    # linkcmds and the BSP's libraries below -B
    return Toolchain(f"gcc in {prefix}", prefix, (), cxx, f"{TARGET}-gcc",
                     ("-B{lib}", "-qrtems", "-Wl,--gc-sections"))


# -- building the zig route ---------------------------------------------------------------

_COMPILER = """#!/bin/sh
# Written by pvgen (pvgen.rtems.toolchain): zig's clang as an {target} {language} compiler.
# RTEMS's waf passes --target={target_long}, which zig does not take (its name for the
# target is {zig_target}): it is dropped. zig cannot read a source from standard input
# ('-', how waf probes a compiler): it goes through a file. gcc's RTEMS targets
# predefine __USE_INIT_FINI__, so that RTEMS runs the constructors (_init).
input=
for argument do
    shift
    case $argument in
        --target=*) continue ;;
        -) input=$(mktemp --suffix={suffix}) || exit 1
           cat >"$input"
           set -- "$@" "$input"
           continue ;;
    esac
    set -- "$@" "$argument"
done
if [ -z "$input" ]; then
    exec {zig} {driver} -target {zig_target} -isystem {include} -D__USE_INIT_FINI__ "$@"
fi
{zig} {driver} -target {zig_target} -isystem {include} -D__USE_INIT_FINI__ "$@"
status=$?
rm -f "$input"
exit $status
"""

_TOOL = """#!/bin/sh
# Written by pvgen (pvgen.rtems.toolchain): zig's {tool}.
exec {zig} {tool} "$@"
"""

_BIN2C = """#!/bin/sh
# Written by pvgen (pvgen.rtems.toolchain): rtems-bin2c, as RTEMS's test suites call it.
exec {python} -m pvgen.rtems.bin2c "$@"
"""

_UNAVAILABLE = """#!/bin/sh
# Written by pvgen (pvgen.rtems.toolchain): RTEMS's configure looks for {tool}, which only
# the dynamic-loading tests use; the toolchain has none.
echo "{tool}: not in pvgen's RTEMS toolchain (only RTEMS's rtems-tools have it)" >&2
exit 1
"""

# What librtemstest needs of gcc's <gcov.h>: the declarations of libgcov's two calls it
# makes (only when RTEMS is built for coverage) and the type they take.
_GCOV_H = """/* Written by pvgen (pvgen.rtems.toolchain): the part of gcc's <gcov.h> RTEMS's test
 * library includes; the functions are libgcov's, linked only in a coverage build. */
#ifndef PVGEN_GCOV_H
#define PVGEN_GCOV_H

struct gcov_info;

void __gcov_info_to_gcda(const struct gcov_info *info,
                         void (*filename)(const char *name, void *arg),
                         void (*dump)(const void *data, unsigned length, void *arg),
                         void *(*allocate)(unsigned length, void *arg), void *arg);

void __gcov_filename_to_gcfn(const char *name,
                             void (*dump)(const void *data, unsigned length, void *arg),
                             void *arg);

#endif
"""

# _init and _fini, which RTEMS calls on i386 (it runs no init arrays itself there) and
# gcc's crti.o/crtbegin.o would give: clang puts constructors in .init_array, which the
# BSP's linker command file brackets.
_INIT_FINI_C = """/* Written by pvgen (pvgen.rtems.toolchain): what gcc's crt files give RTEMS. */
typedef void (*pvgen_constructor)(void);

extern pvgen_constructor __init_array_start[] __attribute__((weak));
extern pvgen_constructor __init_array_end[] __attribute__((weak));
extern pvgen_constructor __fini_array_start[] __attribute__((weak));
extern pvgen_constructor __fini_array_end[] __attribute__((weak));

void _init(void);
void _fini(void);

void _init(void)
{
    for (pvgen_constructor *f = __init_array_start; f < __init_array_end; ++f) {
        (*f)();
    }
}

void _fini(void)
{
    for (pvgen_constructor *f = __fini_array_end; f > __fini_array_start;) {
        (*--f)();
    }
}
"""


def _build_zig_toolchain(zig: Path, newlib: Source, prefix: Path, jobs: int, log: Log) -> None:
    bin_dir, sysroot = prefix / "bin", prefix / TARGET
    include, lib = sysroot / "include", sysroot / "lib"
    for directory in (bin_dir, include, lib, prefix / "logs"):
        directory.mkdir(parents=True, exist_ok=True)
    quoted = {"zig": shlex.quote(str(zig)), "include": shlex.quote(str(include)),
              "target": TARGET, "target_long": "i386-unknown-rtems6", "zig_target": ZIG_TARGET}
    scripts = {
        "clang": _COMPILER.format(language="C", driver="cc", suffix=".c", **quoted),
        "clang++": _COMPILER.format(language="C++", driver="c++", suffix=".cc", **quoted),
        "llvm-ar": _TOOL.format(zig=quoted["zig"], tool="ar"),
        "llvm-ranlib": _TOOL.format(zig=quoted["zig"], tool="ranlib"),
        "ld.lld": _TOOL.format(zig=quoted["zig"], tool="ld.lld"),
        "rtems-bin2c": _BIN2C.format(python=shlex.quote(sys.executable)),
        "rtems-ld": _UNAVAILABLE.format(tool="rtems-ld"),
        "rtems-syms": _UNAVAILABLE.format(tool="rtems-syms"),
    }
    for name, text in scripts.items():
        path = bin_dir / name
        path.write_text(text, encoding="utf-8")
        path.chmod(0o755)
    (include / "gcov.h").write_text(_GCOV_H, encoding="utf-8")
    _build_newlib(newlib, prefix, jobs, log)
    log("pvgen: building compiler_rt (zig's) in place of libgcc")
    _run([str(zig), "build-lib", "-target", "x86-freestanding-none", f"-mcpu={NEWLIB_MARCH}",
          "-OReleaseSmall", "-ffunction-sections", "-fdata-sections",
          str(zig.parent / "lib" / "compiler_rt.zig"), "-femit-bin=libcompiler_rt.a"],
         lib, prefix / "logs" / "compiler_rt.log")
    source = prefix / "logs" / "initfini.c"
    source.write_text(_INIT_FINI_C, encoding="utf-8")
    obj = prefix / "logs" / "initfini.o"
    _run([str(bin_dir / "clang"), f"-march={NEWLIB_MARCH}", "-O2", "-Wall", "-Wextra",
          "-Werror", "-c", str(source), "-o", str(obj)], prefix, prefix / "logs" / "initfini.log")
    _run([str(bin_dir / "llvm-ar"), "rcs", str(lib / "libpvgen-initfini.a"), str(obj)], prefix,
         prefix / "logs" / "initfini.log")


def _build_newlib(newlib: Source, prefix: Path, jobs: int, log: Log) -> None:
    """newlib for the target, configured as RTEMS's source builder does, out of its tree."""
    build = prefix / "newlib-build"
    build.mkdir()
    bin_dir, logs = prefix / "bin", prefix / "logs"
    log(f"pvgen: building newlib with zig's clang ({jobs} jobs)")
    _run([str(newlib.tree / "configure"), f"--target={TARGET}", f"--prefix={prefix}",
          *NEWLIB_OPTIONS,
          f"CC_FOR_TARGET={bin_dir / 'clang'} -march={NEWLIB_MARCH}",
          f"AR_FOR_TARGET={bin_dir / 'llvm-ar'}", f"RANLIB_FOR_TARGET={bin_dir / 'llvm-ranlib'}",
          "CFLAGS_FOR_TARGET=-g -O2"], build, logs / "newlib-configure.log")
    _run(["make", f"-j{jobs}", "all-target-newlib"], build, logs / "newlib-make.log")
    _run(["make", "install-target-newlib"], build, logs / "newlib-install.log")
    shutil.rmtree(build)


def _run(command: list[str], cwd: Path, log_file: Path) -> None:
    """Run a build step of the toolchain, its output appended to `log_file`."""
    run_logged(command, cwd=cwd, log=log_file, error=ToolchainBuildError)
