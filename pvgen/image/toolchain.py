"""Which C compiler builds guests for an architecture, and how to call it.

Precedence: the ``PVGEN_CC`` environment variable (a whole command, e.g.
``"clang --target=i386-none-elf"``), then the module configuration's
``Toolchain`` (``Compiler`` and ``CrossPrefix``), then the architecture's
default: the host gcc with ``-m32`` for x86 (nothing extra to install), zig's
clang from the ``pvgen[arm]`` extra for ARM. A compiler that is not there is
reported with its name and how to install it.

A compiler the user names keeps the options that select the architecture: ``gcc`` for
x86 is run as ``gcc -m32``, ``clang`` as ``clang --target=i386-none-elf``, unless the
command already picks a target. Such a compiler is asked once what it builds for (the
architecture's predefined macro), so a host compiler that cannot build for the
architecture is told apart from a broken guest.
"""

from __future__ import annotations

import importlib.util
import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass

from pvgen.arch import ARCHITECTURES
from pvgen.config.model import ToolchainConfig
from pvgen.diagnostics import PvgenError

ENV_VARIABLE = "PVGEN_CC"

# How partition programs are compiled (the runtime adds how to build against it).
PROGRAM_FLAGS = ("-std=c99", "-O2", "-Wall", "-Wextra")


class ToolchainError(PvgenError):
    """A guest compiler that is not there, or that does not build for the architecture."""


@dataclass(frozen=True)
class Compiler:
    arch: str
    command: tuple[str, ...]  # the compiler and the options that select the target
    origin: str  # where the choice came from, for messages


# The options that make each family of compilers build for an architecture.
TARGET_FLAGS = {
    ("x86", "gcc"): ("-m32",),
    ("x86", "clang"): ("--target=i386-none-elf",),
    ("x86", "zig"): ("-target", "x86-freestanding-none"),
    ("arm", "gcc"): ("-marm", "-mcpu=cortex-a15"),
    ("arm", "clang"): ("--target=arm-none-eabi", "-mcpu=cortex-a15"),
    ("arm", "zig"): ("-target", "arm-freestanding-eabi", "-mcpu=cortex_a15"),
}
# Options by which a command picks its target itself (then pvgen adds none).
_TARGET_CHOICES = ("-m32", "-m64", "-mx32", "-target", "--target")
_ZIG = (sys.executable, "-m", "ziglang", "cc")


def _zig_arm() -> Compiler:
    return Compiler("arm", (*_ZIG, *TARGET_FLAGS["arm", "zig"]), "default for arm (zig's clang)")


def _gcc_x86() -> Compiler:
    return Compiler("x86", ("gcc", *TARGET_FLAGS["x86", "gcc"]), "default for x86 (the host gcc)")


_DEFAULTS = {"x86": _gcc_x86, "arm": _zig_arm}

# How to get each known compiler on Debian or from PyPI.
_INSTALL_HINTS = {
    "gcc": "install Debian's 'gcc' package (apt-get install gcc)",
    "ziglang": "install the project's ARM extra (python3 -m pip install -e '.[arm]')",
    "arm-none-eabi-gcc": "install Debian's 'gcc-arm-none-eabi' package",
    "clang": "install Debian's 'clang' and 'lld' packages",
}


def resolve_compiler(toolchain: ToolchainConfig, env: Mapping[str, str] | None = None) -> Compiler:
    """The compiler for the module's architecture; raise ToolchainError if it is missing."""
    env = os.environ if env is None else env
    arch = toolchain.arch
    if arch not in _DEFAULTS:
        raise ToolchainError(
            f"pvgen: error: pvgen cannot build guests for architecture '{arch}'; it knows "
            + ", ".join(sorted(_DEFAULTS))
        )
    if env.get(ENV_VARIABLE):
        named = Compiler(arch, tuple(shlex.split(env[ENV_VARIABLE])), f"${ENV_VARIABLE}")
    elif toolchain.cc or toolchain.cross_prefix:
        name = toolchain.cross_prefix + (toolchain.cc or "gcc")
        named = Compiler(arch, tuple(shlex.split(name)), "the module's Toolchain")
    else:
        compiler = _DEFAULTS[arch]()
        _check_present(compiler)
        return compiler
    _check_present(named)
    compiler = with_target(named)
    _check_target(compiler)
    return compiler


def family(command: tuple[str, ...]) -> str | None:
    """gcc, clang or zig: which compiler a command runs (a wrapper such as ccache aside)."""
    for word in command:
        base = os.path.basename(word)
        if base == "ziglang" or base.startswith("zig"):
            return "zig"
        if "clang" in base:
            return "clang"
        if base.endswith("gcc") or "gcc-" in base or base in ("cc", "c99"):
            return "gcc"
    return None


def with_target(compiler: Compiler) -> Compiler:
    """The compiler with the options that select its architecture, unless it picks one."""
    if any(w.startswith(_TARGET_CHOICES) for w in compiler.command[1:]):
        return compiler
    flags = TARGET_FLAGS.get((compiler.arch, family(compiler.command) or ""), ())
    return Compiler(compiler.arch, (*compiler.command, *flags), compiler.origin)


def _check_target(compiler: Compiler) -> None:
    """The compiler builds for its architecture: it predefines the architecture's macro."""
    macro = ARCHITECTURES[compiler.arch].c_predefine
    try:
        probe = subprocess.run([*compiler.command, "-dM", "-E", "-x", "c", os.devnull],
                               capture_output=True, text=True, check=False, errors="replace")
    except OSError as exc:
        raise ToolchainError(f"pvgen: error: the {compiler.arch} compiler "
                             f"'{shlex.join(compiler.command)}' ({compiler.origin}) cannot be "
                             f"run: {exc.strerror}") from None
    if probe.returncode != 0:
        said = [line for line in probe.stderr.splitlines() if "error" in line]
        why = (said or probe.stderr.splitlines() or ["it failed"])[-1].strip()
    elif f"#define {macro} " not in probe.stdout:
        why = f"it does not predefine {macro}"
    else:
        return
    raise ToolchainError(
        f"pvgen: error: the {compiler.arch} compiler '{shlex.join(compiler.command)}' "
        f"({compiler.origin}) does not build for {compiler.arch}: {why}; name a compiler for "
        f"{compiler.arch} or the options that select it (for example "
        f"'{_EXAMPLES[compiler.arch]}')"
    )


_EXAMPLES = {"x86": "gcc -m32", "arm": "arm-none-eabi-gcc"}


def compiler_identity(command: tuple[str, ...]) -> str:
    """The compiler beyond its command: the size and time of each program it runs, so that
    what an upgraded or reinstalled compiler would build differently is built again."""
    programs = [shutil.which(command[0])]
    if command[1:3] == ("-m", "ziglang"):
        spec = importlib.util.find_spec("ziglang")
        places = spec.submodule_search_locations if spec else None
        programs.append(os.path.join(places[0], "zig") if places else None)
    stamps = []
    for program in programs:
        try:
            found = os.stat(program) if program else None
        except OSError:
            found = None
        stamps.append(f"{program}:{found.st_size}:{found.st_mtime_ns}" if found else "-")
    return " ".join((*stamps, *command))


def _check_present(compiler: Compiler) -> None:
    program = compiler.command[0]
    if program == sys.executable and compiler.command[1:3] == ("-m", "ziglang"):
        if importlib.util.find_spec("ziglang") is None:
            raise ToolchainError(
                f"pvgen: error: the {compiler.arch} compiler (zig's clang, {compiler.origin}) is "
                f"not installed: {_INSTALL_HINTS['ziglang']}"
            )
        return
    if shutil.which(program) is None:
        base = os.path.basename(program)
        hint = _INSTALL_HINTS.get(base, "install it or point $PVGEN_CC at another compiler")
        raise ToolchainError(
            f"pvgen: error: the {compiler.arch} compiler '{program}' ({compiler.origin}) was not "
            f"found: {hint}"
        )
