"""Building a module's partitions from their C sources and the guest runtime.

Each source becomes an object and each partition an ELF linked at 0, as a C programmer's
own build would do it: one compiler run per object (``-c``), all of a module's objects
side by side, then the links, and nothing run again that an earlier build already made
from the same command and the same file contents (pvgen.image.steps). The commands are
written, as editors read them, to ``compile_commands.json`` beside the image.
"""

from __future__ import annotations

import json
import os
import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pvgen.bsp import BaremetalRuntime, render_baremetal
from pvgen.config.model import ModuleConfig, PartitionConfig
from pvgen.diagnostics import BuildFailed
from pvgen.image.steps import RECORD_NAME, Step, StepOutcome, StepRecord, failures, run_stage
from pvgen.image.toolchain import (
    PROGRAM_FLAGS,
    Compiler,
    compiler_identity,
    resolve_compiler,
)
from pvgen.model import Interface

# More compiler flags for every partition built from sources, from the environment: -Werror
# to make warnings errors, -g for a debugger, a -D of one's own.
CFLAGS_VARIABLE = "PVGEN_CFLAGS"
COMPILE_COMMANDS = "compile_commands.json"


class BuildError(BuildFailed):
    """A guest did not compile or link; the compiler's own words follow."""


@dataclass(frozen=True)
class Built:
    elves: list[Path]  # each partition's ELF, in the module's order
    warnings: dict[str, str]  # what the compiler said of a partition it built, by partition
    read: frozenset[Path]  # every file the compiler read for them
    compiler: tuple[str, ...]  # the command that built them (none: all were prebuilt)


def build_partitions(module: ModuleConfig, iface: Interface, work: Path, jobs: int | None = None
                     ) -> Built:
    """Each partition's ELF: its prebuilt file, or built from its sources."""
    work = work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    to_build = [p for p in module.partitions if p.image.elf is None]
    if not to_build:
        return Built([p.image.elf for p in module.partitions if p.image.elf], {}, frozenset(),
                     ())
    compiler = resolve_compiler(module.toolchain)
    runtime = render_baremetal(iface, module.toolchain.arch, work / "runtime")
    plans = [_plan(compiler, p, runtime, work) for p in to_build]
    _write_compile_commands(work, [s for plan in plans for s in plan.compiles])
    record = StepRecord(work / RECORD_NAME, compiler_identity(compiler.command))
    jobs = jobs or os.cpu_count() or 1
    compiles, links = [s for plan in plans for s in plan.compiles], [p.link for p in plans]
    try:
        outcomes = run_stage(compiles, record, jobs)
        if not any(o.failed for o in outcomes):
            outcomes += run_stage(links, record, jobs)
    finally:
        record.save([*compiles, *links])
    if any(o.failed for o in outcomes):
        raise BuildError(failures(outcomes))
    built = {plan.link.partition: plan.link.output for plan in plans}
    return Built(
        [p.image.elf or built[p.name] for p in module.partitions],
        _said_by_partition(outcomes),
        frozenset(record.read_files([*compiles, *links])),
        compiler.command,
    )


@dataclass(frozen=True)
class _Plan:
    compiles: tuple[Step, ...]
    link: Step


def _plan(compiler: Compiler, partition: PartitionConfig, runtime: BaremetalRuntime, work: Path
          ) -> _Plan:
    """The compiler runs that build one partition: an object per source, then the link."""
    source_dirs = sorted({s.parent for s in partition.image.sources})
    defines = (*runtime.defines,
               *runtime.layout_defines(partition.memory_size, partition.stack_size))
    flags = (
        *compiler.command, *PROGRAM_FLAGS, *runtime.cflags,
        *shlex.split(os.environ.get(CFLAGS_VARIABLE, "")),
        *(f"-I{d}" for d in (*runtime.include_dirs, *source_dirs)),
        *(f"-D{d}" for d in defines),
    )
    objects_dir = work / partition.name
    compiles = []
    for source, name in _object_names(partition.image.sources, runtime.sources):
        obj = objects_dir / name
        depfile = obj.with_suffix(".d")
        compiles.append(Step(
            f"partition '{partition.name}': compiling {source.name}", partition.name,
            (*flags, "-c", str(source), "-o", str(obj), "-MMD", "-MF", str(depfile)),
            obj, (source,), depfile,
        ))
    elf = work / f"{partition.name}.elf"
    objects = [s.output for s in compiles]
    link = Step(
        f"partition '{partition.name}': linking", partition.name,
        (*flags, *map(str, objects), *runtime.link_flags, "-o", str(elf)),
        elf, (*objects, runtime.linker_script),
    )
    return _Plan(tuple(compiles), link)


def _object_names(program: Sequence[Path], runtime: Sequence[Path]
                  ) -> list[tuple[Path, str]]:
    """Each source and its object's name: the runtime's below runtime/, two sources of one
    name (from two directories) told apart by their place in the list."""
    named, taken = [], set()
    for index, source in enumerate(program):
        name = f"{source.stem}.o"
        if name in taken:
            name = f"{source.stem}-{index}.o"
        taken.add(name)
        named.append((source, name))
    named += [(source, f"runtime/{source.name}.o") for source in runtime]
    return named


def _said_by_partition(outcomes: Sequence[StepOutcome]) -> dict[str, str]:
    said: dict[str, list[str]] = {}
    for outcome in outcomes:
        if outcome.said:
            said.setdefault(outcome.step.partition, []).append(outcome.said)
    return {partition: "\n".join(words) for partition, words in said.items()}


def _write_compile_commands(work: Path, compiles: Sequence[Step]) -> None:
    """The compile commands, as clangd and other editors read them, in the directory of the
    image (where an editor looks, from the sources up, for ``build/``): this module's
    entries replace its earlier ones, another module's built there stay."""
    path = work.parent / COMPILE_COMMANDS
    try:
        earlier = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        earlier = []
    mine = str(work) + os.sep
    kept = [e for e in earlier if isinstance(e, dict)
            and not str(e.get("output", "")).startswith(mine)] if isinstance(earlier, list) else []
    entries = kept + [
        {"directory": str(work), "arguments": list(s.arguments), "file": str(s.inputs[0]),
         "output": str(s.output)}
        for s in compiles
    ]
    text = json.dumps(entries, indent=1) + "\n"
    if not path.is_file() or path.read_text(encoding="utf-8", errors="replace") != text:
        path.write_text(text, encoding="utf-8")
