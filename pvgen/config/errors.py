"""The error a module configuration is refused with: every mistake found, each located."""

from __future__ import annotations

from pvgen.diagnostics import DefinitionError


class ConfigError(DefinitionError):
    """One or more errors in a module configuration, each with a location.

    It derives from DefinitionError to render and sort exactly like the
    hypercall definition's errors (``file:line:col: error: ...``, the source
    line, a caret), with the same exit status 2.
    """
