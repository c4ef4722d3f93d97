"""pvgen's pytest plugin: boot a module inside a test, and assert on what it did.

Installed with pvgen (a ``pytest11`` entry point), it gives every test the fixture
``pvgen_boot``. ``pvgen_boot(IMAGE)``, or ``pvgen_boot(config=MODULE_XML)`` to build the
image first, boots it in the test's own process, deterministically, as ``pvgen boot`` does,
and returns a ``Booted``: each partition's console lines, the RTEMS tester's verdict on it, its
health-monitor reports and, with ``trace=True``, the run's trace events::

    def test_hello(pvgen_boot):
        booted = pvgen_boot(config=Path("examples/hello/module.xml"))
        assert booted.verdict("hello") is Verdict.PASSED
        assert booted.console("hello")[-1] == "*** END OF TEST hello ***"

Building needs pvgen's ``image`` extra, booting its ``emulator`` extra.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from pvgen.emulated import ModuleRun, boot_image
from pvgen.scaffold import DEFINITION
from pvgen.tester import Verdict


@dataclass(frozen=True)
class Booted:
    """What a module's run did, partition by partition."""

    run: ModuleRun
    trace: tuple[Mapping[str, Any], ...]  # the trace's events (empty: not traced)

    @property
    def partitions(self) -> tuple[str, ...]:
        return tuple(self.run.consoles)

    def console(self, partition: str) -> tuple[str, ...]:
        """The lines it printed, as its console shows them (without the name prefix)."""
        return self.run.consoles[partition]

    def verdict(self, partition: str) -> Verdict:
        """The RTEMS tester's verdict on its console (pvgen.tester)."""
        return self.run.verdict(partition)

    def health(self, partition: str) -> tuple[str, ...]:
        """Its health-monitor reports, as the run printed them (``ERROR (detail) -> LEVEL
        ACTION``)."""
        return self.run.health[partition]

    def events(self, category: str) -> list[Mapping[str, Any]]:
        """The trace's events of one category (``hypercall``, ``irq``, ``port``, ``hm``...)."""
        return [e for e in self.trace if e.get("cat") == category]


class Booter:
    """``pvgen_boot``: boots images in a directory of the test's own."""

    def __init__(self, directory: Path) -> None:
        self._directory = directory
        self._runs = 0

    def __call__(self, image: Path | None = None, *, config: Path | None = None,
                 definition: Path = DEFINITION, seconds: float | None = None,
                 trace: bool = False, like_pok: bool = False) -> Booted:
        """Boot `image`, or the image built from the module configuration `config` against
        `definition`; stop after `seconds` of virtual time (None: when every partition has
        stopped, at most the emulator's limit)."""
        self._runs += 1
        work = self._directory / f"boot{self._runs}"
        work.mkdir(parents=True)
        if (image is None) == (config is None):
            raise ValueError("pvgen_boot: give an image or a configuration (config=...)")
        if config is not None:
            from pvgen.image.builder import build_image

            image = build_image(config, work / "module.img", definition, work / "gen").image
        assert image is not None
        trace_file = work / "trace.json" if trace else None
        limit = None if seconds is None else int(seconds * 1e9)
        run = boot_image(image, None, limit, console_baud=None, like_pok=like_pok,
                         trace=trace_file)
        events = () if trace_file is None else tuple(
            json.loads(trace_file.read_text(encoding="utf-8"))["traceEvents"])
        return Booted(run, events)


@pytest.fixture
def pvgen_boot(tmp_path: Path) -> Booter:
    """Boot a pvgen image (or build one from a module configuration) in this test."""
    return Booter(tmp_path / "pvgen")
