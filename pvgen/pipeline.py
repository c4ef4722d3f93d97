"""The interface step every command starts with: load, check the ABI freeze, generate.

`pvgen gen` is this step alone; `pvgen image` runs it first, so an image is
never built against a definition that breaks the lock, nor one whose calls the emulator's
services would fail on (pvgen.catalogue).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pvgen import abi_lock
from pvgen.catalogue import mismatches
from pvgen.definition import load
from pvgen.diagnostics import DefinitionError, diagnostic_at
from pvgen.generate import render_all, write_artifacts
from pvgen.lang_py import dispatcher_fingerprint
from pvgen.model import Interface


@dataclass(frozen=True)
class Generated:
    interface: Interface
    out: Path
    changed: tuple[Path, ...]
    lock_written: Path | None
    notes: tuple[str, ...]  # for the user: what was replaced, what the lock does not record

    @property
    def summary(self) -> str:
        iface = self.interface
        return (
            f"pvgen: {iface.name} v{iface.version} ({iface.fingerprint}): "
            f"{len(iface.hypercalls)} hypercalls, {len(self.changed)} file(s) updated in {self.out}"
        )


def generate(
    definition: Path, out: Path, lock: Path | None = None, update_lock: bool = False
) -> Generated:
    """Load the definition, enforce its lock, and write every generated artifact to out."""
    interface = load(definition)
    unserved = list(mismatches(interface))  # the emulator's dispatcher is one of the outputs
    if unserved:
        raise DefinitionError(diagnostic_at(where, message) for where, message in unserved)
    lock_path = lock or abi_lock.lock_path_for(definition)
    verdict, write_lock = abi_lock.enforce(interface, lock_path, update_lock)
    replaced = _replaced_fingerprint(interface, out)
    changed = tuple(write_artifacts(render_all(interface), out))
    notes = [] if replaced is None else [
        f"{out} held the generated files of another definition of interface {interface.name} "
        f"(fingerprint {replaced}); they are now {definition}'s ({interface.fingerprint})"]
    if write_lock:
        lock_path.write_text(abi_lock.render_lock(interface), encoding="utf-8")
    elif verdict is not None and not verdict.up_to_date:
        missing = ", ".join(verdict.compatible) or "the definition's current ABI"
        pronoun = "them" if len(verdict.compatible) > 1 else "it"
        notes.append(f"{lock_path.name} does not record {missing}; run with --update-lock to "
                     f"record {pronoun}")
    return Generated(interface, out, changed, lock_path if write_lock else None, tuple(notes))


def _replaced_fingerprint(interface: Interface, out: Path) -> str | None:
    """The fingerprint of another definition whose generated files for this interface's
    name are in `out` (writing replaces them), if there are."""
    dispatcher = out / "python" / f"{interface.prefix}_dispatch.py"
    if not dispatcher.is_file():
        return None
    found = dispatcher_fingerprint(dispatcher.read_text(encoding="utf-8", errors="replace"))
    return None if found == interface.fingerprint else found
