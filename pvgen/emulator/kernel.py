"""What a partition's services may ask of the module that runs them, as a type: the
services (pvgen.emulator.services) know the module only through ``Kernel``, so the module
uses the services and not the other way round."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from pvgen.emulator.clock import RunTime
    from pvgen.emulator.contract import Dispatcher
    from pvgen.emulator.partition import Partition
    from pvgen.emulator.ports import ModulePorts
    from pvgen.emulator.trace import Trace
    from pvgen.image.manifest import Manifest


class Kernel(Protocol):
    """What a partition's services (pvgen.emulator.services) may ask of the module."""

    @property
    def manifest(self) -> Manifest: ...
    @property
    def dispatcher(self) -> Dispatcher: ...
    @property
    def trace(self) -> Trace: ...
    @property
    def ports(self) -> ModulePorts: ...  # the module's channels, shared by its partitions
    @property
    def partitions(self) -> Sequence[Partition]: ...
    @property
    def time(self) -> RunTime: ...  # the run's time: time.now()
    def console_write(self, partition: Partition, data: bytes) -> None: ...
    def set_timer(self, partition: Partition, period: int) -> None: ...
    def health_event(self, partition: Partition, error: str, detail: str,
                     resumable: bool) -> None: ...
    def waited(self, partition: Partition) -> bool: ...
