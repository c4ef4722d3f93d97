"""`pvgen inspect CONFIG|IMAGE --schedule`: the configured major frame without running it
(pvgen/image/frame.py), from a configuration and from the image built of it alike."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from pvgen.config import load_module
from pvgen.image.frame import Frame
from pvgen.image.read import read_image
from tests.conftest import DEFINITION, ROOT

MULTI = ROOT / "examples" / "multi" / "module.xml"
SVG = "{http://www.w3.org/2000/svg}"


def _pvgen(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pvgen.cli", *args], capture_output=True,
                          text=True, check=False, cwd=ROOT)


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("frame")
    built = _pvgen("image", "--config", str(MULTI), "--out", str(out / "multi.img"), "--def",
                   str(DEFINITION), "--gen", str(out / "gen"))
    assert built.returncode == 0, built.stderr
    return out / "multi.img"


def test_a_configuration_and_its_image_show_the_same_frame(image: Path) -> None:
    assert Frame.of_config(load_module(MULTI)) == Frame.of_manifest(read_image(image).manifest)


def test_the_shares_of_the_frame_and_of_each_period(image: Path) -> None:
    for source in (MULTI, image):
        shown = _pvgen("inspect", str(source), "--schedule")
        assert shown.returncode == 0, shown.stderr
        assert shown.stdout.splitlines() == [
            "module multi: major frame 20 ms, 0.0% of it in no window",
            "  partition  windows  of the frame  period ms  duration ms  of its period",
            "  alpha      1        25.0%         20         5            25.0%",
            "  beta       1        25.0%         20         5            25.0%",
            "  gamma      1        50.0%         20         10           50.0%"]


def test_the_svg_has_a_bar_per_window_where_the_window_is(tmp_path: Path) -> None:
    svg = tmp_path / "multi.svg"
    assert _pvgen("inspect", str(MULTI), "--svg", str(svg)).returncode == 0
    root = ET.parse(svg).getroot()
    bars = [(float(r.get("x", "")), float(r.get("width", ""))) for r in root.iter(f"{SVG}rect")]
    # 800 pixels for 20 ms, after a 120-pixel margin: 40 pixels a millisecond
    assert bars == [(120.0, 200.0), (320.0, 200.0), (520.0, 400.0)]
    ticks = [t.text for t in root.iter(f"{SVG}text")][3:]
    assert ticks == ["0", "2", "4", "6", "8", "10", "12", "14", "16", "18", "20"]


def test_the_trace_of_the_configured_windows_follows_the_trace_event_format(
        tmp_path: Path) -> None:
    trace = tmp_path / "multi.json"
    assert _pvgen("inspect", str(MULTI), "--perfetto", str(trace)).returncode == 0
    events = json.loads(trace.read_text())["traceEvents"]
    names = {e["tid"]: e["args"]["name"] for e in events if e["name"] == "thread_name"}
    assert names == {1: "alpha", 2: "beta", 3: "gamma"}  # never thread 0
    windows = [(e["tid"], e["ts"], e["dur"]) for e in events if e.get("cat") == "window"]
    assert windows == [(1, 0.0, 5000.0), (2, 5000.0, 5000.0), (3, 10000.0, 10000.0)]
    assert all(e["ph"] in ("M", "X") and e["pid"] == 1 for e in events)


def test_a_file_that_is_neither_is_one_line(tmp_path: Path) -> None:
    other = tmp_path / "notes.txt"
    other.write_text("hello\n")
    shown = _pvgen("inspect", str(other), "--schedule")
    assert shown.returncode == 2
    assert "neither an image made by `pvgen image` (an ELF file) nor a module configuration" \
        in shown.stderr and "Traceback" not in shown.stderr
