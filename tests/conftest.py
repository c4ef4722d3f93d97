"""Shared fixtures: paths of the repository and its definition."""

from __future__ import annotations

from pathlib import Path

import pytest

from pvgen.definition import load
from pvgen.model import Interface

ROOT = Path(__file__).resolve().parent.parent
DEFINITION = ROOT / "hypercalls.def"


def pok_source() -> Path:
    """The POK tree the tests marked ``pok`` build from (``pvgen.pok.tree.locate``); they skip
    with one line saying what is missing without it, or without what POK's build needs."""
    from pvgen.pok.errors import PokError
    from pvgen.pok.tree import locate, missing_packages

    try:
        source = locate(None, ROOT)
    except PokError as exc:
        pytest.skip(str(exc))
    missing = missing_packages()
    if missing:
        pytest.skip(f"POK's build needs Debian's {' '.join(missing)}")
    return source


@pytest.fixture(scope="session")
def interface() -> Interface:
    """The model of the repository's own hypercalls.def."""
    return load(DEFINITION)


def pytest_addoption(parser: pytest.Parser) -> None:
    """``--update-golden`` rewrites tests/golden from the current templates (see test_golden)."""
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="rewrite the golden files under tests/golden instead of comparing with them",
    )


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    """Whether this run rewrites the golden files."""
    return bool(request.config.getoption("--update-golden"))
