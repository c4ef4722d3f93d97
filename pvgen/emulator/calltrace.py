"""What a traced run records of each hypercall: its name, its decoded arguments, its answer.

The generated dispatcher decodes a call's words into the arguments its handler gets by
keyword; a traced run's handlers are wrapped in a ``Recording`` that keeps the last call's
name and arguments, so the trace shows the call as the hypercall's definition names it, not
its words. Only traced runs pay for it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pvgen.emulator.console import printable

# The bytes of a buffer argument the trace shows; its length is always shown.
SHOWN_BYTES = 64


class Recording:
    """A partition's handlers, keeping the call each one last served."""

    def __init__(self, handlers: object) -> None:
        self._handlers = handlers
        self.call: tuple[str, Mapping[str, Any]] | None = None

    def __getattr__(self, name: str) -> Callable[..., Any]:
        handler: Callable[..., Any] = getattr(self._handlers, name)

        def recorded(*args: Any, **kwargs: Any) -> Any:
            self.call = (name, kwargs)
            return handler(*args, **kwargs)

        return recorded


def shown(value: object) -> object:
    """An argument as the trace's JSON shows it: bytes as text (escaped, cut at SHOWN_BYTES)
    with their length, a struct's fields by name, numbers as they are."""
    if isinstance(value, bytes):
        text = printable(value[:SHOWN_BYTES].decode("utf-8", "replace"))
        return {"text": text + ("..." if len(value) > SHOWN_BYTES else ""),
                "length": len(value)}
    if isinstance(value, dict):
        return {key: shown(field) for key, field in value.items()}
    return value


def answered(answer: object) -> object:
    """A call's answer as the trace shows it: the result word, or what the call did."""
    if isinstance(answer, int):
        return answer
    return type(answer).__name__.lower()
