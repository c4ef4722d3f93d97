"""``rtems-bin2c`` as RTEMS 6's build calls it: a file as a C array.

``python -m pvgen.rtems.bin2c [-N NAME] INPUT OUTPUT.c`` writes OUTPUT.c, defining
``const unsigned char NAME[]`` (the file's bytes) and ``const size_t NAME_size``, and
OUTPUT.h, declaring them. NAME defaults to the input's file name with every character
that cannot be in a C identifier made ``_`` (``psxftw01.tar``: ``psxftw01_tar``). RTEMS's
test suites embed their file-system images this way; the RTEMS tools' program of that
name is not needed to build them.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

BYTES_PER_LINE = 12


def c_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", text)


def convert(data: bytes, name: str, source: str) -> tuple[str, str]:
    """The .c and .h texts for `data` as the array `name`."""
    lines = ",\n".join(
        "    " + ", ".join(f"0x{b:02x}" for b in data[i:i + BYTES_PER_LINE])
        for i in range(0, len(data), BYTES_PER_LINE))
    body = f"{{\n{lines}\n}}" if data else "{ 0 }"  # C has no empty arrays
    c_text = (f"/* {source} as a C array, written by pvgen.rtems.bin2c */\n"
              f"#include <stddef.h>\n\n"
              f"const unsigned char {name}[] = {body};\n\n"
              f"const size_t {name}_size = {len(data)};\n")
    guard = f"PVGEN_BIN2C_{name.upper()}_H"
    h_text = (f"/* {source} as a C array, written by pvgen.rtems.bin2c */\n"
              f"#ifndef {guard}\n#define {guard}\n\n#include <stddef.h>\n\n"
              f"extern const unsigned char {name}[];\n"
              f"extern const size_t {name}_size;\n\n#endif\n")
    return c_text, h_text


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    name = None
    if len(args) == 4 and args[0] == "-N":
        name, args = args[1], args[2:]
    if len(args) != 2:
        print("usage: rtems-bin2c [-N NAME] INPUT OUTPUT.c", file=sys.stderr)
        return 2
    source, output = Path(args[0]), Path(args[1])
    try:
        data = source.read_bytes()
    except OSError as exc:
        print(f"rtems-bin2c: error: {source}: {exc.strerror}", file=sys.stderr)
        return 1
    c_text, h_text = convert(data, c_name(name or source.name), source.name)
    base = output.with_suffix("") if output.suffix in (".c", ".h") else output
    base.with_suffix(".c").write_text(c_text, encoding="utf-8")
    base.with_suffix(".h").write_text(h_text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
