"""The generated Python dispatcher as the tests use it: rendered, imported, driven.

``load_dispatcher`` renders the real template for a definition and imports the
result from its file. ``GuestBytes`` is a real guest memory over a buffer that
fails the test on any access outside the partition, and ``Recorder`` is a
handler set that records every call and rejection and answers as scripted.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from pvgen import model as m
from pvgen.generate import render_all

TEMPLATE = "python/{prefix}_dispatch.py.j2"

# What a recording handler returns as its result word unless told otherwise.
RESULT = 0x600D


def render_dispatcher(iface: m.Interface, directory: Path) -> Path:
    """Render the dispatcher template for ``iface`` into ``directory``; return the file."""
    artifact = next(a for a in render_all(iface) if a.template == TEMPLATE)
    path = directory / artifact.path.name
    path.write_text(artifact.content, encoding="utf-8")
    return path


def load_dispatcher(iface: m.Interface, directory: Path) -> ModuleType:
    """Render the dispatcher for ``iface`` into ``directory`` and import it from there."""
    path = render_dispatcher(iface, directory)
    spec = importlib.util.spec_from_file_location(f"{path.stem}_{abs(hash(directory))}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # not in sys.modules: the file stands alone
    return module


class GuestBytes:
    """A partition of ``size`` bytes at the start of ``buffer``.

    Any read or write outside ``[0, size)`` raises AssertionError: a dispatcher
    that passed its checks must never go there.
    """

    def __init__(self, buffer: bytearray | memoryview, size: int | None = None) -> None:
        self.buffer = buffer
        self.size = len(buffer) if size is None else size
        self.writes: list[tuple[int, bytes]] = []

    def _inside(self, addr: int, n: int) -> None:
        if addr < 0 or n < 0 or addr + n > self.size:
            raise AssertionError(f"access to [{addr:#x}, +{n:#x}) outside [0, {self.size:#x})")

    def read(self, addr: int, n: int) -> bytes:
        self._inside(addr, n)
        return bytes(self.buffer[addr : addr + n])

    def write(self, addr: int, data: bytes) -> None:
        self._inside(addr, len(data))
        self.buffer[addr : addr + len(data)] = data
        self.writes.append((addr, bytes(data)))


def default_reply(call: m.Hypercall) -> object:
    """RESULT, with None (leave the guest's memory alone) for every out value."""
    if call.noreturn:
        return None
    if not call.out_params:
        return RESULT
    return (RESULT, *(None for _ in call.out_params))


def zero_value(p: m.Param) -> object:
    """A valid out value of all zeros: empty bytes for a buffer."""
    assert p.length is not None
    if p.length.kind is not m.LengthKind.ONE:
        return b""
    return _zero(p.type)


def _zero(t: m.Type) -> object:
    r = t.resolved
    return {f.name: _zero(f.type) for f in r.fields} if isinstance(r, m.Struct) else 0


def zero_reply(call: m.Hypercall) -> object:
    """RESULT with a valid all-zero value for every out parameter, so that all are written."""
    if call.noreturn:
        return None
    if not call.out_params:
        return RESULT
    return (RESULT, *(zero_value(p) for p in call.out_params))


class Recorder:
    """Handlers that record each call and rejection; ``replies`` overrides what they return.

    A reply may be a value or a function of the call's arguments.
    """

    def __init__(
        self,
        iface: m.Interface,
        replies: dict[str, object] | None = None,
        reply: Callable[[m.Hypercall], object] = default_reply,
    ) -> None:
        self.calls: list[tuple[str, tuple[Any, ...]]] = []
        self.rejections: list[tuple[int, Any]] = []
        self._by_name = {h.name: h for h in iface.hypercalls}
        self._given = {h.name: tuple("self_" if p.name == "self" else p.name
                                     for p in h.params if p.direction is not m.Direction.OUT)
                       for h in iface.hypercalls}
        self._replies = replies or {}
        self._reply = reply

    def hypercall_rejected(self, number: int, event: Any) -> None:
        self.rejections.append((number, event))

    def __getattr__(self, name: str) -> Callable[..., object]:
        call = self.__dict__["_by_name"].get(name)
        if call is None:
            raise AttributeError(name)

        def handler(**kwargs: Any) -> object:
            # the dispatcher binds by keyword: exactly the definition's names, in its order
            assert tuple(kwargs) == self._given[name], (name, tuple(kwargs))
            args = tuple(kwargs.values())
            self.calls.append((name, args))
            reply = self._replies.get(name, self._reply(call))
            return reply(*args) if callable(reply) else reply

        return handler
