"""pvgen.c_names follows the templates: every identifier the generated C spells with the
interface's prefixes is one it lists (from a declaration, or kept by the generator), so the
clash check refuses what the C compiler would."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pvgen.c_names import kept, spellings
from pvgen.definition import load
from pvgen.generate import render_all
from pvgen.model import Interface, Struct
from tests.conftest import DEFINITION

GOLDEN_MINI = Path(__file__).parent / "golden" / "mini.def"
_COMMENT_OR_STRING = re.compile(r'/\*.*?\*/|//[^\n]*|"(?:\\.|[^"\\\n])*"', re.S)


def _prefixes(iface: Interface) -> tuple[str, ...]:
    p, pu = iface.prefix, iface.prefix.upper()
    return (f"{p}_", f"{pu}_", f"pok_{p}_", f"POK_{pu}_", "pok_hypercall_", "POK_HYPERCALL_")


def _named(iface: Interface) -> set[str]:
    """What pvgen.c_names lists, with struct tags (a namespace of their own in C) and the
    definition's feature macros (names the user writes out in full)."""
    p = iface.prefix
    tags = {f"{p}_{t.name}" for t in iface.types if isinstance(t, Struct)}
    tags |= {f"pok_{tag}" for tag in tags}
    features = {f for call in iface.hypercalls for f in call.features}
    return {s.identifier for s in spellings(iface)} | kept(iface) | tags | features


# POK's services refer to the status codes and types of the calls they serve, which mini.def
# (a definition POK cannot serve: `pvgen pok-patch` refuses it) does not declare.
UNSERVED = {GOLDEN_MINI: {"pok/kernel/core/hypercall_services.c"}}


@pytest.mark.parametrize("definition", [DEFINITION, GOLDEN_MINI], ids=lambda p: p.stem)
def test_every_prefixed_identifier_of_the_generated_c_is_listed(definition: Path) -> None:
    iface = load(definition)
    unserved = UNSERVED.get(definition, set())
    named = _named(iface)
    assert_prefix = (f"{iface.prefix}_assert_", f"pok_{iface.prefix}_assert_")
    unlisted = set()
    for artifact in render_all(iface):
        if artifact.path.suffix not in (".c", ".h") or str(artifact.path) in unserved:
            continue
        code = _COMMENT_OR_STRING.sub(" ", artifact.content)
        for identifier in re.findall(r"\b[A-Za-z_][A-Za-z0-9_]*\b", code):
            if (identifier.startswith(_prefixes(iface)) and identifier not in named
                    and not identifier.startswith(assert_prefix)):
                unlisted.add(f"{artifact.path}: {identifier}")
    assert sorted(unlisted) == []
