"""RTEMS 6 built for the pokpv BSP with RTEMS's own build (waf), its samples and test suites.

The RTEMS source is copied once into a work directory in pvgen's cache (a user's
checkout is never changed), keyed by the source's identity and the toolchain; there the
BSP is rendered from the definition (``pvgen.bsp``), the i386 port gets its
RTEMS_PARAVIRT hooks (``pvgen.rtems.port``), and waf configures and builds. waf builds
only what changed, so a second build of the same source is quick. With a toolchain that
has no C++ for RTEMS (zig's), RTEMS's C++ library and C++ programs are switched off
through a specification directory of pvgen's, which RTEMS's build reads after its own
(``--rtems-specs``): the RTEMS tree itself keeps its build specification.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from pvgen.bsp import BSP_DIR, DEFAULT_PARTITION_SIZE, render_rtems_bsp
from pvgen.cache import cache_dir, locked
from pvgen.diagnostics import BuildFailed
from pvgen.model import Interface
from pvgen.rtems import BSP, SUITES
from pvgen.rtems.port import apply_hooks, port_fingerprint
from pvgen.rtems.sources import IGNORED_AT_TOP, Source
from pvgen.rtems.steps import run_logged, tail
from pvgen.rtems.toolchain import TARGET, Log, Toolchain

CXX_LIBRARY = "cpukit/librtemscxx"  # RTEMS's C++ support library, by item UID
RENDERED = ".pvgen-rendered"  # the files add_bsp wrote into a tree, one per line


class RtemsBuildError(BuildFailed):
    """RTEMS's build, or a test program's, failed; its log or the compiler's words follow."""


@dataclass(frozen=True)
class RtemsBuild:
    """A built RTEMS tree: where its test programs are, and how the build went."""

    tree: Path
    out: Path  # waf's build directory
    prefix: Path  # where waf installed the BSP, for applications (build_application)
    log: Path
    seconds: float  # the build's wall time (configure and build)

    @property
    def work(self) -> Path:
        """The work directory in pvgen's cache the tree was copied into."""
        return self.tree.parent

    @property
    def bsp_dir(self) -> Path:
        return self.out / BSP

    @property
    def installed(self) -> Path:
        """The installed BSP: its libraries, start.o, linkcmds, and include/."""
        return self.prefix / TARGET / BSP.split("/")[1] / "lib"

    def executables(self, suite: str) -> dict[str, Path]:
        """The suite's test programs that built, by name."""
        directory = self.bsp_dir / "testsuites" / suite
        return {exe.stem: exe for exe in sorted(directory.glob("*.exe"))}

    def failed(self, suite: str) -> list[str]:
        """The suite's test programs that RTEMS's build tried and failed to build (with its
        ``-k``, the others built): their names, from the build's log."""
        failed = re.findall(rf"task in 'testsuites/{suite}/([^']+)\.exe' failed",
                            self.log.read_text(encoding="utf-8", errors="replace"))
        return sorted(set(failed))


def work_dir(rtems: Source, toolchain: Toolchain) -> Path:
    """The work directory of a source and toolchain; the port's edits name it too, so that a
    tree edited otherwise by an earlier pvgen is never edited again on top."""
    prefix = hashlib.sha256(str(toolchain.prefix.resolve()).encode()).hexdigest()[:8]
    return (cache_dir() / "rtems"
            / f"build-{rtems.tag}-{port_fingerprint()}-{toolchain.prefix.name}-{prefix}")


def build_rtems(
    iface: Interface, rtems: Source, toolchain: Toolchain, suites: tuple[str, ...] | None, *,
    log: Log = print, jobs: int | None = None, partition_size: int = DEFAULT_PARTITION_SIZE,
) -> RtemsBuild:
    """Render the BSP into a private copy of the RTEMS tree, add the port's hooks, configure
    with `toolchain` and build RTEMS with the `suites` (keys of SUITES); None: the suites it
    was last built with there (none the first time), so that building an application
    against the BSP does not build RTEMS anew without the tests."""
    work = work_dir(rtems, toolchain)
    with locked(work):  # another pvgen building it: wait, then build on what it built
        config = work / "config.ini"
        if suites is None:
            suites = _configured_suites(config)
        unknown = [s for s in suites if s not in SUITES]
        if unknown:
            raise RtemsBuildError(f"pvgen: error: no test suite {', '.join(unknown)} (the harness "
                                  f"builds {', '.join(SUITES)})")
        tree = _copied(rtems.tree, work / "rtems", log)
        add_bsp(iface, tree, log)
        specs = ["spec/build"]
        if not toolchain.cxx:
            specs.append(str(_without_cxx(tree, work / "pvgen-spec")))
        config.write_text(_config(toolchain, suites, partition_size), encoding="utf-8")
        out, prefix, build_log = work / "build", work / "install", work / "build.log"
        waf = [sys.executable, "./waf"]
        started = time.monotonic()
        log(f"pvgen: building RTEMS ({', '.join(suites) or 'no tests'}) for {BSP} with "
            f"{toolchain.description}; the log is {build_log}")
        build_log.write_text("", encoding="utf-8")

        def waf_step(*arguments: str, check: bool = True) -> None:
            run_logged([*waf, *arguments], cwd=tree, log=build_log, error=RtemsBuildError,
                       what=f"waf {arguments[0]}", env=toolchain.environment(), check=check)

        waf_step("configure", f"--out={out}", f"--prefix={prefix}",
                 f"--rtems-tools={toolchain.prefix}", f"--rtems-config={config}",
                 f"--rtems-specs={','.join(specs)}")
        # -k: a test program that does not build for the BSP is reported, not fatal
        waf_step("build", f"-j{jobs or os.cpu_count() or 1}", "-k", check=False)
        # the installed BSP is for applications (-k again: install builds what failed)
        waf_step("install", "-k", check=False)
        built = RtemsBuild(tree, out, prefix, build_log, time.monotonic() - started)
        missing = [str(path) for path in (
            *(built.bsp_dir / name for name in ("librtemsbsp.a", "librtemscpu.a", "start.o")),
            *(built.installed / name for name in ("librtemsbsp.a", "start.o", "linkcmds")))
            if not path.is_file()]
        if missing:
            raise RtemsBuildError(f"pvgen: error: RTEMS's build did not make {', '.join(missing)} "
                                  f"for {BSP}; the log is {build_log}:\n  " + tail(build_log))
        return built


def _copied(source: Path, tree: Path, log: Log) -> Path:
    """The RTEMS tree's private copy (made once: the source's identity names the work
    directory)."""
    done = tree.parent / ".copied"
    if not done.is_file():
        log(f"pvgen: copying the RTEMS tree {source} to {tree}")
        shutil.rmtree(tree, ignore_errors=True)
        shutil.copytree(source, tree, symlinks=True, ignore=_checkout_state(source))
        done.touch()
    return tree


def add_bsp(iface: Interface, tree: Path, log: Log = print) -> None:
    """Render the BSP into an RTEMS tree and give its i386 port the RTEMS_PARAVIRT hooks
    (once): what configuring it with RTEMS_PARAVIRT needs. A file an earlier rendering wrote
    (its list is kept beside the BSP, RENDERED) that this one has not goes (a template removed
    since); nothing else in the tree is touched."""
    manifest = tree / BSP_DIR / RENDERED
    earlier = set(manifest.read_text(encoding="utf-8").split()) if manifest.is_file() else set()
    written = {str(p.relative_to(tree)) for p in render_rtems_bsp(iface, tree)}
    for stale in sorted(earlier - written):
        (tree / stale).unlink(missing_ok=True)
    manifest.write_text("".join(f"{name}\n" for name in sorted(written)), encoding="utf-8")
    edited = apply_hooks(tree)
    if edited:
        log(f"pvgen: added the RTEMS_PARAVIRT thread switch hooks to {', '.join(map(str, edited))}")


def _checkout_state(top: Path) -> Callable[[str, list[str]], set[str]]:
    """What a copy of a checkout leaves out: at its top, git's data and a user's own waf
    build (its build directory, lock and configuration)."""

    def ignored(directory: str, names: list[str]) -> set[str]:
        if Path(directory) != top:
            return set()
        return {n for n in names
                if n in IGNORED_AT_TOP or n.startswith(".lock-waf")}

    return ignored


# An item of RTEMS's build specification that is switched off: enough for waf to load it.
_DISABLED_ITEM = """SPDX-License-Identifier: CC-BY-SA-4.0 OR BSD-2-Clause
build-type: {build_type}
copyrights:
- Copyright (C) 2026 The pvgen authors
enabled-by: false
links: []
type: build
"""


def _without_cxx(tree: Path, specs: Path) -> Path:
    """A specification directory of pvgen's that switches RTEMS's C++ library and every C++
    program off (items of the same UID as RTEMS's own replace them)."""
    shutil.rmtree(specs, ignore_errors=True)
    for uid, build_type in _cxx_items(tree):
        path = specs / f"{uid}.yml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(_DISABLED_ITEM.format(build_type=build_type), encoding="utf-8")
    return specs


def _cxx_items(tree: Path) -> list[tuple[PurePosixPath, str]]:
    """RTEMS's items that compile C++ (their ``features`` name it), and its C++ library."""
    root = tree / "spec" / "build"
    found = []
    for path in sorted(root.rglob("*.yml")):
        text = path.read_text(encoding="utf-8", errors="replace")
        uid = PurePosixPath(path.relative_to(root).with_suffix("").as_posix())
        features = re.search(r"^features:(.*)$", text, re.MULTILINE)
        if (features and "cxx" in features[1].split()) or str(uid) == CXX_LIBRARY:
            kind = re.search(r"^build-type:\s*(\S+)", text, re.MULTILINE)
            found.append((uid, kind[1] if kind else "test-program"))
    return found


def _config(toolchain: Toolchain, suites: tuple[str, ...], partition_size: int) -> str:
    """RTEMS's config.ini for the BSP: RTEMS_PARAVIRT, the partition, the suites, and what
    the toolchain needs."""
    lines = [f"[{BSP}]", "RTEMS_PARAVIRT = True",
             "RTEMS_POSIX_API = True",  # the POSIX tests of signals and timers too
             f"BSP_POKPV_PARTITION_SIZE = {partition_size:#010x}",
             # a test's end ends its partition, not the module: several can share one
             "BSP_POKPV_RESET_SHUTS_DOWN_MODULE = False"]
    lines += [f"{option} = {option_value(suite in suites)}" for suite, option in SUITES.items()]
    lines += [f"{name} = {value}" for name, value in toolchain.options]
    return "\n".join(lines) + "\n"


def _configured_suites(config: Path) -> tuple[str, ...]:
    """The suites a config.ini of _config's enables (none if there is none yet)."""
    text = config.read_text(encoding="utf-8") if config.is_file() else ""
    return tuple(suite for suite, option in SUITES.items()
                 if f"{option} = {option_value(True)}" in text.splitlines())


def option_value(enabled: bool) -> str:
    return "True" if enabled else "False"
