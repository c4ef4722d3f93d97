"""The guest layers pvgen renders, and the hypercalls each of them calls, by name.

A hypervisor may offer fewer services than hypercalls.def declares: the unmodified POK
kernel has no virtual interrupts and no ARINC port calls shaped like the services'. A
definition for it still gets a runtime, because each layer is rendered only when the
definition declares every call the layer makes:

- the **core** (console, the end of a partition) is always required: no partition runs
  without it;
- the **virtual interrupts** (the runtime's upcalls, interrupt lines and clock, over the
  2013 paravirtualization layer, itself a layer) and the **APEX layer** are left out of a
  runtime whose definition lacks any of their calls. Their headers then say why a program
  that includes them cannot build (an ``#error``, or for the clock the compiler's error
  attribute, naming the missing calls), and the RTEMS BSP, which needs the clock interrupt
  (and ``shutdown`` for its reset), is refused.

Python asks a ``Layer`` which of its calls a definition lacks (``Layer.lacking``); the
templates use the ``layer_lacking`` and ``layer_error`` filters.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pvgen.model import Interface


@dataclass(frozen=True)
class Layer:
    """A part of the guest runtimes and the hypercalls its code calls."""

    name: str
    purpose: str
    calls: tuple[str, ...]

    def lacking(self, iface: Interface) -> list[str]:
        """The calls of this layer the definition does not declare (none: it can be rendered)."""
        return [name for name in self.calls if iface.hypercall(name) is None]


CORE = Layer("core", "the runtime's console and the end of a partition",
             ("console_write", "partition_set_mode", "raise_application_error"))
PARAVIRT_LAYER = Layer(
    "paravirt_layer", "the RTEMS paravirtualization layer (2013 names)",
    ("console_read", "console_write", "get_time", "timer_set_period", "irq_request",
     "irq_detach", "irq_enable", "irq_disable", "irq_get_level", "irq_set_level", "idle",
     "stop"))
VIRTUAL_INTERRUPTS = Layer(
    "virtual_interrupts", "the runtime's virtual interrupts (upcalls, lines, clock)",
    (*PARAVIRT_LAYER.calls, "irq_ack", "irq_mask", "irq_unmask", "irq_flash", "vcpu_register",
     "vcpu_share", "irq_return"))
APEX = Layer(  # pvgen/bsp_templates/shared/apex.*
    "apex", "the ARINC 653 APEX layer",
    ("sampling_create", "sampling_write", "sampling_read", "sampling_port_id",
     "sampling_status", "queuing_create", "queuing_send", "queuing_receive", "queuing_port_id",
     "queuing_status", "partition_get_status", "partition_set_mode", "raise_application_error",
     "get_time"))
# The RTEMS BSP's own: bsp_reset shuts the module down; the i386 port's thread pointer hook
# (pvgen.rtems.port) sets each thread's thread-local storage base.
RTEMS_RESET = Layer("rtems_reset", "the RTEMS BSP's reset", ("shutdown",))
RTEMS_THREAD_POINTER = Layer("rtems_thread_pointer", "the RTEMS BSP's thread-local storage",
                             ("thread_pointer_set",))

LAYERS = {layer.name: layer
          for layer in (CORE, PARAVIRT_LAYER, VIRTUAL_INTERRUPTS, APEX, RTEMS_RESET,
                        RTEMS_THREAD_POINTER)}


def layer_lacking(iface: Interface, layer: str) -> list[str]:
    """Template filter: the calls of the named layer that the definition lacks."""
    return LAYERS[layer].lacking(iface)


def layer_error(iface: Interface, layer: str, artifact: str) -> str:
    """Template filter: the ``#error`` line a file of the named layer is in place of its code
    when the definition lacks some of the layer's calls, naming them."""
    wanted = LAYERS[layer]
    return (f'#error "{artifact}: {wanted.purpose} calls hypercalls that interface '
            f'{iface.name} ({Path(iface.source).name}) lacks: {", ".join(wanted.lacking(iface))}"')


FILTERS: dict[str, Callable[..., Any]] = {"layer_lacking": layer_lacking,
                                          "layer_error": layer_error}
