"""Where pvgen keeps what it builds once per machine: the emulator's native library, the
RTEMS toolchain and RTEMS builds. ``$XDG_CACHE_HOME/pvgen``, else ``~/.cache/pvgen``;
nothing there is needed again that cannot be rebuilt, so it may be deleted at any time.
Two pvgen processes building the same thing there take turns (``locked``)."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "pvgen"


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold `path`'s lock (the file ``path.lock`` beside it) while building `path`: another
    process building it waits, then finds it built."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.with_name(path.name + ".lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
