"""What a warm start keeps: the configuration's sections, found in the partition's ELF.

A Warm_Start_Keeps names a section; the image records its address and size so
that the emulator (which never reads section headers) can carry those bytes
over a warm start. A section the ELF does not have, or one whose bytes the
guest's start-up code clears anyway (inside .bss), would make the promise
silently empty, so both are refused here, at build time, pointing at the
configuration.
"""

from __future__ import annotations

from collections.abc import Mapping

from pvgen.config.model import KeptSection, PartitionConfig
from pvgen.diagnostics import PvgenError
from pvgen.image.manifest import KeptRange


class KeptSectionError(PvgenError):
    """A Warm_Start_Keeps that the partition's ELF cannot honour."""


def kept_ranges(partition: PartitionConfig, file: str, sections: Mapping[str, tuple[int, int]],
                symbols: Mapping[str, int]) -> tuple[KeptRange, ...]:
    """The ranges a warm start of `partition` keeps, in address order.

    `sections` are the ELF's allocated sections by name, `symbols` its symbols
    (``__bss_start``/``__bss_end`` bound what the runtime clears at every start).
    """
    ranges = (_kept_range(partition.name, kept, file, sections, symbols)
              for kept in partition.warm_start_keeps)
    return tuple(sorted(ranges, key=lambda r: r.address))


def _kept_range(partition: str, kept: KeptSection, file: str,
                sections: Mapping[str, tuple[int, int]], symbols: Mapping[str, int]) -> KeptRange:
    def refuse(problem: str) -> KeptSectionError:
        return KeptSectionError(
            f'{kept.location}: error: <Warm_Start_Keeps Section="{kept.name}">: {problem}')

    span = sections.get(kept.name)
    if span is None:
        raise refuse(f"partition '{partition}' has no allocated section '{kept.name}' in {file}")
    address, size = span
    if size == 0:
        raise refuse(f"section '{kept.name}' of {file} is empty: there is nothing to keep")
    bss_start, bss_end = symbols.get("__bss_start"), symbols.get("__bss_end")
    if bss_start is not None and bss_end is not None and bss_start < address + size \
            and address < bss_end:
        raise refuse(f"section '{kept.name}' of {file} lies in .bss, which the start-up code "
                     "clears at every start")
    return KeptRange(kept.name, address, size)
