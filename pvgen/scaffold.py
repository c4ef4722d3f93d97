"""What the package bundles for a project of one's own: the interface definition and the
example modules, and `pvgen new` / `pvgen examples`, which copy them into a directory.

An installed pvgen has no checkout beside it: the bundled `hypercalls.def` (with its ABI
lock) and the examples are package data, found here and nowhere else. A copy is a project
that stands alone: its module's paths are relative to it, and the XSD reference its editor
follows points at the installed schema.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from pvgen.diagnostics import InputError

PACKAGE = Path(__file__).resolve().parent
DEFINITION = PACKAGE / "hypercalls.def"
LOCK = PACKAGE / "hypercalls.lock.json"
EXAMPLES = PACKAGE / "examples"
SCHEMA = PACKAGE / "config" / "module.xsd"
FIRST_EXAMPLE = "hello"  # what `pvgen new` starts from: one partition, its module.xml
_SCHEMA_LOCATION = re.compile(r'xsi:noNamespaceSchemaLocation="[^"]*"')


def examples() -> dict[str, str]:
    """Each bundled example module by name, with the first line of its description."""
    found = {}
    for module in sorted(EXAMPLES.glob("*/module.xml")):
        comment = re.search(r"<!--\s*(.+?)\n", module.read_text(encoding="utf-8"))
        found[module.parent.name] = comment[1].strip() if comment else ""
    return found


def copy_example(name: str, directory: Path) -> list[Path]:
    """Copy the example `name` and the bundled definition into `directory` (new, or empty);
    the files written."""
    source = EXAMPLES / name
    if not (source / "module.xml").is_file():
        raise InputError(Path(name), f"no such bundled example (there are: "
                         f"{', '.join(examples())})")
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise InputError(directory, "exists and is not an empty directory; name a new one")
    directory.mkdir(parents=True, exist_ok=True)
    written = [directory / "hypercalls.def", directory / "hypercalls.lock.json"]
    shutil.copyfile(DEFINITION, written[0])
    shutil.copyfile(LOCK, written[1])
    for file in sorted(source.iterdir()):
        target = directory / file.name
        if file.name == "module.xml":
            text = _SCHEMA_LOCATION.sub(f'xsi:noNamespaceSchemaLocation="{SCHEMA.as_uri()}"',
                                        file.read_text(encoding="utf-8"))
            target.write_text(text, encoding="utf-8")
        else:
            shutil.copyfile(file, target)
        written.append(target)
    return written
