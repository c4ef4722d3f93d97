"""Errors that stop the emulator before or instead of a run, with a message for the user."""

from __future__ import annotations

from pvgen.diagnostics import PvgenError


class EmulatorError(PvgenError):
    """The image cannot be booted: the message says which file and why."""
