"""The one error of pvgen's POK side."""

from __future__ import annotations

from pvgen.diagnostics import BuildFailed, PvgenError


class PokError(PvgenError):
    """The system cannot be expressed for, built with, or written into a real POK kernel."""


class PokBuildError(PokError, BuildFailed):
    """POK's make rules or QEMU failed on a system pvgen wrote; their words follow."""
