"""Where pvgen's commands read and write when not told: one place, so that `pvgen gen`,
`pvgen image`, `pvgen boot` and the emulator's own command agree on it.

What they write goes below the current directory (``build/``). What they read is the
project's own when the current directory is a project (a ``hypercalls.def``, a
``module.xml``: what `pvgen new` makes), then the checkout's example, and else what the
package bundles, so that the commands work from any directory, and say when they fall back.
"""

from __future__ import annotations

import sys
from pathlib import Path

GEN_DIR = Path("build/gen")
BSP_DIR = Path("build/rtems-bsp")
DEFINITION_NAME = "hypercalls.def"
CONFIG_NAMES = (Path("module.xml"), Path("examples/hello/module.xml"))


def definition() -> Path:
    """./hypercalls.def, else the bundled one (said on stderr)."""
    here = Path(DEFINITION_NAME)
    if here.is_file():
        return here
    from pvgen.scaffold import DEFINITION

    print(f"pvgen: note: no {DEFINITION_NAME} here: using the bundled one", file=sys.stderr)
    return DEFINITION


def config() -> Path:
    """./module.xml, else the checkout's examples/hello/module.xml, else the bundled hello
    module (said on stderr)."""
    for candidate in CONFIG_NAMES:
        if candidate.is_file():
            return candidate
    from pvgen.scaffold import EXAMPLES, FIRST_EXAMPLE

    print(f"pvgen: note: no module.xml here: using the bundled '{FIRST_EXAMPLE}' example",
          file=sys.stderr)
    return EXAMPLES / FIRST_EXAMPLE / "module.xml"


def image_for(config: Path) -> Path:
    """build/NAME.img, NAME the directory the module configuration is in (its project's, or
    its example's)."""
    return Path("build") / f"{config.resolve().parent.name}.img"
