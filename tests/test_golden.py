"""Generated files match the committed golden copies byte for byte, and are deterministic.

Every template (as ``pvgen.generate.render_all`` finds them, so new templates
are covered without editing this file) is rendered for two definitions: the
repository's hypercalls.def and ``tests/golden/mini.def``, which uses every
construct of the language. The output must equal ``tests/golden/<case>/``.
After an intended change to a template or the model, regenerate and review
the diff::

    python -m pytest tests/test_golden.py --update-golden
    git diff tests/golden
"""

from __future__ import annotations

import difflib
import hashlib
import os
import subprocess
import sys
from pathlib import Path, PurePosixPath

import pytest

from pvgen.definition import load_text
from pvgen.generate import render_all

TESTS = Path(__file__).resolve().parent
GOLDEN = TESTS / "golden"
DEFINITIONS = {
    "hypercalls": TESTS.parent / "hypercalls.def",
    "mini": GOLDEN / "mini.def",
}


def render(case: str) -> dict[PurePosixPath, bytes]:
    """Every artifact of one case, by output path.

    The definition is loaded under its bare file name, as ``pvgen gen`` run
    beside it would, so no absolute path of this machine leaks into the output.
    """
    definition = DEFINITIONS[case]
    interface = load_text(definition.read_text(encoding="utf-8"), definition.name)
    return {a.path: a.content.encode("utf-8") for a in render_all(interface)}


def golden_files(case: str) -> dict[PurePosixPath, bytes]:
    root = GOLDEN / case
    if not root.is_dir():
        return {}
    return {
        PurePosixPath(path.relative_to(root).as_posix()): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def write_golden(case: str, rendered: dict[PurePosixPath, bytes]) -> None:
    root = GOLDEN / case
    for path in golden_files(case).keys() - rendered.keys():
        (root / path).unlink()
    for path, content in rendered.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
    for directory in sorted((d for d in root.rglob("*") if d.is_dir()), reverse=True):
        if not any(directory.iterdir()):
            directory.rmdir()


def _diff(path: PurePosixPath, expected: bytes, actual: bytes, limit: int = 40) -> str:
    lines = list(
        difflib.unified_diff(
            expected.decode("utf-8", "replace").splitlines(),
            actual.decode("utf-8", "replace").splitlines(),
            f"golden/{path}",
            f"rendered/{path}",
            lineterm="",
        )
    )
    more = f"\n... {len(lines) - limit} more diff lines" if len(lines) > limit else ""
    return "\n".join(lines[:limit]) + more


@pytest.mark.parametrize("case", sorted(DEFINITIONS))
def test_rendering_matches_golden_files(case: str, update_golden: bool) -> None:
    rendered = render(case)
    assert rendered, "render_all produced nothing"
    if update_golden:
        write_golden(case, rendered)
    golden = golden_files(case)

    missing = sorted(str(p) for p in rendered.keys() - golden.keys())
    extra = sorted(str(p) for p in golden.keys() - rendered.keys())
    changed = sorted(p for p in rendered.keys() & golden.keys() if rendered[p] != golden[p])
    problems = []
    if missing:
        problems.append(
            f"no golden file for {len(missing)} rendered artifact(s) (a new template?): "
            + ", ".join(missing)
        )
    if extra:
        problems.append(
            f"{len(extra)} golden file(s) that no template renders any more (a removed or "
            "renamed template?): " + ", ".join(extra)
        )
    problems += [_diff(p, golden[p], rendered[p]) for p in changed]
    assert not problems, (
        f"tests/golden/{case} is out of date; if the change is intended, run "
        "'python -m pytest tests/test_golden.py --update-golden' and review 'git diff "
        "tests/golden'.\n\n" + "\n\n".join(problems)
    )


def test_mini_definition_uses_every_construct() -> None:
    """mini.def is only useful as long as it really exercises the whole language."""
    definition = DEFINITIONS["mini"]
    iface = load_text(definition.read_text(encoding="utf-8"), definition.name)
    params = [p for h in iface.hypercalls for p in h.params]
    kinds = {type(t).__name__ for t in iface.types}
    assert kinds == {"Alias", "Enum", "Struct"}
    assert any(p.words_needed == 2 for p in params)
    assert any(p.nullable for p in params)
    assert any(p.is_string for p in params)
    assert any(p.length and p.length.kind.value == "constant" for p in params)
    assert any(p.length and p.length.kind.value == "param" for p in params)
    assert {p.direction.value for p in params if p.direction} == {"in", "out", "inout", "shared"}
    assert any(p.type.resolved.name == "bool" for p in params)
    assert any(p.is_code for p in params)
    assert any(h.noreturn for h in iface.hypercalls)
    assert {h.fastpath.value for h in iface.fastpath_calls} == {"share", "disable", "set_level"}
    assert iface.vcpu_area_layout is not None and iface.vcpu_area_layout.ticks is None
    assert any(h.returns and not h.returns.is_status for h in iface.hypercalls)
    assert any(m.value < 0 for m in iface.status.members)
    assert iface.reserved
    conventions = {(a.arch.name, a.convention.value) for a in iface.abis}
    assert {("x86", "block"), ("x86", "registers"), ("arm", "registers")} <= conventions
    assert {a.split64.value for a in iface.abis} == {"low_first", "high_first"}


@pytest.mark.parametrize("case", sorted(DEFINITIONS))
def test_rendering_twice_gives_identical_bytes(case: str) -> None:
    assert render(case) == render(case)


def _digest(rendered: dict[PurePosixPath, bytes]) -> str:
    h = hashlib.sha256()
    for path in sorted(rendered):
        h.update(f"{path}\0{len(rendered[path])}\0".encode())
        h.update(rendered[path])
    return h.hexdigest()


_RENDER_IN_SUBPROCESS = """
import sys
sys.path.insert(0, sys.argv[1])
from test_golden import _digest, render
print(_digest(render(sys.argv[2])))
"""


@pytest.mark.parametrize("case", sorted(DEFINITIONS))
def test_rendering_does_not_depend_on_the_hash_seed(case: str) -> None:
    """Set or dict order leaking into the output would differ between these processes."""
    digests = set()
    for seed in ("0", "1", "4242"):
        result = subprocess.run(
            [sys.executable, "-c", _RENDER_IN_SUBPROCESS, str(TESTS), case],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        digests.add(result.stdout.strip())
    assert digests == {_digest(render(case))}
