"""Where POK's sources come from, and the private tree each harness run builds in.

POK is found as ``--pok DIR`` or ``POK_SRC`` (a checkout), else as the snapshot
``shared/pok/pok.bundle`` beside the project's checkout (a git bundle, cloned once into
pvgen's cache). POK's make rules write their objects into the tree and do not rebuild
them for another system, so the harness never builds in the given tree: each run copies
it (about 11 MB) into its own work directory, runs ``make configure`` there once, and
cleans the kernel before every system, as POK's own testsuite does. A definition with a
kernel side of its own gets it in the copy (``pvgen pok-patch``).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

from pvgen.cache import cache_dir, locked
from pvgen.model import Interface
from pvgen.pok.errors import PokBuildError, PokError
from pvgen.pok.patch import needs_kernel_side, patch_tree

ENVIRONMENT = "POK_SRC"
BUNDLE = Path("shared") / "pok" / "pok.bundle"
# What building and booting a POK system here needs, by tool, and its Debian package
# (POK's own CI installs more, for its other tools: see the README).
TOOLS = {"qemu-system-i386": "qemu-system-x86", "make": "make", "perl": "perl", "bc": "bc",
         "gcc": "gcc"}


def locate(given: Path | None, project: Path) -> Path:
    """The POK source to use: `given`, else $POK_SRC, else the bundle beside `project`."""
    if given is None and os.environ.get(ENVIRONMENT):
        given = Path(os.environ[ENVIRONMENT])
    if given is not None:
        if not (given / "kernel").is_dir() or not (given / "misc" / "mk").is_dir():
            raise PokError(f"pvgen: error: {given}: not a POK checkout (no kernel/ and misc/mk/)")
        return given
    bundle = project.resolve().parent / BUNDLE
    if not bundle.is_file():
        raise PokError(f"pvgen: error: no POK tree: set {ENVIRONMENT} to a POK checkout, pass "
                       f"--pok DIR, or "
                       f"put pok.bundle in {bundle.parent}")
    return _cloned(bundle)


def _cloned(bundle: Path) -> Path:
    """The bundle's tree, cloned once into the cache (keyed by the bundle's content)."""
    if shutil.which("git") is None:
        raise PokError(f"pvgen: error: {bundle}: no git to clone it with (Debian: apt-get "
                       f"install git)")
    digest = hashlib.sha256(bundle.read_bytes()).hexdigest()[:16]
    tree = cache_dir() / "pok" / f"pok-{digest}"
    with locked(tree):
        if not (tree / "kernel").is_dir():
            shutil.rmtree(tree, ignore_errors=True)
            subprocess.run(["git", "clone", "-q", str(bundle), str(tree)], check=True)
    return tree


def missing_packages() -> list[str]:
    """The Debian packages building and booting POK systems need that this machine lacks."""
    absent = [package for tool, package in TOOLS.items() if shutil.which(tool) is None]
    if "gcc" not in absent:
        libgcc = subprocess.run(["gcc", "-m32", "-print-libgcc-file-name"], capture_output=True,
                                text=True, check=False).stdout.strip()
        if not Path(libgcc).is_file():
            absent.append("gcc-multilib")  # POK's kernel is built with gcc -m32
    return sorted(absent)


def work_tree(source: Path, work: Path, iface: Interface | None = None) -> Path:
    """A configured copy of `source` in `work`, for this run's builds alone, with the kernel
    side of `iface` if the definition has one (``pvgen.pok.patch``)."""
    tree = work / "pok"
    if any(c.isspace() for c in str(tree.resolve())):
        raise PokError(f"pvgen: error: {work}: POK's make rules cannot build in a path with white "
                       "space; choose a work directory without any")
    missing = missing_packages()
    if missing:
        raise PokError(f"pvgen: error: POK's build needs Debian's {' '.join(missing)} "
                       f"(apt-get install {' '.join(missing)})")
    shutil.rmtree(tree, ignore_errors=True)
    shutil.copytree(source, tree, ignore=shutil.ignore_patterns(".git"), symlinks=True)
    done = subprocess.run(["make", "configure"], cwd=tree, capture_output=True, text=True,
                          check=False)
    if done.returncode != 0:
        raise PokBuildError(f"pvgen: error: {tree}: POK's make configure "
                       f"failed:\n{done.stdout}{done.stderr}")
    if iface is not None and needs_kernel_side(iface):
        patch_tree(tree, iface)
    return tree
