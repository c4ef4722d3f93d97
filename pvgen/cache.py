"""Where pvgen keeps what it builds once per machine: the emulator's native library, the
RTEMS toolchain and RTEMS builds. ``$XDG_CACHE_HOME/pvgen``, else ``~/.cache/pvgen``;
nothing there is needed again that cannot be rebuilt, so it may be deleted at any time."""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "pvgen"
