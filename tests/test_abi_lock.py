"""The ABI freeze: ``pvgen gen`` refuses silent incompatible changes to a shipped interface.

Every test works on a temporary copy of the repository's hypercalls.def and
drives the real command (``pvgen.cli.main``, and once a real subprocess).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from pvgen import abi_lock
from pvgen.cli import main
from pvgen.definition import load_text
from pvgen.generate import render_all

REAL = (Path(__file__).resolve().parent.parent / "hypercalls.def").read_text(encoding="utf-8")
BUMP = ("interface pv version 1 ", "interface pv version 2 ")


def edit(text: str, *changes: tuple[str, str]) -> str:
    for old, new in changes:
        assert text.count(old) == 1, f"{old!r} must occur once"
        text = text.replace(old, new)
    return text


def position(text: str, needle: str, offset: int = 0) -> tuple[int, int]:
    """Line and column of ``needle`` (plus ``offset`` characters) in ``text``."""
    index = text.index(needle) + offset
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1


@dataclass
class Workspace:
    """A definition, its lock and an output directory in a temporary directory."""

    root: Path

    @property
    def definition(self) -> Path:
        return self.root / "hypercalls.def"

    @property
    def lock(self) -> Path:
        return self.root / "hypercalls.lock.json"

    def write(self, text: str) -> None:
        self.definition.write_text(text, encoding="utf-8")

    def gen(self, capsys: pytest.CaptureFixture[str], *flags: str) -> tuple[int, str, str]:
        """Run ``pvgen gen``; return its exit status, stdout and stderr."""
        status = main(
            ["gen", "--def", str(self.definition), "--out", str(self.root / "out"), *flags]
        )
        captured = capsys.readouterr()
        return status, captured.out, captured.err

    def gen_quietly_succeeds(self, capsys: pytest.CaptureFixture[str]) -> bool:
        """Whether a plain ``pvgen gen`` succeeds with nothing to warn about."""
        status, _, err = self.gen(capsys)
        return status == 0 and err == ""


@pytest.fixture
def ws(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Workspace:
    """A workspace whose lock records the repository's definition."""
    workspace = Workspace(tmp_path)
    workspace.write(REAL)
    status, _, err = workspace.gen(capsys)
    assert status == 0, err
    return workspace


def test_first_gen_writes_the_lock(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    workspace = Workspace(tmp_path)
    workspace.write(REAL)
    assert not workspace.lock.exists()

    status, out, _ = workspace.gen(capsys)

    assert status == 0
    assert f"wrote {workspace.lock}" in out
    assert workspace.lock.read_text() == abi_lock.render_lock(load_text(REAL, "x"))
    recorded = json.loads(workspace.lock.read_text())
    assert recorded["hypercalls"]["console_write"] == {
        "number": 10,
        "signature": "console_write(in buf: u8[len], len: u32) -> status",
    }
    assert set(recorded["abis"]) == {"pok_x86", "regs_x86", "svc_arm", "hvc_arm"}


def test_unchanged_definition_passes_and_leaves_the_lock_alone(
    ws: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    before = ws.lock.read_bytes()

    status, out, err = ws.gen(capsys)

    assert (status, err) == (0, "")
    assert "wrote" not in out
    assert ws.lock.read_bytes() == before


@dataclass(frozen=True)
class Breaking:
    """An incompatible edit, where it must be reported and what must be said."""

    changes: tuple[tuple[str, str], ...]
    anchor: tuple[str, int]  # a needle in the edited text and the offset of the reported token
    message: str


BREAKING = {
    "renumbered call": Breaking(
        (("hypercall console_read = 11 ", "hypercall console_read = 12 "),),
        ("hypercall console_read", len("hypercall ")),
        "hypercall 'console_read' changed number from 11 to 12",
    ),
    "param type": Breaking(
        (('    len: u32 "How many bytes.";', '    len: u16 "How many bytes.";'),),
        ("hypercall console_write", len("hypercall ")),
        "hypercall 'console_write' changed signature (was 'console_write(in buf: u8[len], "
        "len: u32) -> status', now 'console_write(in buf: u8[len], len: u16) -> status')",
    ),
    "param direction": Breaking(
        (('    in msg: u8[len] "A message for', '    inout msg: u8[len] "A message for'),),
        ("hypercall raise_application_error", len("hypercall ")),
        "hypercall 'raise_application_error' changed signature",
    ),
    "param length": Breaking(
        (('in name: u8[nul 32] "The port\'s name in the configuration.";\n    max_size: u32 '
          '"The largest message, as configured.";\n    max_nb_message',
          'in name: u8[nul 30] "The port\'s name in the configuration.";\n    max_size: u32 '
          '"The largest message, as configured.";\n    max_nb_message'),),
        ("hypercall queuing_create", len("hypercall ")),
        "hypercall 'queuing_create' changed signature",
    ),
    "type layout": Breaking(
        (("    lock_level      : u32 ", "    lock_level      : i32 "),),
        ("struct partition_status", len("struct ")),
        "type 'partition_status' changed layout",
    ),
    "status value": Breaking(
        (("    TIMED_OUT       = 6 ", "    TIMED_OUT       = 9 "),),
        ("    TIMED_OUT", 4),
        "status code TIMED_OUT changed value from 6 to 9",
    ),
    "number reused": Breaking(
        (("hypercall idle = 40 ", "hypercall wait_for_event = 40 "),),
        ("hypercall wait_for_event", len("hypercall ")),
        "hypercall number 40 belonged to 'idle'; a number may never be reused for another call",
    ),
    "call removed": Breaking(
        (('hypercall idle = 40 "Give up the processor until the next event for this partition '
          '(replaces hlt)." {\n    feature POK_NEEDS_X86_VMM;\n}\n', ""),),
        ("interface pv", len("interface ")),
        "hypercall 'idle' (number 40) was removed; keep its number retired with "
        "'reserved 40 \"...\";'",
    ),
    "trap vector": Breaking(
        (("    trap int 45;", "    trap int 44;"),),
        ("abi pok_x86", len("abi ")),
        "ABI 'pok_x86' changed",
    ),
    "fastpath role removed": Breaking(
        (("    fastpath enable;\n", ""),),
        ("hypercall irq_enable", len("hypercall ")),
        "hypercall 'irq_enable' changed signature (was 'irq_enable() -> status fastpath enable', "
        "now 'irq_enable() -> status')",
    ),
    "rejection status": Breaking(
        (("reject bad_value     = INVALID_PARAM;", "reject bad_value     = INVALID_CONFIG;"),),
        ("interface pv", len("interface ")),
        "'reject bad_value' changed from INVALID_PARAM to INVALID_CONFIG",
    ),
}


@pytest.mark.parametrize("case", BREAKING.values(), ids=BREAKING.keys())
def test_breaking_change_is_refused_with_a_located_error(
    case: Breaking, ws: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    text = edit(REAL, *case.changes)
    ws.write(text)
    before = ws.lock.read_bytes()
    line, column = position(text, case.anchor[0], case.anchor[1])

    status, _, err = ws.gen(capsys)

    assert status == 2
    assert f"{ws.definition}:{line}:{column}: error: {case.message}" in err
    assert "bump the interface version (now 1) and run with --update-lock" in err
    assert "Traceback" not in err
    assert ws.lock.read_bytes() == before


@pytest.mark.parametrize("case", BREAKING.values(), ids=BREAKING.keys())
def test_breaking_change_needs_both_a_version_bump_and_update_lock(
    case: Breaking, ws: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    before = ws.lock.read_bytes()
    ws.write(edit(REAL, *case.changes))
    status, _, err = ws.gen(capsys, "--update-lock")
    assert status == 2, "--update-lock alone must not accept a breaking change"
    assert case.message in err

    bumped = edit(REAL, BUMP, *case.changes)
    ws.write(bumped)
    status, _, err = ws.gen(capsys)
    assert status == 2, "a version bump alone must not accept a breaking change"
    assert "run with --update-lock to accept it" in err
    assert ws.lock.read_bytes() == before

    status, out, err = ws.gen(capsys, "--update-lock")
    assert status == 0, err
    assert f"wrote {ws.lock}" in out
    assert ws.lock.read_text() == abi_lock.render_lock(load_text(bumped, "x"))
    assert ws.gen_quietly_succeeds(capsys), "the new lock accepts the new definition"


def test_new_call_is_accepted_with_a_note_and_recorded_without_a_bump(
    ws: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    before = ws.lock.read_bytes()
    ws.write(REAL + '\nhypercall get_cpu = 43 "The current CPU." {\n    out cpu: u32;\n}\n')

    status, _, err = ws.gen(capsys)
    assert status == 0
    assert "note: hypercalls.lock.json does not record hypercall 'get_cpu'" in err
    assert ws.lock.read_bytes() == before

    status, out, err = ws.gen(capsys, "--update-lock")
    assert (status, err) == (0, "")
    assert f"wrote {ws.lock}" in out
    recorded = json.loads(ws.lock.read_text())
    assert recorded["version"] == 1
    assert recorded["hypercalls"]["get_cpu"] == {
        "number": 43,
        "signature": "get_cpu(out cpu: u32) -> status",
    }
    assert ws.gen_quietly_succeeds(capsys)


def test_a_fastpath_role_given_to_a_call_is_compatible(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Guests built before the role still trap; the hypervisor serves the trap as before."""
    ws = Workspace(tmp_path)
    ws.write(edit(REAL, ("    fastpath get_level;\n", "")))
    assert ws.gen(capsys)[0] == 0
    before = ws.lock.read_bytes()
    ws.write(REAL)

    status, _, err = ws.gen(capsys)
    assert status == 0, err
    assert "does not record 'fastpath get_level' of hypercall 'irq_get_level'" in err
    assert ws.lock.read_bytes() == before

    status, _, err = ws.gen(capsys, "--update-lock")
    assert (status, err) == (0, "")
    recorded = json.loads(ws.lock.read_text())
    assert recorded["version"] == 1
    assert recorded["hypercalls"]["irq_get_level"]["signature"] == (
        "irq_get_level() -> u32 fastpath get_level"
    )
    assert recorded["hypercalls"]["vcpu_share"]["signature"] == (
        "vcpu_share(shared area: struct vcpu_area) -> status fastpath share"
    )
    assert ws.gen_quietly_succeeds(capsys)


def test_removed_call_with_its_number_reserved_is_compatible(
    ws: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    ws.write(edit(REAL, *BREAKING["call removed"].changes) + 'reserved 40 "Retired: idle.";\n')

    status, _, err = ws.gen(capsys)

    assert status == 0, err
    assert "does not record reserved 40" in err


def _fingerprint(text: str) -> str:
    return load_text(text, "x").fingerprint


@pytest.mark.parametrize("case", BREAKING.values(), ids=BREAKING.keys())
def test_fingerprint_changes_with_the_abi(case: Breaking) -> None:
    assert _fingerprint(edit(REAL, *case.changes)) != _fingerprint(REAL)


@pytest.mark.parametrize(
    "changes",
    [
        (('"Write bytes to the partition\'s console."', '"Write bytes somewhere else."'),),
        (("# Status codes follow", "# Our status codes follow"),),
        (("reserved 50..65 ", "# A comment before a line.\nreserved   50..65 "),),
        (('    OK              = 0 "The call succeeded (ARINC 653 NO_ERROR).";',
          '    OK = 0;'),),
    ],
    ids=["doc", "comment", "layout", "status doc"],
)
def test_fingerprint_ignores_docs_comments_and_layout(
    changes: tuple[tuple[str, str], ...], ws: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    text = edit(REAL, *changes)
    assert _fingerprint(text) == _fingerprint(REAL)
    ws.write(text)
    assert ws.gen_quietly_succeeds(capsys), "a docs-only change needs no lock update"


def test_generated_artifacts_embed_the_fingerprint() -> None:
    interface = load_text(REAL, "hypercalls.def")
    artifacts = render_all(interface)
    assert artifacts
    missing = [str(a.path) for a in artifacts if interface.fingerprint not in a.content]
    assert not missing, f"artifacts without the interface fingerprint: {missing}"


def test_lock_check_through_a_real_process(ws: Workspace) -> None:
    ws.write(edit(REAL, *BREAKING["renumbered call"].changes))

    result = subprocess.run(
        [sys.executable, "-m", "pvgen.cli", "gen", "--def", str(ws.definition),
         "--out", str(ws.root / "out")],
        capture_output=True, text=True, timeout=60, check=False,
    )

    assert result.returncode == 2
    assert "hypercall 'console_read' changed number from 11 to 12" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr


@pytest.mark.parametrize(
    "corrupt",
    [lambda _: "{not json", lambda doc: {**doc, "format": 99},
     lambda doc: {k: v for k, v in doc.items() if k != "hypercalls"}],
    ids=["not json", "unknown format", "missing key"],
)
def test_unreadable_lock_is_an_error_not_a_traceback(
    corrupt: Callable[[dict[str, object]], object],
    ws: Workspace,
    capsys: pytest.CaptureFixture[str],
) -> None:
    document = json.loads(ws.lock.read_text())
    damaged = corrupt(document)
    ws.lock.write_text(damaged if isinstance(damaged, str) else json.dumps(damaged))

    status, _, err = ws.gen(capsys)

    assert status == 2
    assert err.startswith(f"pvgen: error: {ws.lock}: ")
