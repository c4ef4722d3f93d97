"""Where pvgen's commands read and write when not told: one place, so that `pvgen gen`,
`pvgen image`, `pvgen boot` and the emulator's own command agree on it."""

from __future__ import annotations

from pathlib import Path

DEFINITION = Path("hypercalls.def")
GEN_DIR = Path("build/gen")
CONFIG = Path("examples/hello/module.xml")
IMAGE = Path("build/hello.img")
BSP_DIR = Path("build/rtems-bsp")
