"""The harness's build steps: a command whose output goes to a log file, and, when it fails,
an error that shows the log's last lines (what a user needs first) and where the rest is."""

from __future__ import annotations

import shlex
import subprocess
from collections.abc import Mapping
from pathlib import Path

from pvgen.diagnostics import PvgenError

# Programs a fresh machine may lack, and the Debian package that has each.
DEBIAN_PACKAGES = {"make": "make", "cc": "gcc", "gcc": "gcc"}


def run_logged(command: list[str], *, cwd: Path, log: Path, error: type[PvgenError],
               what: str | None = None, env: Mapping[str, str] | None = None,
               check: bool = True) -> int:
    """Run `command` in `cwd`, its output appended to `log`; its exit status. A program that
    cannot be started, or (with `check`) one that fails, raises `error` naming `what` it was
    (default: the program and its first argument)."""
    with log.open("a", encoding="utf-8") as out:
        out.write(f"$ {shlex.join(command)}\n")
        out.flush()
        try:
            done = subprocess.run(command, cwd=cwd, env=env, stdout=out,
                                  stderr=subprocess.STDOUT, check=False)
        except OSError as exc:
            package = DEBIAN_PACKAGES.get(Path(command[0]).name)
            hint = f" (Debian: apt-get install {package})" if package else ""
            raise error(f"pvgen: error: cannot run {command[0]}: {exc.strerror}{hint}") from None
    if check and done.returncode != 0:
        raise error(f"pvgen: error: {what or shlex.join(command[:2])} failed (exit "
                    f"{done.returncode}); the log is {log}:\n  {tail(log)}")
    return done.returncode


def tail(log: Path, lines: int = 15) -> str:
    """The log's last lines, indented under an error's first line."""
    text = log.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:]
    return "\n  ".join(text)
