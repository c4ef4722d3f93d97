"""Module configurations built in code, for tests of what consumes the configuration model."""

from __future__ import annotations

from pathlib import Path

from pvgen.config import model as c
from pvgen.diagnostics import Location

HERE = Location("<test>", 1, 1)


def port(name: str, kind: c.PortKind, direction: c.PortDirection, size: int = 64) -> c.Port:
    sampling = kind is c.PortKind.SAMPLING
    return c.Port(
        name, kind, direction, size,
        refresh_period_ns=100_000_000 if sampling else None,
        max_nb_messages=None if sampling else 8,
        location=HERE,
    )


def partition(identifier: int, name: str, ports: tuple[c.Port, ...] = ()) -> c.PartitionConfig:
    return c.PartitionConfig(
        identifier=identifier, name=name, memory_size=0x20000, stack_size=0x2000, system=False,
        criticality="LEVEL_A", image=c.GuestImage((Path(f"/src/{name}.c"),), None, "baremetal"),
        ports=ports, hm_actions={c.ErrorCode.MEMORY_VIOLATION: c.PartitionAction.COLD_START},
        timer_period_ns=10_000_000, location=HERE,
    )


def three_partitions() -> c.ModuleConfig:
    """alpha -(sampling)-> beta -(queuing)-> gamma, in 5/5/10 ms windows of a 20 ms frame."""
    S, Q = c.PortKind.SAMPLING, c.PortKind.QUEUING
    SRC, DST = c.PortDirection.SOURCE, c.PortDirection.DESTINATION
    parts = (
        partition(1, "alpha", (port("temp_out", S, SRC),)),
        partition(2, "beta", (port("temp_in", S, DST), port("cmd_out", Q, SRC))),
        partition(3, "gamma", (port("cmd_in", Q, DST),)),
    )
    ms = 1_000_000
    windows = (
        c.Window(1, 1, 0, 5 * ms, True, HERE),
        c.Window(2, 2, 5 * ms, 5 * ms, True, HERE),
        c.Window(3, 3, 10 * ms, 10 * ms, True, HERE),
    )
    channels = (
        c.Channel(1, c.PortRef(1, "temp_out"), (c.PortRef(2, "temp_in"),), HERE),
        c.Channel(2, c.PortRef(2, "cmd_out"), (c.PortRef(3, "cmd_in"),), HERE),
    )
    hm = c.HealthMonitorConfig(
        {c.ErrorCode.POWER_FAIL: c.ErrorLevel.MODULE},
        {c.ErrorCode.POWER_FAIL: c.ModuleAction.SHUTDOWN},
    )
    return c.ModuleConfig("three", Path("/src/module.xml"), parts, c.Schedule(20 * ms, windows),
                    channels, hm, c.ToolchainConfig("x86"))
