"""Good module configurations load into the model that the later stages read.

The examples are loaded from copies given stand-in programs (their C sources
are written elsewhere and need not exist for these tests); smaller
configurations are written into tmp_path.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from importlib import resources
from pathlib import Path

import pytest

from pvgen.config import load_module
from pvgen.config.errors import ConfigError
from pvgen.config.model import (
    ErrorCode,
    ErrorLevel,
    ModuleAction,
    ModuleConfig,
    PartitionAction,
    PortDirection,
    PortKind,
    PortRef,
    ToolchainConfig,
)
from pvgen.config.values import format_seconds, nanoseconds

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
XS = "{http://www.w3.org/2001/XMLSchema}"
MS = 1_000_000


def load_example(name: str, programs: tuple[str, ...], tmp_path: Path) -> ModuleConfig:
    copy = tmp_path / name
    shutil.copytree(EXAMPLES / name, copy)
    for program in programs:
        (copy / program).touch()
    return load_module(copy / "module.xml")


def module(
    tmp_path: Path,
    partitions: str,
    memory: str,
    schedule: str,
    extra: str = "",
    toolchain: str = "",
    programs: tuple[str, ...] = ("p.c",),
) -> ModuleConfig:
    """Load a configuration assembled from its parts, with empty stand-in programs."""
    for program in programs:
        (tmp_path / program).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / program).touch()
    path = tmp_path / "module.xml"
    path.write_text(
        f'<ARINC_653_Module ModuleName="test">\n{toolchain}{partitions}{memory}'
        f"{schedule}{extra}</ARINC_653_Module>\n",
        encoding="utf-8",
    )
    return load_module(path)


def partition(identifier: int, name: str, guest: str = '<Guest Sources="p.c"/>',
              attributes: str = "", ports: str = "") -> str:
    return (
        f'<Partition PartitionIdentifier="{identifier}" PartitionName="{name}"{attributes}>'
        f"{guest}{ports}</Partition>\n"
    )


def memory(identifier: int, *sizes: int) -> str:
    requirements = "".join(f'<Memory_Requirements Type="DATA" SizeBytes="{s}"/>' for s in sizes)
    return (
        f'<Partition_Memory PartitionIdentifier="{identifier}">{requirements}'
        "</Partition_Memory>\n"
    )


def schedule(major: str, *partition_schedules: str) -> str:
    return f'<Module_Schedule MajorFrameSeconds="{major}">{"".join(partition_schedules)}' \
        "</Module_Schedule>\n"


def partition_schedule(identifier: int, *windows: str, attributes: str = "") -> str:
    return (
        f'<Partition_Schedule PartitionIdentifier="{identifier}"{attributes}>{"".join(windows)}'
        "</Partition_Schedule>"
    )


def window(identifier: int, start: str, duration: str, attributes: str = "") -> str:
    return (
        f'<Window_Schedule WindowIdentifier="{identifier}" WindowStartSeconds="{start}" '
        f'WindowDurationSeconds="{duration}"{attributes}/>'
    )


def solo(tmp_path: Path, **changes: str) -> ModuleConfig:
    """One partition with everything else left to its default."""
    parts = {
        "partitions": partition(7, "solo"),
        "memory": memory(7, 16384),
        "schedule": schedule("1", partition_schedule(7, window(1, "0", "1"))),
    }
    parts.update(changes)
    return module(tmp_path, **parts)


# -- the examples -------------------------------------------------------------------


def test_hello_example(tmp_path: Path) -> None:
    hello = load_example("hello", ("hello.c",), tmp_path)

    assert hello.name == "hello"
    assert hello.source == tmp_path / "hello" / "module.xml"
    [p] = hello.partitions
    assert (p.identifier, p.name, p.memory_size, p.stack_size) == (1, "hello", 128 * 1024, 8192)
    assert p.image.sources == (tmp_path / "hello" / "hello.c",)
    assert (p.image.elf, p.image.runtime) == (None, "baremetal")
    assert (p.ports, p.hm_actions, p.timer_period_ns, p.system) == ((), {}, None, False)
    assert hello.schedule.major_frame_ns == 20 * MS
    [w] = hello.schedule.windows
    assert (w.identifier, w.partition, w.start_ns, w.duration_ns, w.period_start) == (
        1, 1, 0, 20 * MS, True,
    )
    assert hello.channels == ()
    assert hello.toolchain == ToolchainConfig(arch="x86")


def test_multi_example(tmp_path: Path) -> None:
    multi = load_example("multi", ("alpha.c", "beta.c", "gamma.c"), tmp_path)

    assert [(p.identifier, p.name) for p in multi.partitions] == [
        (1, "alpha"), (2, "beta"), (3, "gamma"),
    ]
    assert [p.criticality for p in multi.partitions] == ["LEVEL_B", "LEVEL_C", "LEVEL_E"]
    assert all(p.memory_size == 128 * 1024 for p in multi.partitions)
    alpha, beta, gamma = multi.partitions
    assert alpha.timer_period_ns == 1 * MS
    assert [(w.partition, w.start_ns, w.duration_ns) for w in multi.schedule.windows] == [
        (1, 0, 5 * MS), (2, 5 * MS, 5 * MS), (3, 10 * MS, 10 * MS),
    ]
    sample_out, sample_in = alpha.port("temperature_out"), beta.port("temperature_in")
    assert sample_out is not None and sample_in is not None
    assert (sample_out.kind, sample_out.direction, sample_out.refresh_period_ns) == (
        PortKind.SAMPLING, PortDirection.SOURCE, 20 * MS,
    )
    assert (sample_in.direction, sample_in.refresh_period_ns, sample_in.max_nb_messages) == (
        PortDirection.DESTINATION, 40 * MS, None,
    )
    report_in = gamma.port("reports_in")
    assert report_in is not None
    assert (report_in.kind, report_in.max_message_size, report_in.max_nb_messages) == (
        PortKind.QUEUING, 32, 4,
    )
    assert [(c.identifier, c.source, c.destinations) for c in multi.channels] == [
        (1, PortRef(1, "temperature_out"), (PortRef(2, "temperature_in"),)),
        (2, PortRef(2, "reports_out"), (PortRef(3, "reports_in"),)),
    ]
    monitor = multi.health_monitor
    assert monitor.level(ErrorCode.POWER_FAIL) is ErrorLevel.MODULE
    assert monitor.level(ErrorCode.NUMERIC_ERROR) is ErrorLevel.PARTITION  # not listed
    assert monitor.module_actions == {
        ErrorCode.HARDWARE_FAULT: ModuleAction.RESET,
        ErrorCode.POWER_FAIL: ModuleAction.SHUTDOWN,
    }
    assert gamma.hm_actions == {
        ErrorCode.MEMORY_VIOLATION: PartitionAction.IDLE,
        ErrorCode.ILLEGAL_REQUEST: PartitionAction.IDLE,
    }


@pytest.mark.parametrize("name", ["hello", "multi"])
def test_examples_point_editors_at_the_shipped_schema(name: str) -> None:
    root = ET.parse(EXAMPLES / name / "module.xml").getroot()
    hint = root.get("{http://www.w3.org/2001/XMLSchema-instance}noNamespaceSchemaLocation")
    assert hint is not None
    assert (EXAMPLES / name / hint).resolve() == Path(
        str(resources.files("pvgen.config").joinpath("module.xsd"))
    ).resolve()


def test_locations_of_elements_without_their_own_field(tmp_path: Path) -> None:
    multi = load_example("multi", ("alpha.c", "beta.c", "gamma.c"), tmp_path)
    lines = (tmp_path / "multi" / "module.xml").read_text(encoding="utf-8").split("\n")

    def written(key: str) -> str:
        location = multi.locations[key]
        return lines[location.line - 1][location.column - 1:]

    assert written("Module_Schedule").startswith('<Module_Schedule MajorFrameSeconds="0.02">')
    assert written("Partition_Memory:2").startswith('<Partition_Memory PartitionIdentifier="2"')
    assert written("Partition_Schedule:3").startswith('<Partition_Schedule PartitionIdentifier="3"')
    assert written("Partition_HM_Table:1").startswith('<Partition_HM_Table PartitionIdentifier="1"')
    assert written("Guest:2").startswith('<Guest Sources="beta.c"/>')


# -- values and defaults ------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "ns"),
    [
        ("0.02", 20 * MS),
        ("1", 10**9),
        ("0.000000001", 1),
        ("4.35", 4_350_000_000),  # 4.35 * 1e9 in binary floating point is 4349999999.999…
        ("+.5", 500 * MS),
        ("5.", 5 * 10**9),
        (" 0.25 ", 250 * MS),
        ("0.1000000000000", 100 * MS),
        ("123456789.123456789", 123_456_789_123_456_789),
    ],
)
def test_seconds_convert_to_nanoseconds_exactly(text: str, ns: int) -> None:
    assert nanoseconds(text) == ns


@pytest.mark.parametrize(
    "text",
    [
        "0.0000000005",
        "0.0000000001",
        "1.0000000000000000000000000001",  # a 28-digit Decimal context would round this to 1
    ],
)
def test_times_finer_than_a_nanosecond_are_refused(text: str) -> None:
    assert nanoseconds(text) is None


@pytest.mark.parametrize(
    ("ns", "text"),
    [(0, "0 s"), (5 * MS, "0.005 s"), (10**9, "1 s"), (1_500_000_001, "1.500000001 s"),
     (20 * 10**9, "20 s")],
)
def test_times_in_messages_are_seconds(ns: int, text: str) -> None:
    assert format_seconds(ns) == text


def test_defaults(tmp_path: Path) -> None:
    loaded = solo(tmp_path)

    [p] = loaded.partitions
    assert (p.stack_size, p.image.runtime, p.criticality, p.system) == (
        8192, "baremetal", "LEVEL_E", False,
    )
    assert (p.timer_period_ns, p.hm_actions, p.ports) == (None, {}, ())
    assert loaded.toolchain == ToolchainConfig(arch="x86", cc=None, cross_prefix="")
    assert loaded.schedule.windows[0].period_start is True
    assert loaded.channels == ()
    assert (loaded.health_monitor.levels, loaded.health_monitor.module_actions) == ({}, {})


def test_extension_and_optional_attributes(tmp_path: Path) -> None:
    loaded = solo(
        tmp_path,
        toolchain='<Toolchain Arch="arm" Compiler=" clang " CrossPrefix="arm-none-eabi-"/>\n',
        partitions=partition(
            7, "solo",
            guest='<Guest Sources="p.c" Runtime="baremetal" StackSize="4096" '
                  'TimerPeriodSeconds="0.0005"/>',
            attributes=' Criticality="LEVEL_A" SystemPartition="1"',
        ),
    )

    [p] = loaded.partitions
    assert loaded.toolchain == ToolchainConfig(arch="arm", cc="clang",
                                               cross_prefix="arm-none-eabi-")
    assert (p.image.runtime, p.stack_size, p.timer_period_ns) == ("baremetal", 4096, 500_000)
    assert (p.criticality, p.system) == ("LEVEL_A", True)


def test_memory_is_the_sum_of_the_requirements(tmp_path: Path) -> None:
    loaded = solo(tmp_path, memory=memory(7, 4096, 8192, 16384))
    assert loaded.partitions[0].memory_size == 28672


def test_a_prebuilt_elf(tmp_path: Path) -> None:
    loaded = solo(
        tmp_path,
        partitions=partition(7, "solo", guest='<Guest Elf="bin/solo.elf"/>'),
        programs=("bin/solo.elf",),
    )

    image = loaded.partitions[0].image
    assert (image.sources, image.elf) == ((), tmp_path / "bin" / "solo.elf")


def test_file_names_are_relative_to_the_module_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    config = tmp_path / "config"
    config.mkdir()

    loaded = solo(
        config,
        partitions=partition(7, "solo", guest='<Guest Sources="src/b.c  src/a.c"/>'),
        programs=("src/a.c", "src/b.c"),
    )

    assert loaded.partitions[0].image.sources == (config / "src" / "b.c", config / "src" / "a.c")


def test_partitions_windows_and_channels_are_sorted(tmp_path: Path) -> None:
    port = '<Queuing_Port Name="q{0}" Direction="{1}" MaxMessageSize="4" MaxNbMessages="1"/>'
    channel = (
        '<Channel ChannelIdentifier="{0}"><Source><Standard_Partition PartitionIdentifier="{1}" '
        'PortName="q{0}"/></Source><Destination><Standard_Partition PartitionIdentifier="{2}" '
        'PortName="q{0}"/></Destination></Channel>'
    )
    loaded = module(
        tmp_path,
        partitions=partition(3, "c", ports=port.format(9, "SOURCE"))
        + partition(1, "a", ports=port.format(9, "DESTINATION") + port.format(4, "SOURCE"))
        + partition(2, "b", ports=port.format(4, "DESTINATION")),
        memory=memory(1, 16384) + memory(2, 16384) + memory(3, 16384),
        schedule=schedule(
            "0.03",
            partition_schedule(3, window(30, "0.02", "0.01")),
            partition_schedule(1, window(10, "0.01", "0.005"), window(11, "0", "0.005")),
            partition_schedule(2, window(20, "0.005", "0.005"), window(21, "0.015", "0.005")),
        ),
        extra=f"<Connection_Table>{channel.format(9, 3, 1)}{channel.format(4, 1, 2)}"
        "</Connection_Table>\n",
    )

    assert [p.identifier for p in loaded.partitions] == [1, 2, 3]
    assert [w.identifier for w in loaded.schedule.windows] == [11, 20, 10, 21, 30]
    assert [c.identifier for c in loaded.channels] == [4, 9]
    assert [p.name for p in loaded.partitions[0].ports] == ["q9", "q4"]  # as written


def test_each_period_starts_with_the_partitions_first_window(tmp_path: Path) -> None:
    loaded = solo(
        tmp_path,
        schedule=schedule(
            "0.02",
            partition_schedule(
                7,
                window(2, "0.004", "0.002"),
                window(1, "0", "0.002"),
                window(3, "0.01", "0.002", ' PartitionPeriodStart="0"'),
                window(4, "0.014", "0.002", ' PartitionPeriodStart="true"'),
                attributes=' PeriodSeconds="0.01"',
            ),
        ),
    )

    assert [(w.identifier, w.period_start) for w in loaded.schedule.windows] == [
        (1, True), (2, False), (3, False), (4, True),
    ]


def test_a_period_duration_that_every_period_meets(tmp_path: Path) -> None:
    loaded = solo(
        tmp_path,
        schedule=schedule(
            "0.02",
            partition_schedule(
                7,
                window(1, "0", "0.002"),
                window(2, "0.005", "0.001"),
                window(3, "0.01", "0.003"),
                attributes=' PeriodSeconds="0.01" PeriodDurationSeconds="0.003"',
            ),
        ),
    )
    assert len(loaded.schedule.windows) == 3


# -- the schema and the package -------------------------------------------------------


def test_the_schema_is_package_data_and_documents_every_value_type() -> None:
    """Messages quote a type's documentation, so every attribute's type must have some."""
    xsd = resources.files("pvgen.config").joinpath("module.xsd")
    root = ET.fromstring(xsd.read_text(encoding="utf-8"))
    documented = {
        t.get("name")
        for t in root.iter(f"{XS}simpleType")
        if (t.findtext(f"{XS}annotation/{XS}documentation") or "").strip()
    }
    used = {a.get("type") for a in root.iter(f"{XS}attribute")}
    assert used <= documented, used - documented


def test_reading_the_model_does_not_need_xmlschema() -> None:
    """The emulator reads the model; only loading XML needs the image extra's xmlschema."""
    code = "import sys, pvgen.config.model, pvgen.config; assert 'xmlschema' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


HUGE = {  # 100 000 siblings, or attributes, on one line
    "elements": ("".join(f'<Partition PartitionIdentifier="{i}" PartitionName="p{i}"/>'
                         for i in range(1, 100_001)), "more than 16384 elements"),
    "attributes": ('<Toolchain Arch="x86" ' + " ".join(f'a{i}="x"' for i in range(100_000))
                   + "/>", "more than 64 attributes on one element"),
}


@pytest.mark.parametrize("kind", list(HUGE))
def test_a_huge_configuration_is_refused_at_once(tmp_path: Path, kind: str) -> None:
    """Refused in well under 2 s, with the line, the column and an excerpt of the line
    around it."""
    body, message = HUGE[kind]
    path = tmp_path / "huge.xml"
    path.write_text(f'<ARINC_653_Module ModuleName="huge">{body}</ARINC_653_Module>\n',
                    encoding="utf-8")
    started = time.monotonic()
    with pytest.raises(ConfigError) as caught:
        load_module(path)
    assert time.monotonic() - started < 2.0
    rendered = caught.value.render()
    assert message in rendered and rendered.startswith(f"{path}:1:"), rendered[:300]
    assert max(len(line) for line in rendered.splitlines()) < 400  # an excerpt of the line
