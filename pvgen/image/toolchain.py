"""Which C compiler builds guests for an architecture, and how to call it.

Precedence: the ``PVGEN_CC`` environment variable (a whole command, e.g.
``"clang --target=i386-none-elf"``), then the module configuration's
``Toolchain`` (``Compiler`` and ``CrossPrefix``), then the architecture's
default: the host gcc with ``-m32`` for x86 (nothing extra to install), zig's
clang from the ``pvgen[arm]`` extra for ARM. A compiler that is not there is
reported with its name and how to install it.
"""

from __future__ import annotations

import importlib.util
import os
import shlex
import shutil
import sys
from collections.abc import Mapping
from dataclasses import dataclass

from pvgen.config.model import Toolchain
from pvgen.diagnostics import PvgenError

ENV_VARIABLE = "PVGEN_CC"

# How partition programs are compiled (the runtime adds how to build against it).
PROGRAM_FLAGS = ("-std=c99", "-O2", "-Wall", "-Wextra")


class ToolchainError(PvgenError):
    exit_status = 2


@dataclass(frozen=True)
class Compiler:
    arch: str
    command: tuple[str, ...]  # the compiler and the options that select the target
    origin: str  # where the choice came from, for messages


def _zig_arm() -> Compiler:
    return Compiler(
        "arm",
        (sys.executable, "-m", "ziglang", "cc", "-target", "arm-freestanding-eabi",
         "-mcpu=cortex_a15"),
        "default for arm (zig's clang)",
    )


def _gcc_x86() -> Compiler:
    return Compiler("x86", ("gcc", "-m32"), "default for x86 (the host gcc)")


_DEFAULTS = {"x86": _gcc_x86, "arm": _zig_arm}

# How to get each known compiler on Debian or from PyPI.
_INSTALL_HINTS = {
    "gcc": "install Debian's 'gcc' package (apt-get install gcc)",
    "ziglang": "install the project's ARM extra (python3 -m pip install -e '.[arm]')",
    "arm-none-eabi-gcc": "install Debian's 'gcc-arm-none-eabi' package",
    "clang": "install Debian's 'clang' and 'lld' packages",
}


def resolve_compiler(toolchain: Toolchain, env: Mapping[str, str] | None = None) -> Compiler:
    """The compiler for the module's architecture; raise ToolchainError if it is missing."""
    env = os.environ if env is None else env
    arch = toolchain.arch
    if arch not in _DEFAULTS:
        raise ToolchainError(
            f"error: pvgen cannot build guests for architecture '{arch}'; it knows "
            + ", ".join(sorted(_DEFAULTS))
        )
    if env.get(ENV_VARIABLE):
        compiler = Compiler(arch, tuple(shlex.split(env[ENV_VARIABLE])), f"${ENV_VARIABLE}")
    elif toolchain.cc or toolchain.cross_prefix:
        name = toolchain.cross_prefix + (toolchain.cc or "gcc")
        compiler = Compiler(arch, tuple(shlex.split(name)), "the module's Toolchain")
    else:
        compiler = _DEFAULTS[arch]()
    _check_present(compiler)
    return compiler


def _check_present(compiler: Compiler) -> None:
    program = compiler.command[0]
    if program == sys.executable and compiler.command[1:3] == ("-m", "ziglang"):
        if importlib.util.find_spec("ziglang") is None:
            raise ToolchainError(
                f"error: the {compiler.arch} compiler (zig's clang, {compiler.origin}) is not "
                f"installed: {_INSTALL_HINTS['ziglang']}"
            )
        return
    if shutil.which(program) is None:
        base = os.path.basename(program)
        hint = _INSTALL_HINTS.get(base, "install it or point $PVGEN_CC at another compiler")
        raise ToolchainError(
            f"error: the {compiler.arch} compiler '{program}' ({compiler.origin}) was not found: "
            f"{hint}"
        )
