"""The module configuration: an ARINC 653 style XML file read into pvgen.config.model.

``load_module(path)`` returns the checked ``ModuleConfig`` or raises ``ConfigError``
listing every error with its file, line and column. The format is described in
docs/module-configuration.md and, formally, in module.xsd (next to this file).

``load_module`` is imported on first use: it needs xmlschema (the ``image``
extra), which code that only reads the model (``pvgen.config.model``) must not.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pvgen.config.errors import ConfigError

if TYPE_CHECKING:
    from pvgen.config.load import load_module

__all__ = ["ConfigError", "load_module"]


def __getattr__(name: str) -> object:
    if name == "load_module":
        from pvgen.config.load import load_module

        return load_module
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
