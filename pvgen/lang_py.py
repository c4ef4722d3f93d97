"""How model objects are spelled in Python: small, pure jinja2 filters."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

FILTERS: dict[str, Callable[..., Any]] = {}
