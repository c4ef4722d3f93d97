"""pvgen's <Guest> extension: where a partition's program comes from, and its stack.

ARINC 653 configurations describe partitions but not how their programs are
built; pvgen builds them, so each partition says either which C sources to
compile (and with which runtime) or which ready-made ELF to load.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pvgen.config.model import GuestImage
from pvgen.config.problems import Problems
from pvgen.config.values import seconds, token
from pvgen.config.xmltree import XmlElement

DEFAULT_RUNTIME = "baremetal"
DEFAULT_STACK_SIZE = 8192
# The i386 System V ABI (as gcc compiles it) keeps the stack 16-byte aligned at calls; a stack
# placed at the top of the partition with a size that is a multiple of 16 keeps it so.
STACK_ALIGNMENT = 16


@dataclass(frozen=True)
class Guest:
    image: GuestImage
    stack_size: int
    timer_period_ns: int | None


def read_guest(element: XmlElement, directory: Path, problems: Problems) -> Guest:
    """The <Guest> of a partition; file names are relative to ``directory`` and must exist."""
    sources = element.get("Sources", "").split()
    elf = element.get("Elf")
    if sources and elf is not None:
        problems.at(element, "give Sources or Elf, not both", "Elf")
    elif not sources and elf is None:
        problems.at(element, 'say where the program comes from: Sources="file.c ..." '
                    '(C files to build) or Elf="file.elf" (a linked partition)')
    if elf is not None and "Runtime" in element.attrib:
        problems.at(element, "Runtime is for Sources: an Elf is already linked", "Runtime")
    elif token(element.get("Runtime", DEFAULT_RUNTIME)) == "rtems":
        problems.at(element, 'pvgen image builds Sources with the bare-metal runtime only: '
                    'build an RTEMS application with the pokpv BSP (pvgen bsp, or pvgen rtems) '
                    'and give its executable as Elf="..."', "Runtime")
    stack_size = int(element.get("StackSize", DEFAULT_STACK_SIZE))
    if stack_size % STACK_ALIGNMENT:
        problems.at(element, f"not a multiple of {STACK_ALIGNMENT} bytes, the stack alignment",
                    "StackSize")
    elf_path = None if elf is None else _existing(element, "Elf", token(elf), directory, problems)
    return Guest(
        image=GuestImage(
            sources=tuple(
                _existing(element, "Sources", name, directory, problems) for name in sources
            ),
            elf=elf_path,
            runtime=token(element.get("Runtime", DEFAULT_RUNTIME)),
        ),
        stack_size=stack_size,
        timer_period_ns=(
            seconds(element, "TimerPeriodSeconds", problems)
            if "TimerPeriodSeconds" in element.attrib
            else None
        ),
    )


def _existing(
    element: XmlElement, attribute: str, name: str, directory: Path, problems: Problems
) -> Path:
    """The absolute path of a file the attribute names; a missing file is reported."""
    path = (directory / name).resolve()
    if not path.is_file():
        problems.at(element, f"no such file: {name} (names are relative to the module "
                    "file's directory)", attribute)
    return path
