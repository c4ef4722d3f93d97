"""Load a hypercall definition: read, parse, apply it over the definition it uses (if it
begins ``use "FILE";``, pvgen.overlay), resolve. The one entry point.

A definition made of several files travels inside an image as all of them (``carried``),
so the image can be booted where none of them is.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

from pvgen import syntax as s
from pvgen.c_names import clashes
from pvgen.diagnostics import DefinitionError, PvgenError, SourceText
from pvgen.model import Interface
from pvgen.overlay import overlaid
from pvgen.parse import parse_text
from pvgen.resolve import resolve

# How many definitions may stand below one through `use`: a profile of a profile is
# plenty; a loop is refused before this.
MAX_USE_DEPTH = 8
# The mark of a carried definition made of several files (one file is carried as its text).
_CARRIED_FORMAT = "pvgen-definition-files"

Reader = Callable[[str], SourceText]  # a used file, by its name (its path, normalised)


def load_text(text: str, name: str = "<definition>") -> Interface:
    """Build the model of a definition given as text; raise DefinitionError."""
    return _load(SourceText(text, name), _read_file)


def load(path: Path) -> Interface:
    """Build the model of a definition file; raise DefinitionError or PvgenError."""
    return _load(SourceText.read(path), _read_file)


def files(path: Path) -> dict[str, str]:
    """The texts a definition is made of, by name: its own first, then each it uses."""
    source = SourceText.read(path)
    _items(source, _read_file)
    return {source.name: source.text, **{n: c.text for n, c in source.companions.items()}}


def carried(path: Path) -> bytes:
    """What an image carries of its definition: the file's text, or, for a definition that
    uses others, all of their texts."""
    texts = files(path)
    if len(texts) == 1:
        return next(iter(texts.values())).encode("utf-8")
    main = next(iter(texts))
    return json.dumps({"format": _CARRIED_FORMAT, "main": main, "files": texts},
                      sort_keys=True).encode("utf-8")


def load_carried(data: bytes, where: str) -> Interface:
    """The model of a definition an image carries (``carried``); `where` names it in
    messages. A `use` reads only among the files the image carries, never the disk. Raise
    DefinitionError, or UnicodeDecodeError for bytes that are not text."""
    text = data.decode("utf-8")
    try:
        bundle = json.loads(text) if text.lstrip().startswith("{") else None
    except ValueError:
        bundle = None
    if not (isinstance(bundle, dict) and bundle.get("format") == _CARRIED_FORMAT):
        bundle = {"format": _CARRIED_FORMAT, "main": where, "files": {where: text}}
    texts = bundle.get("files")
    main = bundle.get("main")
    if not isinstance(texts, dict) or not isinstance(main, str) or main not in texts \
            or not all(isinstance(v, str) for v in texts.values()):
        whole = SourceText(text, where)
        raise whole.error(whole.location(1, 1), "a carried definition without its files")

    def read(name: str) -> SourceText:
        """Only what the image carries: an image is untrusted, and its definition reads no
        file of the machine that boots it."""
        if name not in texts:
            raise PvgenError(f"pvgen: error: {where}: not among the files the image carries")
        return SourceText(texts[name], name)

    return _load(SourceText(texts[main], main), read)


def _read_file(name: str) -> SourceText:
    return SourceText.read(Path(name))


def _load(source: SourceText, read: Reader) -> Interface:
    """Parse (with what it uses), resolve, and refuse names that would clash in the
    generated C (the one check that needs the C spelling, so it runs on the finished
    model)."""
    interface = resolve(_items(source, read), source)
    problems = clashes(interface)
    if problems:
        raise DefinitionError(source.diagnostic(where, message) for where, message in problems)
    return interface


def _items(source: SourceText, read: Reader, using: tuple[str, ...] = ()) -> list[s.Item]:
    """The definition's items: its own, or, if it uses another, that one's with its own
    over them. The used files join `source`'s companions, for diagnostics."""
    items = parse_text(source)
    use = next((i for i in items if isinstance(i, s.UseDecl)), None)
    if use is None:
        return items
    name = os.path.normpath(os.path.join(os.path.dirname(source.name), use.path))
    chain = (*using, source.name)
    if name in chain or len(chain) > MAX_USE_DEPTH:
        why = "it uses itself" if name in chain else f"more than {MAX_USE_DEPTH} deep"
        raise source.error(use.location, f"cannot use '{use.path}': {why} "
                           f"({' -> '.join((*chain, name))})")
    try:
        used = read(name)
    except PvgenError as exc:
        raise source.error(use.location, f"cannot use '{use.path}': "
                           f"{str(exc).rsplit(': ', 1)[-1]}") from None
    base = _items(used, read, chain)
    source.companions.update({name: used, **used.companions})
    merged, problems = overlaid(base, items, source)
    if problems:
        raise DefinitionError(problems)
    return merged
