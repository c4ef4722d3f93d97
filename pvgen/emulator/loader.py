"""Find what boots an image: the image itself and the generated dispatcher it was built for.

The image carries its interface's fingerprint; the dispatcher is the generated
``*_dispatch.py`` of the chosen directory whose ``FINGERPRINT`` is that one, found by
reading the files' text. An image is untrusted input: no name it gives becomes a path,
and no Python file is imported but the one that matches.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

from pvgen.defaults import GEN_DIR as DEFAULT_GEN_DIR
from pvgen.emulator.errors import EmulatorError
from pvgen.image.read import Image, read_image


def dispatcher_path(image: Image, gen_dir: Path) -> Path:
    """The generated dispatcher in ``gen_dir/python`` made for the image's fingerprint (16
    hexadecimal digits, which reading the image has checked)."""
    directory = gen_dir / "python"
    line = f"\nFINGERPRINT = '{image.fingerprint}'\n"
    candidates = sorted(directory.glob("*_dispatch.py")) if directory.is_dir() else []
    for candidate in candidates:
        if line in candidate.read_text(encoding="utf-8", errors="replace"):
            return candidate
    raise EmulatorError(
        f"{directory}: error: no generated dispatcher for interface fingerprint "
        f"{image.fingerprint}; run `pvgen gen` for the definition the image was built with "
        f"(interface {image.manifest.interface})")


def load_dispatcher(path: Path, image: Image) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"pvgen_dispatch_{image.fingerprint}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    fingerprint = getattr(module, "FINGERPRINT", None)
    if fingerprint != image.fingerprint:
        raise EmulatorError(
            f"{image.path}: error: the image was built for interface fingerprint "
            f"{image.fingerprint}, but {path} was generated for {fingerprint}; rebuild the image "
            "or regenerate with the definition it was built from"
        )
    if image.manifest.abi not in module.ABIS:
        raise EmulatorError(f"{path}: error: the dispatcher has no ABI '{image.manifest.abi}'")
    return module


def load(image_path: Path, gen_dir: Path = DEFAULT_GEN_DIR) -> tuple[Image, ModuleType]:
    image = read_image(image_path)
    return image, load_dispatcher(dispatcher_path(image, gen_dir), image)
