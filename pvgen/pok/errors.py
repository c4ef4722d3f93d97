"""The one error of pvgen's POK side."""

from __future__ import annotations

from pvgen.diagnostics import PvgenError


class PokError(PvgenError):
    """The system cannot be expressed for, built with, or written into a real POK kernel."""

    exit_status = 2
