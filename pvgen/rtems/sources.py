"""The RTEMS and newlib sources the harness builds: a checkout, or a source archive.

A source is given on the command line, else by an environment variable
(``PVGEN_RTEMS_SRC``, ``PVGEN_NEWLIB_SRC``). A directory is used where it is (the
harness copies what it changes); an archive (``.tar.xz``, ``.tar.gz``, ``.tar``) is
unpacked once into pvgen's cache, keyed by its digest. Either way the source has an
identity, which names what is built from it, so a changed source is built anew.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path

from pvgen.cache import cache_dir
from pvgen.diagnostics import PvgenError

RTEMS_ENV = "PVGEN_RTEMS_SRC"
NEWLIB_ENV = "PVGEN_NEWLIB_SRC"
ARCHIVE_SUFFIXES = (".tar.xz", ".txz", ".tar.gz", ".tgz", ".tar.bz2", ".tar")


class SourceError(PvgenError):
    """A source that is not there, or not what it should be."""

    exit_status = 2


@dataclass(frozen=True)
class Kind:
    """What a source is: its name for messages, its variable, and files its top must have."""

    name: str
    variable: str
    markers: tuple[str, ...]
    archive: str  # how its source archives are named (a glob pattern)


RTEMS = Kind("RTEMS 6", RTEMS_ENV, ("wscript", "cpukit", "spec/build"), "rtems-6*-src.tar.*")
NEWLIB = Kind("newlib", NEWLIB_ENV, ("configure", "newlib/libc"), "newlib-*-src.tar.*")


def find(kind: Kind, directory: Path) -> Path | None:
    """Where a source is when none is given: its environment variable, else its archive in
    `directory` (the first by name); None if neither."""
    given = os.environ.get(kind.variable)
    if given:
        return Path(given)
    return next(iter(sorted(directory.glob(kind.archive))), None)


@dataclass(frozen=True)
class Source:
    kind: Kind
    tree: Path  # the top of the source tree
    identity: str  # changes when the source does: an archive's digest, a checkout's commit

    @property
    def tag(self) -> str:
        """A short name for what is built from this source."""
        return hashlib.sha256(self.identity.encode()).hexdigest()[:12]


def locate(kind: Kind, given: Path | None) -> Source:
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
        return Source(kind, _checked(kind, given.resolve()), _checkout_identity(given))
    if not given.name.endswith(ARCHIVE_SUFFIXES):
        raise SourceError(f"pvgen: error: {given}: a {kind.name} source is a directory or a "
                          f"source archive ({', '.join(ARCHIVE_SUFFIXES)})")
    digest = _digest(given)
    return Source(kind, _checked(kind, _unpacked(given, digest)), f"archive {digest}")


def _checked(kind: Kind, tree: Path) -> Path:
    missing = [m for m in kind.markers if not (tree / m).exists()]
    if missing:
        raise SourceError(f"pvgen: error: {tree}: not a {kind.name} source tree (no "
                          f"{', '.join(missing)})")
    return tree


def _checkout_identity(tree: Path) -> str:
    """A git checkout's commit and whether it has changes; otherwise its path."""
    try:
        head = subprocess.run(["git", "-C", str(tree), "rev-parse", "HEAD"],
                              capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(tree), "status", "--porcelain"],
                               capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return f"directory {tree.resolve()}"
    changes = hashlib.sha256(dirty.encode()).hexdigest()[:12] if dirty else "clean"
    return f"git {head} {changes}"


def _digest(archive: Path) -> str:
    digest = hashlib.sha256()
    with archive.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:16]


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
                tar.extractall(partial, filter="data")
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
