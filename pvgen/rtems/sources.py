"""The RTEMS and newlib sources the harness builds: a checkout, or a source archive.

A source is given on the command line, else by an environment variable
(``PVGEN_RTEMS_SRC``, ``PVGEN_NEWLIB_SRC``). A directory is used where it is (the
harness copies what it changes); an archive (``.tar.xz``, ``.tar.gz``, ``.tar``) is
unpacked once into pvgen's cache, keyed by its digest. Either way the source has an
identity (an archive's digest; a checkout's files' paths, sizes and times), which names
what is built from it, so a changed source is built anew.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tarfile
from dataclasses import dataclass
from pathlib import Path

from pvgen.cache import cache_dir
from pvgen.diagnostics import PvgenError

RTEMS_ENV = "PVGEN_RTEMS_SRC"
NEWLIB_ENV = "PVGEN_NEWLIB_SRC"
# What a checkout's top may hold that is not RTEMS's source: git's data, a waf build.
IGNORED_AT_TOP = frozenset({".git", "build", "config.ini"})
ARCHIVE_SUFFIXES = (".tar.xz", ".txz", ".tar.gz", ".tgz", ".tar.bz2", ".tar")


class SourceError(PvgenError):
    """A source that is not there, or not what it should be."""


@dataclass(frozen=True)
class SourceKind:
    """What a source is: its name for messages, its variable, and files its top must have."""

    name: str
    variable: str
    markers: tuple[str, ...]
    archive: str  # how its source archives are named (a glob pattern)


RTEMS = SourceKind("RTEMS 6", RTEMS_ENV, ("wscript", "cpukit", "spec/build"), "rtems-6*-src.tar.*")
NEWLIB = SourceKind("newlib", NEWLIB_ENV, ("configure", "newlib/libc"), "newlib-*-src.tar.*")


def find(kind: SourceKind, directory: Path) -> Path | None:
    """Where a source is when none is given: its environment variable, else its archive in
    `directory` (the last by name, the newest of a version's); None if neither."""
    given = os.environ.get(kind.variable)
    if given:
        return Path(given)
    return max(directory.glob(kind.archive), default=None)


@dataclass(frozen=True)
class Source:
    kind: SourceKind
    tree: Path  # the top of the source tree
    identity: str  # changes when the source does: an archive's digest, a checkout's commit

    @property
    def tag(self) -> str:
        """A short name for what is built from this source."""
        return hashlib.sha256(self.identity.encode()).hexdigest()[:12]


def locate(kind: SourceKind, given: Path | None) -> Source:
    """The source given, else the one its environment variable names."""
    if given is None:
        value = os.environ.get(kind.variable)
        if not value:
            raise SourceError(
                f"pvgen: error: no {kind.name} source: give a checkout or a source archive "
                f"(or set {kind.variable})")
        given = Path(value)
    if not given.exists():
        raise SourceError(f"pvgen: error: {given}: no such {kind.name} source")
    if given.is_dir():
        return Source(kind, checked(kind, given.resolve()), _checkout_identity(given))
    if not given.name.endswith(ARCHIVE_SUFFIXES):
        raise SourceError(f"pvgen: error: {given}: a {kind.name} source is a directory or a "
                          f"source archive ({', '.join(ARCHIVE_SUFFIXES)})")
    digest = _digest(given)
    return Source(kind, checked(kind, _unpacked(given, digest)), f"archive {digest}")


def checked(kind: SourceKind, tree: Path) -> Path:
    """`tree`, if it has the files a source of `kind` has at its top."""
    missing = [m for m in kind.markers if not (tree / m).exists()]
    if missing:
        raise SourceError(f"pvgen: error: {tree}: not a {kind.name} source tree (no "
                          f"{', '.join(missing)})")
    return tree


def _checkout_identity(tree: Path) -> str:
    """What the checkout holds, as far as a build can tell: every file's path, size and
    modification time (git's data and a waf build of the user's own left out), so that an
    edit anywhere, committed or not, makes a new identity and a new build."""
    digest = hashlib.sha256()
    for directory, subdirectories, files in os.walk(tree):
        if Path(directory) == tree:
            subdirectories[:] = [d for d in subdirectories if d not in IGNORED_AT_TOP]
        subdirectories.sort()
        for name in sorted(files):
            path = Path(directory) / name
            if Path(directory) == tree and (name in IGNORED_AT_TOP or name.startswith(".lock-waf")):
                continue
            stat = path.lstat()
            digest.update(f"{path.relative_to(tree)}\0{stat.st_size}\0{stat.st_mtime_ns}\n"
                          .encode())
    return f"directory {tree.resolve()} {digest.hexdigest()[:16]}"


def _digest(archive: Path) -> str:
    digest = hashlib.sha256()
    with archive.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:16]


def _extract(tar: tarfile.TarFile, target: Path) -> None:
    """Unpack with tarfile's "data" filter (no member outside `target`, no device files);
    a Python before 3.11.4 has no filters, so the members are checked here instead."""
    if hasattr(tarfile, "data_filter"):
        tar.extractall(target, filter="data")
        return
    root = target.resolve()

    def inside(path: Path) -> bool:
        resolved = path.resolve()
        return resolved == root or root in resolved.parents

    for member in tar.getmembers():
        place = root / member.name
        points_to = place.parent / member.linkname if member.issym() else root
        if not (member.isfile() or member.isdir() or member.issym() or member.islnk()) or not (
                inside(place) and inside(points_to)):
            raise tarfile.TarError(f"{member.name}: not a plain file inside the archive's top")
    tar.extractall(target)  # every member checked above


def _unpacked(archive: Path, digest: str) -> Path:
    """The archive's one top directory, unpacked into the cache (once)."""
    target = cache_dir() / "sources" / f"{archive.name.split('.')[0]}-{digest}"
    done = target / ".unpacked"
    if not done.exists():
        shutil.rmtree(target, ignore_errors=True)
        partial = target.with_name(target.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir(parents=True)
        try:
            with tarfile.open(archive) as tar:
                _extract(tar, partial)
        except (tarfile.TarError, OSError) as exc:
            shutil.rmtree(partial, ignore_errors=True)
            raise SourceError(f"pvgen: error: {archive}: cannot unpack it: {exc}") from None
        partial.rename(target)
        done.touch()
    tops = [p for p in target.iterdir() if p.is_dir()]
    if len(tops) != 1:
        raise SourceError(f"pvgen: error: {archive}: expected one top directory, found "
                          f"{len(tops)}")
    return tops[0]
