"""pvgen's pytest plugin (pvgen/testing.py), used as a project of one's own uses it: the
``pvgen_boot`` fixture comes from the installed entry point, nothing here imports it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from pvgen.tester import Verdict
from pvgen.testing import Booter
from tests.conftest import DEFINITION, ROOT

EXAMPLES = ROOT / "examples"


def test_a_module_built_and_booted_in_a_test(pvgen_boot: Booter) -> None:
    booted = pvgen_boot(config=EXAMPLES / "multi" / "module.xml", definition=DEFINITION,
                        trace=True)
    assert booted.partitions == ("alpha", "beta", "gamma")
    assert all(booted.verdict(p) is Verdict.PASSED for p in booted.partitions)
    assert booted.console("alpha")[-1] == "*** END OF TEST alpha ***"
    assert booted.health("alpha") == ()
    windows = booted.events("window")
    assert [e["tid"] for e in windows[:3]] == [1, 2, 3]
    assert len(booted.events("hypercall")) == 15 + 6 + 7


def test_the_health_monitor_s_reports_and_the_verdicts(pvgen_boot: Booter) -> None:
    booted = pvgen_boot(config=EXAMPLES / "health" / "module.xml", definition=DEFINITION)
    assert booted.verdict("fault") is Verdict.INVALID  # it begins no test, by design
    assert booted.health("fault")[0] == \
        "APPLICATION_ERROR (sensor value out of range) -> PARTITION IGNORE"
    assert booted.health("watchdog")[-1].startswith("DEADLINE_MISSED")


def test_an_image_already_built_and_a_time_limit(pvgen_boot: Booter, tmp_path: Path) -> None:
    image = tmp_path / "ticker.img"
    built = subprocess.run([sys.executable, "-m", "pvgen.cli", "image", "--config",
                            str(EXAMPLES / "ticker" / "module.xml"), "--out", str(image),
                            "--def", str(DEFINITION), "--gen", str(tmp_path / "gen")],
                           capture_output=True, text=True, check=False, cwd=ROOT)
    assert built.returncode == 0, built.stderr
    booted = pvgen_boot(image, seconds=0.05)
    assert booted.run.virtual_ns == 50_000_000
    assert booted.verdict("ticker") is Verdict.TIMEOUT


def test_an_image_and_a_configuration_at_once_is_refused(pvgen_boot: Booter) -> None:
    with pytest.raises(ValueError, match="an image or a configuration"):
        pvgen_boot(Path("x.img"), config=Path("module.xml"))
