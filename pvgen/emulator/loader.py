"""Find what boots an image: the image itself and the generated dispatcher it was built for.

The image carries its interface's fingerprint and the text of its definition. With a
generated directory named (``--gen``), the dispatcher is that directory's ``*_dispatch.py``
whose ``FINGERPRINT`` is the image's, found by reading the files' text. Without one, it is
generated from the definition the image carries, by pvgen's own generator, once per
definition into pvgen's cache: the definition is data, checked like any other (and its
fingerprint must be the image's), so an image boots from any directory. An image is
untrusted input: no name it gives becomes a path, and no Python file is imported but the one
that matches.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
from functools import cache
from pathlib import Path

from pvgen import decode_plan, lang_py
from pvgen.cache import cache_dir, locked
from pvgen.defaults import GEN_DIR as DEFAULT_GEN_DIR
from pvgen.diagnostics import DefinitionError
from pvgen.emulator.contract import Dispatcher, dispatcher_of
from pvgen.emulator.errors import EmulatorError
from pvgen.image.container import DEFINITION_SECTION
from pvgen.image.read import Image, read_image
from pvgen.lang_py import dispatcher_fingerprint

MAX_DEFINITION_BYTES = 1 << 20  # a definition of 2000 hypercalls is under 400 KiB


def dispatcher_path(image: Image, gen_dir: Path) -> Path:
    """The generated dispatcher in ``gen_dir/python`` made for the image's fingerprint (16
    hexadecimal digits, which reading the image has checked)."""
    directory = gen_dir / "python"
    candidates = sorted(directory.glob("*_dispatch.py")) if directory.is_dir() else []
    for candidate in candidates:
        text = candidate.read_text(encoding="utf-8", errors="replace")
        if dispatcher_fingerprint(text) == image.fingerprint:
            return candidate
    raise EmulatorError(
        f"pvgen: error: {directory}: no generated dispatcher for interface fingerprint "
        f"{image.fingerprint}; run `pvgen gen` for the definition the image was built with "
        f"(interface {image.manifest.interface})")


def load_dispatcher(path: Path, image: Image) -> Dispatcher:
    spec = importlib.util.spec_from_file_location(f"pvgen_dispatch_{image.fingerprint}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    dispatcher = dispatcher_of(module, path)
    fingerprint = dispatcher.FINGERPRINT
    if fingerprint != image.fingerprint:
        raise EmulatorError(
            f"pvgen: error: {image.path}: the image was built for interface fingerprint "
            f"{image.fingerprint}, but {path} was generated for {fingerprint}; rebuild the image "
            "or regenerate with the definition it was built from"
        )
    if image.manifest.abi not in dispatcher.ABIS:
        raise EmulatorError(f"pvgen: error: {path}: the dispatcher has no ABI "
                            f"'{image.manifest.abi}'")
    return dispatcher


@cache
def _generator_stamp() -> bytes:
    """What writes a dispatcher (its template, its Python speller and the decode plan the
    speller spells): a cached dispatcher of another pvgen is not this one's."""
    templates = Path(lang_py.__file__).parent / "templates" / "python"
    return b"".join(p.read_bytes() for p in (Path(lang_py.__file__), Path(decode_plan.__file__),
                                              *sorted(templates.glob("*.j2"))))


def carried_gen_dir(image: Image) -> Path:
    """A generated directory with the dispatcher of the definition the image carries, in
    pvgen's cache by the definition's own hash (generated the first time): not by the
    fingerprint alone, which leaves out what does not change the ABI (rules, documents), so
    that no image's definition stands in for another's."""
    text_hash = hashlib.sha256(image.definition + _generator_stamp()).hexdigest()[:16]
    directory = cache_dir() / "dispatchers" / f"{image.fingerprint}-{text_hash}"
    with locked(directory):
        if not any((directory / "python").glob("*_dispatch.py")):
            _generate_dispatcher(image, directory)
    return directory


def _generate_dispatcher(image: Image, directory: Path) -> None:
    from pvgen.definition import load_carried
    from pvgen.generate import render_templates, template_names, write_artifacts

    where = f"{image.path}: the definition the image carries"
    if len(image.definition) > MAX_DEFINITION_BYTES:
        raise EmulatorError(f"pvgen: error: {where} is larger than a definition may be "
                            f"({MAX_DEFINITION_BYTES} bytes)")
    try:
        iface = load_carried(image.definition, f"{image.path}:{DEFINITION_SECTION}")
    except (UnicodeDecodeError, DefinitionError) as exc:
        problem = exc.render() if isinstance(exc, DefinitionError) else str(exc)
        raise EmulatorError(f"pvgen: error: {where} does not load: "
                            f"{problem.splitlines()[0]}") from None
    if iface.fingerprint != image.fingerprint:
        raise EmulatorError(f"pvgen: error: {where} has fingerprint {iface.fingerprint}, not the "
                            f"image's {image.fingerprint}: the image is corrupt")
    partial = directory.with_name(f".{directory.name}.{os.getpid()}")
    shutil.rmtree(partial, ignore_errors=True)
    write_artifacts(render_templates(iface, [name for name in template_names()
                                             if name.startswith("python/")]), partial)
    shutil.rmtree(directory, ignore_errors=True)
    partial.rename(directory)  # whole or not at all: a run cut short leaves no half file


def load(image_path: Path, gen_dir: Path | None = None) -> tuple[Image, Dispatcher]:
    """The image and its dispatcher: from `gen_dir` if given, else from the definition the
    image carries (an image without one: from the default generated directory)."""
    image = read_image(image_path)
    if gen_dir is None:
        gen_dir = carried_gen_dir(image) if image.definition else DEFAULT_GEN_DIR
    return image, load_dispatcher(dispatcher_path(image, gen_dir), image)
