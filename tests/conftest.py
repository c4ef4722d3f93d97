"""Shared fixtures: paths of the repository and its definition."""

from __future__ import annotations

from pathlib import Path

import pytest

from pvgen.definition import load
from pvgen.model import Interface

ROOT = Path(__file__).resolve().parent.parent
DEFINITION = ROOT / "hypercalls.def"


@pytest.fixture(scope="session")
def interface() -> Interface:
    """The model of the repository's own hypercalls.def."""
    return load(DEFINITION)
