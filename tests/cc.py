"""The real compilers the tests build generated C with.

x86 guests use the host gcc with ``-m32``; ARM guests use zig's clang from the
``ziglang`` PyPI package (the project's ``arm`` extra). Both run with warnings
as errors, in strict C99.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

STRICT = ("-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", "-ffreestanding", "-O2")


@dataclass(frozen=True)
class Compiler:
    name: str
    command: tuple[str, ...]

    def compile(
        self, source: Path, output: Path, includes: Sequence[Path] = (),
        defines: Sequence[str] = (),
    ) -> None:
        """Compile one file to an object; fail the test with the compiler's output."""
        args = [
            *self.command, *STRICT,
            *(f"-I{d}" for d in includes), *(f"-D{d}" for d in defines),
            "-c", str(source), "-o", str(output),
        ]
        result = subprocess.run(args, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise AssertionError(
                f"{self.name} failed on {source.name}:\n{' '.join(args)}\n{result.stderr}"
            )


GCC_X86 = Compiler("gcc -m32", ("gcc", "-m32"))
CLANG_ARM = Compiler(
    "zig cc (arm)",
    (sys.executable, "-m", "ziglang", "cc", "-target", "arm-freestanding-eabi",
     "-mcpu=cortex_a15"),
)

# The compiler that builds guests for each architecture of the definition.
FOR_ARCH = {"x86": GCC_X86, "arm": CLANG_ARM}
