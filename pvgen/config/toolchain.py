"""pvgen's <Toolchain> extension: the architecture guests are built for, and the compiler."""

from __future__ import annotations

from pvgen.arch import ARCHITECTURES
from pvgen.config.model import ToolchainConfig
from pvgen.config.problems import Problems
from pvgen.config.values import token
from pvgen.config.xmltree import XmlElement

DEFAULT_ARCH = "x86"


def read_toolchain(element: XmlElement | None, problems: Problems) -> ToolchainConfig:
    """The toolchain (all defaults without a <Toolchain>); Arch must be one pvgen.arch knows."""
    if element is None:
        return ToolchainConfig(arch=DEFAULT_ARCH)
    arch = element.get("Arch", DEFAULT_ARCH)
    if arch not in ARCHITECTURES:
        known = ", ".join(sorted(ARCHITECTURES))
        problems.at(element, f"unknown architecture (pvgen knows {known})", "Arch")
    compiler = element.get("Compiler")
    return ToolchainConfig(
        arch=arch,
        cc=None if compiler is None else token(compiler),
        cross_prefix=element.get("CrossPrefix", ""),
    )
