"""The ABI freeze: a committed record of what has shipped, checked on every gen.

Guests built yesterday must keep working with a hypervisor generated today.
The lock file records every hypercall's number and canonical signature, the
status values, the rejection statuses, the layout of every named type and
every ABI's registers and trap. ``pvgen gen`` compares the definition with it
and refuses an incompatible change (a renumbered call, a changed signature,
type, status value or ABI, a number reused or silently dropped) unless the
interface version is bumped and ``--update-lock`` is given. Compatible
changes (a new call, status code, type or ABI, a fast-path role given to a
call that had none) only need ``--update-lock`` to be recorded.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pvgen.diagnostics import DefinitionError, Diagnostic, PvgenError, diagnostic_at
from pvgen.model import Interface

LOCK_FORMAT = 1
_REQUIRED_KEYS = ("interface", "version", "status", "types", "hypercalls")


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
        "rejects": facts["rejects"],
        "types": facts["types"],
        "abis": {a.name: a.abi_spelling for a in interface.abis},
        "reserved": facts["reserved"],
        "hypercalls": {
            h.name: {"number": h.number, "signature": h.signature} for h in interface.hypercalls
        },
    }


def render_lock(interface: Interface) -> str:
    return json.dumps(lock_document(interface), indent=2, sort_keys=True) + "\n"


@dataclass(frozen=True)
class LockVerdict:
    """What the comparison found: breaking changes, and compatible ones to record."""

    breaking: tuple[tuple[str, str], ...]  # (location key, message)
    compatible: tuple[str, ...]  # what the lock does not record yet, in words
    up_to_date: bool  # the lock file already says exactly this


def read_lock(path: Path) -> dict[str, Any] | None:
    if not path.exists():
        return None
    try:
        document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise PvgenError(f"pvgen: error: {path}: not a valid lock file ({exc})") from None
    if not isinstance(document, dict) or document.get("format") != LOCK_FORMAT:
        raise PvgenError(f"pvgen: error: {path}: unsupported lock file format (expected "
                         f"{LOCK_FORMAT})")
    for key in _REQUIRED_KEYS:
        if key not in document:
            raise PvgenError(f"pvgen: error: {path}: lock file has no '{key}'")
    return document


class _Comparison:
    """Collects the differences between the definition and one lock document."""

    def __init__(self, interface: Interface, lock: dict[str, Any]) -> None:
        self.interface = interface
        self.lock = lock
        self.breaking: list[tuple[str, str]] = []
        self.compatible: list[str] = []

    def run(self) -> LockVerdict:
        self._interface()
        self._status()
        self._rejects()
        self._types()
        self._abis()
        self._reserved()
        self._hypercalls()
        return LockVerdict(
            tuple(self.breaking),
            tuple(self.compatible),
            self.lock == lock_document(self.interface),
        )

    def _interface(self) -> None:
        iface, lock = self.interface, self.lock
        if lock["interface"] != iface.name:
            self.breaking.append(
                ("interface", f"the lock file records interface '{lock['interface']}', "
                 f"not '{iface.name}'")
            )
        if iface.version < int(lock["version"]):
            self.breaking.append(
                ("interface", f"interface version went down from {lock['version']} to "
                 f"{iface.version}")
            )
        elif iface.version > int(lock["version"]):
            self.compatible.append(f"version {iface.version}")

    def _status(self) -> None:
        recorded: dict[str, int] = self.lock["status"]
        for name, value in recorded.items():
            now = self.interface.status.member(name)
            if now is None:
                self.breaking.append(("interface", f"status code {name} ({value}) was removed"))
            elif now.value != value:
                self.breaking.append(
                    (f"status:{name}", f"status code {name} changed value from {value} to "
                     f"{now.value}")
                )
        self.compatible += [
            f"status code {m.name}" for m in self.interface.status.members if m.name not in recorded
        ]

    def _rejects(self) -> None:
        now = {event.value: member.name for event, member in self.interface.rejects.items()}
        for event, status in self.lock.get("rejects", {}).items():
            if now.get(event) != status:
                self.breaking.append(
                    ("interface", f"'reject {event}' changed from {status} to {now.get(event)}")
                )

    def _types(self) -> None:
        recorded: dict[str, str] = self.lock["types"]
        current = {t.name: t.abi_spelling for t in self.interface.types}
        for name, spelling in recorded.items():
            if name in current and current[name] != spelling:
                self.breaking.append(
                    (f"type:{name}", f"type '{name}' changed layout (was {spelling}, now "
                     f"{current[name]})")
                )
            elif name not in current:
                self.compatible.append(f"the removal of type '{name}'")
        self.compatible += [f"type '{name}'" for name in current if name not in recorded]

    def _abis(self) -> None:
        recorded: dict[str, str] = self.lock.get("abis", {})
        current = {a.name: a.abi_spelling for a in self.interface.abis}
        for name, spelling in recorded.items():
            if name not in current:
                self.breaking.append(
                    ("interface", f"ABI '{name}' was removed; guests built for it would trap "
                     "into nothing")
                )
            elif current[name] != spelling:
                self.breaking.append(
                    (f"abi:{name}", f"ABI '{name}' changed (was '{spelling}', now "
                     f"'{current[name]}')")
                )
        self.compatible += [f"ABI '{name}'" for name in current if name not in recorded]

    def _reserved(self) -> None:
        recorded = [tuple(r) for r in self.lock.get("reserved", [])]
        current = [(r.first, r.last) for r in self.interface.reserved]
        self.compatible += [f"reserved {_span(r)}" for r in current if r not in recorded]
        self.compatible += [
            f"the removal of reserved {_span(r)}" for r in recorded if r not in current
        ]

    def _hypercalls(self) -> None:
        iface = self.interface
        recorded: dict[str, dict[str, Any]] = self.lock["hypercalls"]
        numbers_now = {h.number: h for h in iface.hypercalls}
        for name, entry in recorded.items():
            number, signature = entry["number"], entry["signature"]
            call = iface.hypercall(name)
            if call is None:
                reuser = numbers_now.get(number)
                if reuser is not None:
                    self.breaking.append(
                        (f"hypercall:{reuser.name}", f"hypercall number {number} belonged to "
                         f"'{name}'; a number may never be reused for another call")
                    )
                elif not any(number in r for r in iface.reserved):
                    self.breaking.append(
                        ("interface", f"hypercall '{name}' (number {number}) was removed; keep "
                         f"its number retired with 'reserved {number} \"...\";'")
                    )
                continue
            if call.number != number:
                self.breaking.append(
                    (f"hypercall:{name}", f"hypercall '{name}' changed number from {number} "
                     f"to {call.number}")
                )
            if call.fastpath and signature == call.plain_signature:
                # Gaining a fast-path role: guests built before it still trap, and a
                # hypervisor that knows the role serves those traps as before.
                self.compatible.append(f"'fastpath {call.fastpath.value}' of hypercall '{name}'")
            elif call.signature != signature:
                self.breaking.append(
                    (f"hypercall:{name}", f"hypercall '{name}' changed signature (was "
                     f"'{signature}', now '{call.signature}')")
                )
        self.compatible += [
            f"hypercall '{h.name}'" for h in iface.hypercalls if h.name not in recorded
        ]


def _span(numbers: tuple[int, ...]) -> str:
    return "..".join(str(n) for n in dict.fromkeys(numbers))


def compare(interface: Interface, lock: dict[str, Any]) -> LockVerdict:
    """List the differences between the definition and the recorded ABI."""
    return _Comparison(interface, lock).run()


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
            raise DefinitionError(
                _diagnostic(interface, key, f"{message} since {lock_path.name}; {advice}")
                for key, message in verdict.breaking
            )
    return verdict, update and not verdict.up_to_date


def _diagnostic(interface: Interface, key: str, message: str) -> Diagnostic:
    """The message at the item's location, in the file it is in (a profile's item may be in
    the definition it uses)."""
    return diagnostic_at(interface.location_of(key), message)
