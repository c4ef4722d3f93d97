"""Whether an image is up to date: nothing it was built from has changed since.

``pvgen image`` records, beside the image (``NAME.build/image.json``), what it read (the
configuration, the definition and its lock, the guests' sources and every header the
compiler read, prebuilt ELFs, the kernel), by content hash; what it wrote, by size and
time; the options, the environment variables and the compiler it built with, and pvgen's
own files. When all of it is as recorded, the image is what a build would make again,
and the command says so and shows its summary from the record, in the time it takes to
read a few files: nothing heavier than the standard library is imported for it.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

from pvgen.image.steps import file_hash
from pvgen.image.toolchain import compiler_identity

RECORD_NAME = "image.json"
_RECORD_FORMAT = 1
_PACKAGE = Path(__file__).resolve().parent.parent
# The environment a guest build reads (pvgen.image.toolchain, pvgen.image.guests).
ENVIRONMENT = ("PVGEN_CC", "PVGEN_CFLAGS", "PATH")


@dataclass(frozen=True)
class ImageRequest:
    """What `pvgen image` was asked to build."""

    config: Path
    out: Path
    definition: Path
    gen_dir: Path
    kernel: Path | None
    arch: str | None

    def key(self) -> dict[str, str | None]:
        return {k: (str(Path(v).resolve()) if isinstance(v, Path) else v)
                for k, v in asdict(self).items()}

    @property
    def record_path(self) -> Path:
        return self.out.parent / f"{self.out.stem}.build" / RECORD_NAME


@dataclass(frozen=True)
class ImageReport:
    """What the command tells of a build, kept to be told again when nothing changed."""

    interface: str  # pvgen.pipeline.Generated.summary
    notes: tuple[str, ...]
    warnings: dict[str, str]
    pok_note: str | None
    pok_dir: str
    kernel: str | None
    manifest: str  # the image's summary, as `pvgen inspect` shows it


def tool_stamp() -> str:
    """pvgen's own files, by name, size and time: another pvgen builds again."""
    digest = hashlib.sha256()
    for directory, subdirectories, files in os.walk(_PACKAGE):
        subdirectories[:] = sorted(d for d in subdirectories if d != "__pycache__")
        for name in sorted(files):
            found = os.stat(os.path.join(directory, name))
            digest.update(f"{directory}/{name}:{found.st_size}:{found.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def _written(path: Path) -> str | None:
    try:
        found = path.stat()
    except OSError:
        return None
    return f"{found.st_size}:{found.st_mtime_ns}"


def _files_below(directory: Path) -> list[Path]:
    return sorted(p for p in directory.rglob("*") if p.is_file()) if directory.is_dir() else []


def _state(request: ImageRequest, compiler: tuple[str, ...]) -> dict[str, object]:
    """What a build depends on beyond the files it reads; the compiler as it is now."""
    return {"format": _RECORD_FORMAT, "request": request.key(), "tool": tool_stamp(),
            "environment": {name: os.environ.get(name) for name in ENVIRONMENT},
            "compiler": compiler_identity(compiler) if compiler else None}


def current_report(request: ImageRequest) -> ImageReport | None:
    """The recorded report, if the image is up to date; None if it must be built."""
    try:
        recorded = json.loads(request.record_path.read_text(encoding="utf-8"))
        report = ImageReport(**{**recorded["report"], "notes": tuple(recorded["report"]["notes"])})
        read, written = dict(recorded["read"]), dict(recorded["written"])
        command = tuple(str(word) for word in recorded["compiler_command"] or ())
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if any(recorded.get(k) != v for k, v in _state(request, command).items()):
        return None
    if any(_written(Path(p)) != stamp for p, stamp in written.items()):
        return None
    if any(file_hash(Path(p)) != digest for p, digest in read.items()):
        return None
    return report


def remember(request: ImageRequest, report: ImageReport, read: Iterable[Path],
             written: Iterable[Path], compiler: tuple[str, ...]) -> None:
    """Record a build that has just succeeded; its outputs are `written` and every file
    below the generated directory and the POK system directory."""
    written = [*written, *_files_below(request.gen_dir), *_files_below(Path(report.pok_dir))]
    record = {
        **_state(request, compiler),
        "compiler_command": list(compiler),
        "read": {str(p): file_hash(p) for p in sorted(set(read))},
        "written": {str(p): _written(p) for p in sorted(set(written))},
        "report": asdict(report),
    }
    path = request.record_path
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    partial.write_text(json.dumps(record, indent=1, sort_keys=True), encoding="utf-8")
    os.replace(partial, path)


def forget(request: ImageRequest) -> None:
    """A build is starting: until it succeeds, the image is not up to date."""
    request.record_path.unlink(missing_ok=True)
