"""The ARINC 653 APEX layer of the guest runtimes (pvgen/bsp_templates/shared/apex.*).

The layer is compiled warning-free for every ABI, and its asserts hold the
generated constants to ARINC's values: a definition that renumbers one does not
compile. A bare-metal partition built as ``pvgen image`` builds them calls every
APEX call on Unicorn, through the generated dispatcher to handlers that answer as
scripted: each call must make exactly its hypercall with the expected arguments
(or none, where the layer answers by itself) and hand back the handler's status
and outputs as ARINC's types.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from pvgen import bsp
from pvgen.bsp import BspError, render_baremetal, render_rtems_bsp
from pvgen.definition import load, load_text
from pvgen.layers import APEX
from pvgen.model import Interface
from tests.cc import FOR_ARCH, GCC_X86
from tests.conftest import DEFINITION
from tests.guest_harness import PartitionRun
from tests.pydispatch import load_dispatcher
from tests.test_bsp import MEMORY, build_partition

IFACE = load(DEFINITION)
ABI_CASES = [pytest.param(abi.name, abi.arch.name, id=abi.name) for abi in IFACE.abis]
# A hypervisor profile whose status codes are not ARINC's numbers (XtratuM's: negative).
XTRATUM = DEFINITION.parent / "examples" / "hypervisors" / "xtratum_x86.def"

# ==========================================================================
# Compiling the layer
# ==========================================================================


@pytest.mark.parametrize(("abi_name", "arch"), ABI_CASES)
def test_layer_compiles_for_each_abi(
    interface: Interface, tmp_path: Path, abi_name: str, arch: str
) -> None:
    runtime = render_baremetal(interface, arch, tmp_path, abi=abi_name)
    source = next(s for s in runtime.sources if s.name == "apex.c")
    FOR_ARCH[arch].compile(source, tmp_path / "apex.o", includes=runtime.include_dirs,
                           defines=runtime.defines)


def _replaced(text: str, old: str, new: str) -> str:
    changed = text.replace(old, new)
    assert changed != text, old
    return changed


@pytest.mark.parametrize(("old", "new", "assertion"), [
    ("NORMAL     = 3", "NORMAL     = 4", "apex_normal"),
    ("DESTINATION = 1", "DESTINATION = 2", "apex_destination"),
    ("u8[nul 32]", "u8[nul 30]", "apex_name_fits"),  # 30 characters and a NUL
], ids=["mode", "direction", "name"])
def test_a_definition_off_arinc_does_not_compile(
    tmp_path: Path, old: str, new: str, assertion: str
) -> None:
    iface = load_text(_replaced(DEFINITION.read_text(), old, new))
    runtime = render_baremetal(iface, "x86", tmp_path)
    source = next(s for s in runtime.sources if s.name == "apex.c")
    with pytest.raises(AssertionError, match=assertion):
        GCC_X86.compile(source, tmp_path / "apex.o", includes=runtime.include_dirs,
                        defines=runtime.defines)


def _without(name: str) -> Interface:
    text = DEFINITION.read_text()
    without = re.sub(rf"hypercall {name} = \d+ .*?\n}}\n", "", text, flags=re.DOTALL)
    assert without != text
    return load_text(without)


def test_a_runtime_lacking_a_call_of_the_layer_leaves_the_layer_out(tmp_path: Path) -> None:
    """Without queuing_status the runtime builds with no APEX code, and apex.h says why to
    whoever includes it."""
    runtime = render_baremetal(_without("queuing_status"), "x86", tmp_path)
    assert [p.name for p in runtime.sources if p.name.startswith("apex")] == []
    header = (tmp_path / "include" / "apex.h").read_text()
    assert re.search(r'#error "include/apex.h: the ARINC 653 APEX layer calls hypercalls that '
                     r'interface pv \(.*\) lacks: queuing_status"', header)


def test_runtimes_need_the_core_calls(tmp_path: Path) -> None:
    with pytest.raises(BspError, match=r"the runtime's console and the end of a partition needs "
                       r"hypercalls the definition lacks: \['console_write'\]"):
        render_baremetal(_without("console_write"), "x86", tmp_path)


def test_the_rtems_bsp_needs_shutdown_for_its_reset(tmp_path: Path) -> None:
    """bsp_reset shuts the module down: the BSP is refused without the call, while the
    bare-metal runtime, which never calls it, is not."""
    iface = _without("shutdown")
    with pytest.raises(BspError, match=r"the RTEMS BSP's reset needs hypercalls the definition "
                       r"lacks: \['shutdown'\]"):
        render_rtems_bsp(iface, tmp_path / "rtems")
    render_baremetal(iface, "x86", tmp_path / "baremetal")


def test_rtems_bsp_installs_the_layer(interface: Interface, tmp_path: Path) -> None:
    files = {p.relative_to(tmp_path).as_posix() for p in render_rtems_bsp(interface, tmp_path)}
    assert {"bsps/i386/pokpv/include/apex.h", "bsps/i386/pokpv/shared/apex.c"} <= files
    spec = (tmp_path / "spec/build/bsps/i386/pokpv/bsppokpv.yml").read_text()
    assert "- bsps/i386/pokpv/shared/apex.c" in spec
    assert "- bsps/i386/pokpv/include/apex.h" in spec


# ==========================================================================
# Every call on Unicorn
# ==========================================================================


@dataclass(frozen=True)
class Step:
    """One APEX call of PROGRAM: the line it prints, the hypercall it must make, the answer."""

    line: str
    call: tuple[str, tuple[Any, ...]] | None = None  # None: the layer answers by itself
    reply: Any = None


LIMIT = bsp.APEX_PORT_IDS
NAME30 = bytes(ord("a") + i % 26 for i in range(30))


def steps(S: dict[str, int], outside: str) -> list[Step]:
    """One console line per APEX call of PROGRAM, in its order, for a definition whose status
    codes are ``S`` and whose ``outside`` status names no ARINC code. The layer's answers are
    ARINC's numbers (NO_ERROR 0 .. TIMED_OUT 6) whatever the definition numbers its statuses;
    the handlers' replies are the definition's."""
    return [
        Step("CREATE_SAMPLING_PORT rc=0 id=3",
             ("sampling_create", (b"temperature_in", 16, 1, 40_000_000)), (S["OK"], 3)),
        Step("READ_SAMPLING_MESSAGE rc=0 length=5 validity=1 msg=21.5C",
             ("sampling_read", (3, 16)), (S["OK"], b"21.5C", 5, 1)),
        # The hypervisor writes nothing: LENGTH 0 and INVALID, as the layer initialised them.
        Step("READ_SAMPLING_MESSAGE rc=1 length=0 validity=0",
             ("sampling_read", (3, 16)), (S["NO_ACTION"], None, None, None)),
        Step("READ_SAMPLING_MESSAGE rc=3 (port 7)"),
        Step("READ_SAMPLING_MESSAGE rc=3 (port beyond the table)"),
        Step("WRITE_SAMPLING_MESSAGE rc=5",
             ("sampling_write", (3, b"21.5C", 5)), S["INVALID_MODE"]),
        Step("WRITE_SAMPLING_MESSAGE rc=4 (17 bytes)"),
        Step("WRITE_SAMPLING_MESSAGE rc=3 (0 bytes)"),
        Step("GET_SAMPLING_PORT_ID rc=0 id=3",
             ("sampling_port_id", (b"temperature_in",)), (S["OK"], 3)),
        Step("GET_SAMPLING_PORT_STATUS rc=0 refresh=0:02625a00 max=16 direction=1 validity=1",
             ("sampling_status", (3,)),
             (S["OK"], {"refresh_period": 40_000_000, "max_message_size": 16, "direction": 1,
                        "last_msg_validity": 1})),
        Step("GET_SAMPLING_PORT_STATUS rc=3 (port 7)"),
        # A name of MAX_NAME_LENGTH characters, unterminated: exactly those go.
        Step("CREATE_SAMPLING_PORT rc=4 id=3",
             ("sampling_create", (NAME30, 8, 0, 1_000_000)), (S["INVALID_CONFIG"], None)),
        # Created, but with an id the table has no room for: the layer cannot serve it.
        Step("CREATE_SAMPLING_PORT rc=4 id=3",
             ("sampling_create", (b"far", 8, 0, 1_000_000)), (S["OK"], LIMIT)),
        Step("CREATE_SAMPLING_PORT rc=4 (size 0)"),
        Step("CREATE_SAMPLING_PORT rc=4 (direction 2)"),
        Step("CREATE_QUEUING_PORT rc=0 id=0",
             ("queuing_create", (b"reports_in", 32, 4, 1)), (S["OK"], 0)),
        Step("RECEIVE_QUEUING_MESSAGE rc=0 length=10 msg=report one",
             ("queuing_receive", (0, 32)), (S["OK"], b"report one", 10)),
        Step("RECEIVE_QUEUING_MESSAGE rc=2 length=0",
             ("queuing_receive", (0, 32)), (S["NOT_AVAILABLE"], None, None)),
        Step("RECEIVE_QUEUING_MESSAGE rc=3 (INFINITE_TIME_VALUE)"),
        Step("RECEIVE_QUEUING_MESSAGE rc=3 (time-out 1 ms)"),
        Step("RECEIVE_QUEUING_MESSAGE rc=3 (port 3 is a sampling port)"),
        Step("SEND_QUEUING_MESSAGE rc=0",
             ("queuing_send", (0, b"report one", 10)), S["OK"]),
        Step("SEND_QUEUING_MESSAGE rc=2",
             ("queuing_send", (0, b"report one", 10)), S["NOT_AVAILABLE"]),
        Step("SEND_QUEUING_MESSAGE rc=3 (time-out 1 ms)"),
        Step("SEND_QUEUING_MESSAGE rc=4 (33 bytes)"),
        Step("GET_QUEUING_PORT_ID rc=0 id=0",
             ("queuing_port_id", (b"reports_in",)), (S["OK"], 0)),
        Step("GET_QUEUING_PORT_STATUS rc=0 nb=3 max_nb=4 max=32 direction=1 waiting=0",
             ("queuing_status", (0,)),
             (S["OK"], {"nb_message": 3, "max_nb_message": 4, "max_message_size": 32,
                        "direction": 1, "overflowed": 1})),
        Step("GET_QUEUING_PORT_STATUS rc=3 (port 3 is a sampling port)"),
        Step("CREATE_QUEUING_PORT rc=4 (depth 0)"),
        Step("CREATE_QUEUING_PORT rc=4 (discipline 2)"),
        Step("GET_PARTITION_STATUS rc=0 period=0:01312d00 duration=0:004c4b40 id=2 lock=0 mode=3 "
             "start=1 cores=1",
             ("partition_get_status", ()),
             (S["OK"], {"period": 20_000_000, "duration": 5_000_000, "identifier": 2,
                        "operating_mode": 3, "start_condition": 1, "lock_level": 0})),
        Step("SET_PARTITION_MODE rc=1", ("partition_set_mode", (3,)), S["NO_ACTION"]),
        Step("SET_PARTITION_MODE rc=3 (mode 4)"),
        Step("GET_TIME rc=0 time=12:3456789a", ("get_time", ()), (S["OK"], 0x12_3456_789A)),
        # A status outside ARINC's is INVALID_CONFIG; the time is left as it was.
        Step("GET_TIME rc=4 time=12:3456789a", ("get_time", ()), (S[outside], None)),
        Step("RAISE_APPLICATION_ERROR rc=0",
             ("raise_application_error", (b"sensor lost", 11)), S["OK"]),
        Step("RAISE_APPLICATION_ERROR rc=0 (no message)",
             ("raise_application_error", (b"", 0)), S["OK"]),
        Step("RAISE_APPLICATION_ERROR rc=3 (NUMERIC_ERROR)"),
        Step("RAISE_APPLICATION_ERROR rc=3 (129 bytes)"),
    ]


PROGRAM = r"""
#include "partition.h"
#include "apex.h"

static APEX_BYTE sample[16];
static APEX_BYTE report[32];
static APEX_BYTE sensor_lost[] = "sensor lost";
/* A name of MAX_NAME_LENGTH characters, unterminated: what follows must not be read. */
static struct { NAME_TYPE name; char after[4]; } long_name = { { 0 }, "XYZ" };

static void say(const char *call, RETURN_CODE_TYPE rc, const char *why)
{
    console_printf("%s rc=%d%s", call, (int)rc, why);
}

static void end(const char *why)
{
    console_printf("%s\n", why);
}

static void message(const APEX_BYTE *bytes, MESSAGE_SIZE_TYPE length)
{
    console_puts(" msg=");
    console_write((const char *)bytes, (size_t)length);
    end("");
}

static void time_field(const char *name, SYSTEM_TIME_TYPE t)
{
    console_printf(" %s=%x:%08x", name, (unsigned)((uint64_t)t >> 32),
                   (unsigned)((uint64_t)t & 0xFFFFFFFFu));
}

int main(void)
{
    RETURN_CODE_TYPE rc;
    SAMPLING_PORT_ID_TYPE sampling = 99u, found = 99u;
    QUEUING_PORT_ID_TYPE queuing = 99u, queuing_found = 99u;
    MESSAGE_SIZE_TYPE length;
    VALIDITY_TYPE validity;
    SAMPLING_PORT_STATUS_TYPE sampling_status;
    QUEUING_PORT_STATUS_TYPE queuing_status;
    PARTITION_STATUS_TYPE partition;
    SYSTEM_TIME_TYPE now = 0;
    unsigned i;

    CREATE_SAMPLING_PORT("temperature_in", 16, DESTINATION, 40000000, &sampling, &rc);
    say("CREATE_SAMPLING_PORT", rc, "");
    console_printf(" id=%u\n", (unsigned)sampling);

    length = -1;
    validity = 9u;
    READ_SAMPLING_MESSAGE(sampling, sample, &length, &validity, &rc);
    say("READ_SAMPLING_MESSAGE", rc, "");
    console_printf(" length=%d validity=%u", (int)length, (unsigned)validity);
    message(sample, length);

    length = -1;
    validity = 9u;
    READ_SAMPLING_MESSAGE(sampling, sample, &length, &validity, &rc);
    say("READ_SAMPLING_MESSAGE", rc, "");
    console_printf(" length=%d validity=%u\n", (int)length, (unsigned)validity);

    READ_SAMPLING_MESSAGE(7u, sample, &length, &validity, &rc);
    say("READ_SAMPLING_MESSAGE", rc, " (port 7)\n");
    READ_SAMPLING_MESSAGE(APEX_PORT_ID_LIMIT + 1000u, sample, &length, &validity, &rc);
    say("READ_SAMPLING_MESSAGE", rc, " (port beyond the table)\n");

    WRITE_SAMPLING_MESSAGE(sampling, sample, 5, &rc);
    say("WRITE_SAMPLING_MESSAGE", rc, "\n");
    WRITE_SAMPLING_MESSAGE(sampling, sample, 17, &rc);
    say("WRITE_SAMPLING_MESSAGE", rc, " (17 bytes)\n");
    WRITE_SAMPLING_MESSAGE(sampling, sample, 0, &rc);
    say("WRITE_SAMPLING_MESSAGE", rc, " (0 bytes)\n");

    GET_SAMPLING_PORT_ID("temperature_in", &found, &rc);
    say("GET_SAMPLING_PORT_ID", rc, "");
    console_printf(" id=%u\n", (unsigned)found);

    GET_SAMPLING_PORT_STATUS(sampling, &sampling_status, &rc);
    say("GET_SAMPLING_PORT_STATUS", rc, "");
    time_field("refresh", sampling_status.REFRESH_PERIOD);
    console_printf(" max=%d direction=%u validity=%u\n", (int)sampling_status.MAX_MESSAGE_SIZE,
                   (unsigned)sampling_status.PORT_DIRECTION,
                   (unsigned)sampling_status.LAST_MSG_VALIDITY);
    GET_SAMPLING_PORT_STATUS(7u, &sampling_status, &rc);
    say("GET_SAMPLING_PORT_STATUS", rc, " (port 7)\n");

    for (i = 0u; i < MAX_NAME_LENGTH; ++i) {
        long_name.name[i] = (char)('a' + i % 26u);
    }
    CREATE_SAMPLING_PORT(long_name.name, 8, SOURCE, 1000000, &found, &rc);
    say("CREATE_SAMPLING_PORT", rc, "");
    console_printf(" id=%u\n", (unsigned)found);
    CREATE_SAMPLING_PORT("far", 8, SOURCE, 1000000, &found, &rc);
    say("CREATE_SAMPLING_PORT", rc, "");
    console_printf(" id=%u\n", (unsigned)found);
    CREATE_SAMPLING_PORT("empty", 0, SOURCE, 1000000, &found, &rc);
    say("CREATE_SAMPLING_PORT", rc, " (size 0)\n");
    CREATE_SAMPLING_PORT("sideways", 8, (PORT_DIRECTION_TYPE)2u, 1000000, &found, &rc);
    say("CREATE_SAMPLING_PORT", rc, " (direction 2)\n");

    CREATE_QUEUING_PORT("reports_in", 32, 4, DESTINATION, FIFO, &queuing, &rc);
    say("CREATE_QUEUING_PORT", rc, "");
    console_printf(" id=%u\n", (unsigned)queuing);

    length = -1;
    RECEIVE_QUEUING_MESSAGE(queuing, 0, report, &length, &rc);
    say("RECEIVE_QUEUING_MESSAGE", rc, "");
    console_printf(" length=%d", (int)length);
    message(report, length);
    length = -1;
    RECEIVE_QUEUING_MESSAGE(queuing, 0, report, &length, &rc);
    say("RECEIVE_QUEUING_MESSAGE", rc, "");
    console_printf(" length=%d\n", (int)length);
    RECEIVE_QUEUING_MESSAGE(queuing, INFINITE_TIME_VALUE, report, &length, &rc);
    say("RECEIVE_QUEUING_MESSAGE", rc, " (INFINITE_TIME_VALUE)\n");
    RECEIVE_QUEUING_MESSAGE(queuing, 1000000, report, &length, &rc);
    say("RECEIVE_QUEUING_MESSAGE", rc, " (time-out 1 ms)\n");
    RECEIVE_QUEUING_MESSAGE(sampling, 0, report, &length, &rc);
    say("RECEIVE_QUEUING_MESSAGE", rc, " (port 3 is a sampling port)\n");

    SEND_QUEUING_MESSAGE(queuing, report, 10, 0, &rc);
    say("SEND_QUEUING_MESSAGE", rc, "\n");
    SEND_QUEUING_MESSAGE(queuing, report, 10, 0, &rc);
    say("SEND_QUEUING_MESSAGE", rc, "\n");
    SEND_QUEUING_MESSAGE(queuing, report, 10, 1000000, &rc);
    say("SEND_QUEUING_MESSAGE", rc, " (time-out 1 ms)\n");
    SEND_QUEUING_MESSAGE(queuing, report, 33, 0, &rc);
    say("SEND_QUEUING_MESSAGE", rc, " (33 bytes)\n");

    GET_QUEUING_PORT_ID("reports_in", &queuing_found, &rc);
    say("GET_QUEUING_PORT_ID", rc, "");
    console_printf(" id=%u\n", (unsigned)queuing_found);
    GET_QUEUING_PORT_STATUS(queuing, &queuing_status, &rc);
    say("GET_QUEUING_PORT_STATUS", rc, "");
    console_printf(" nb=%d max_nb=%d max=%d direction=%u waiting=%d\n",
                   (int)queuing_status.NB_MESSAGE, (int)queuing_status.MAX_NB_MESSAGE,
                   (int)queuing_status.MAX_MESSAGE_SIZE, (unsigned)queuing_status.PORT_DIRECTION,
                   (int)queuing_status.WAITING_PROCESSES);
    GET_QUEUING_PORT_STATUS(sampling, &queuing_status, &rc);
    say("GET_QUEUING_PORT_STATUS", rc, " (port 3 is a sampling port)\n");
    CREATE_QUEUING_PORT("shallow", 32, 0, SOURCE, FIFO, &queuing_found, &rc);
    say("CREATE_QUEUING_PORT", rc, " (depth 0)\n");
    CREATE_QUEUING_PORT("unfair", 32, 4, SOURCE, (QUEUING_DISCIPLINE_TYPE)2, &queuing_found, &rc);
    say("CREATE_QUEUING_PORT", rc, " (discipline 2)\n");

    GET_PARTITION_STATUS(&partition, &rc);
    say("GET_PARTITION_STATUS", rc, "");
    time_field("period", partition.PERIOD);
    time_field("duration", partition.DURATION);
    console_printf(" id=%d lock=%d mode=%u start=%u cores=%u\n", (int)partition.IDENTIFIER,
                   (int)partition.LOCK_LEVEL, (unsigned)partition.OPERATING_MODE,
                   (unsigned)partition.START_CONDITION, (unsigned)partition.NUM_ASSIGNED_CORES);
    SET_PARTITION_MODE(NORMAL, &rc);
    say("SET_PARTITION_MODE", rc, "\n");
    SET_PARTITION_MODE((OPERATING_MODE_TYPE)4u, &rc);
    say("SET_PARTITION_MODE", rc, " (mode 4)\n");

    GET_TIME(&now, &rc);
    say("GET_TIME", rc, "");
    time_field("time", now);
    end("");
    GET_TIME(&now, &rc);
    say("GET_TIME", rc, "");
    time_field("time", now);
    end("");

    RAISE_APPLICATION_ERROR(APPLICATION_ERROR, sensor_lost, 11, &rc);
    say("RAISE_APPLICATION_ERROR", rc, "\n");
    RAISE_APPLICATION_ERROR(APPLICATION_ERROR, NULL, 0, &rc);
    say("RAISE_APPLICATION_ERROR", rc, " (no message)\n");
    RAISE_APPLICATION_ERROR(NUMERIC_ERROR, sensor_lost, 11, &rc);
    say("RAISE_APPLICATION_ERROR", rc, " (NUMERIC_ERROR)\n");
    RAISE_APPLICATION_ERROR(APPLICATION_ERROR, sensor_lost, MAX_ERROR_MESSAGE_SIZE + 1, &rc);
    say("RAISE_APPLICATION_ERROR", rc, " (129 bytes)\n");
    return 0;
}
"""


class ApexRun(PartitionRun):
    """A partition whose APEX hypercalls are recorded with the console line they came in
    (the APEX call's step) and answered from the script, in order."""

    def __init__(self, *args: Any, script: list[Step], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.replies = {
            name: [s.reply for s in script if s.call is not None and s.call[0] == name]
            for name in APEX.calls
        }
        self.apex_calls: list[tuple[int, str, tuple[Any, ...]]] = []

    def _answer(self, name: str, args: tuple[Any, ...]) -> Any:
        self.apex_calls.append((self.console.count(b"\n"), name, args))
        replies = self.replies[name]
        assert replies, f"{name}{args}: unscripted"
        return replies.pop(0)

    def __getattr__(self, name: str) -> Any:
        if name not in APEX.calls:
            raise AttributeError(name)
        return lambda **kwargs: self._answer(name, tuple(kwargs.values()))

    # The runtime calls these two too: get_time never, partition_set_mode to end.
    def get_time(self) -> tuple[int, int]:
        result: tuple[int, int] = self._answer("get_time", ())
        return result

    def partition_set_mode(self, mode: int) -> int:
        if not self.replies["partition_set_mode"]:
            return super().partition_set_mode(mode)  # the runtime's IDLE after main
        result: int = self._answer("partition_set_mode", (mode,))
        return result


# (definition, architecture, its status outside ARINC's): the repository's on both
# architectures, and the XtratuM profile, whose status codes are negative.
APEX_CASES = [
    pytest.param(DEFINITION, "x86", "ILLEGAL_REQUEST", id="x86"),
    pytest.param(DEFINITION, "arm", "ILLEGAL_REQUEST", id="arm"),
    pytest.param(XTRATUM, "x86", "UNKNOWN_HYPERCALL", id="xtratum-x86"),
]


@pytest.mark.parametrize(("definition", "arch", "outside"), APEX_CASES)
def test_each_apex_call_makes_its_hypercall(
    tmp_path: Path, definition: Path, arch: str, outside: str
) -> None:
    interface = load(definition)
    dispatch = load_dispatcher(interface, tmp_path)
    architecture = interface.architecture(arch)
    assert architecture is not None
    abi = interface.default_abi(architecture)
    runtime = render_baremetal(interface, arch, tmp_path / "runtime", abi=abi.name)
    elf = build_partition(runtime, PROGRAM, tmp_path)
    script = steps({m.name: m.value for m in interface.status.members}, outside)
    run = ApexRun(abi, dispatch, elf, MEMORY, script=script)
    run.run()

    assert run.console.decode().splitlines() == [s.line for s in script]
    made = [[(name, args) for step, name, args in run.apex_calls if step == i]
            for i in range(len(script))]
    assert made == [[s.call] if s.call is not None else [] for s in script]
    assert all(not replies for replies in run.replies.values())  # every answer was asked for
    assert run.ended == ("partition_set_mode", 0)  # main returned: mode IDLE
