"""The ABI freeze: a committed record of what has shipped, checked on every gen.

Guests built yesterday must keep working with a hypervisor generated today.
The lock file records every hypercall's number and canonical signature, the
status values and the layout of every named type. ``pvgen gen`` compares the
definition with it and refuses an incompatible change (a renumbered call, a
changed signature or type, a number reused or silently dropped) unless the
interface version is bumped and ``--update-lock`` is given. Adding calls is
compatible and only needs ``--update-lock`` to be recorded.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pvgen.diagnostics import DefinitionError, Diagnostic, PvgenError, SourceText
from pvgen.model import Interface

LOCK_FORMAT = 1


def lock_path_for(definition: Path) -> Path:
    """``hypercalls.def`` is frozen by ``hypercalls.lock.json`` beside it."""
    return definition.with_name(definition.stem + ".lock.json")


def lock_document(interface: Interface) -> dict[str, Any]:
    facts = interface.abi_facts
    return {
        "format": LOCK_FORMAT,
        "interface": interface.name,
        "version": interface.version,
        "fingerprint": interface.fingerprint,
        "status": facts["status"],
        "types": facts["types"],
        "reserved": facts["reserved"],
        "hypercalls": {
            h.name: {"number": h.number, "signature": h.signature} for h in interface.hypercalls
        },
    }


def render_lock(interface: Interface) -> str:
    return json.dumps(lock_document(interface), indent=2, sort_keys=True) + "\n"


@dataclass(frozen=True)
class LockVerdict:
    """What the comparison found: breaking changes, and compatible additions."""

    breaking: tuple[tuple[str, str], ...]  # (location key, message)
    added: tuple[str, ...]

    @property
    def up_to_date(self) -> bool:
        return not self.breaking and not self.added


def read_lock(path: Path) -> dict[str, Any] | None:
    if not path.exists():
        return None
    try:
        document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise PvgenError(f"{path}: error: not a valid lock file ({exc})") from None
    if not isinstance(document, dict) or document.get("format") != LOCK_FORMAT:
        raise PvgenError(f"{path}: error: unsupported lock file format (expected {LOCK_FORMAT})")
    for key in ("interface", "version", "status", "types", "hypercalls"):
        if key not in document:
            raise PvgenError(f"{path}: error: lock file has no '{key}'")
    return document


def compare(interface: Interface, lock: dict[str, Any]) -> LockVerdict:
    """List the differences between the definition and the recorded ABI."""
    breaking: list[tuple[str, str]] = []
    if lock["interface"] != interface.name:
        breaking.append(
            ("interface", f"the lock file records interface '{lock['interface']}', "
             f"not '{interface.name}'")
        )
    for name, value in lock["status"].items():
        now = interface.status.member(name)
        if now is None:
            breaking.append(("interface", f"status code {name} ({value}) was removed"))
        elif now.value != value:
            breaking.append(
                ("interface", f"status code {name} changed value from {value} to {now.value}")
            )
    current_types = {t.name: t.abi_spelling for t in interface.types}
    for name, spelling in lock["types"].items():
        if name in current_types and current_types[name] != spelling:
            breaking.append(
                (f"type:{name}", f"type '{name}' changed layout (was {spelling}, now "
                 f"{current_types[name]})")
            )
    numbers_now = {h.number: h for h in interface.hypercalls}
    added = [h.name for h in interface.hypercalls if h.name not in lock["hypercalls"]]
    for name, entry in lock["hypercalls"].items():
        number, signature = entry["number"], entry["signature"]
        call = interface.hypercall(name)
        if call is None:
            reuser = numbers_now.get(number)
            if reuser is not None:
                breaking.append(
                    (f"hypercall:{reuser.name}", f"hypercall number {number} belonged to "
                     f"'{name}'; a number may never be reused for another call")
                )
            elif not any(number in r for r in interface.reserved):
                breaking.append(
                    ("interface", f"hypercall '{name}' (number {number}) was removed; keep "
                     f"its number retired with 'reserved {number} \"...\";'")
                )
            continue
        if call.number != number:
            breaking.append(
                (f"hypercall:{name}", f"hypercall '{name}' changed number from {number} to "
                 f"{call.number}")
            )
        if call.signature != signature:
            breaking.append(
                (f"hypercall:{name}", f"hypercall '{name}' changed signature (was "
                 f"'{signature}', now '{call.signature}')")
            )
    return LockVerdict(tuple(breaking), tuple(added))


def enforce(
    interface: Interface, lock_path: Path, update: bool
) -> tuple[LockVerdict | None, bool]:
    """Check the definition against its lock; return (verdict, whether to write the lock).

    Raises DefinitionError, pointing into the definition, for breaking changes
    that are not allowed.
    """
    lock = read_lock(lock_path)
    if lock is None:
        return None, True
    verdict = compare(interface, lock)
    if verdict.breaking:
        bumped = interface.version > int(lock["version"])
        if not (bumped and update):
            advice = (
                "run with --update-lock to accept it"
                if bumped
                else f"bump the interface version (now {interface.version}) and run with "
                "--update-lock to accept it"
            )
            source = SourceText.read(Path(interface.source))
            raise DefinitionError(
                _diagnostic(source, interface, key, f"{message} since {lock_path.name}; {advice}")
                for key, message in verdict.breaking
            )
    return verdict, update and not verdict.up_to_date


def _diagnostic(source: SourceText, interface: Interface, key: str, message: str) -> Diagnostic:
    return source.diagnostic(interface.location_of(key), message)
