"""Find what boots an image: the image itself and the generated dispatcher it was built for.

The image names its interface and carries its fingerprint; the dispatcher is
the generated ``<interface>_dispatch.py``. A dispatcher generated from another
version of the definition is refused before anything runs.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

from emulator.errors import EmulatorError
from pvgen.image.read import Image, read_image

DEFAULT_GEN_DIR = Path("build/gen")


def dispatcher_path(image: Image, gen_dir: Path) -> Path:
    return gen_dir / "python" / f"{image.manifest.interface}_dispatch.py"


def load_dispatcher(path: Path, image: Image) -> ModuleType:
    if not path.is_file():
        raise EmulatorError(
            f"{path}: error: no generated dispatcher; run `pvgen gen` for the definition the "
            f"image was built with (interface {image.manifest.interface})"
        )
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
