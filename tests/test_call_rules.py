"""A definition's ``when`` and ``answer`` statements, served by the generated dispatcher.

``when PARAM = VALUE refuse STATUS`` answers that value before any service runs, ``when
PARAM = VALUE end`` ends the caller's program instead of returning, and ``answer STATUS as
OTHER`` renumbers what the service answers, for that call alone. The dispatcher is rendered
from the real template and driven with recording handlers; the POK profile's own rules run
in the emulator in tests/test_pok_profile.py and on the real kernel in
tests/test_pok_system.py. The mistakes a definition can make with them are in
tests/bad_definitions/ (when_*, answer_*).
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from pvgen.definition import load
from tests.pydispatch import GuestBytes, Recorder, load_dispatcher

DEFINITION = """\
interface rules version 1;
status { OK = 0; INVALID = 1; NOT_AVAILABLE = 2; FULL = 311; EMPTY = 308; REFUSED = 601; }
reject unknown_call = INVALID; reject bad_pointer = INVALID;
reject bad_arg_count = INVALID; reject bad_value = INVALID;
enum mode : u32 { COLD = 1; NORMAL = 3; IDLE = 4; }
abi regs for x86 { trap int 46; number eax; arguments registers ebx ecx; return eax;
                   word 32; split64 low_first; default; }
hypercall set_mode = 1 "Set the mode." {
    mode: mode;
    when mode = IDLE refuse REFUSED "Not from the partition itself.";
    when mode = NORMAL end "Ends the calling main thread.";
}
hypercall send = 2 { value: u32; answer NOT_AVAILABLE as FULL "The queue is full."; }
hypercall receive = 3 { out value: u32; answer NOT_AVAILABLE as EMPTY; }
"""


class Ending(Recorder):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.ended: list[int] = []

    def end_program(self, number: int) -> None:
        self.ended.append(number)


@pytest.fixture(scope="module")
def rules(tmp_path_factory: pytest.TempPathFactory) -> tuple[ModuleType, Any]:
    path = tmp_path_factory.mktemp("rules") / "rules.def"
    path.write_text(DEFINITION)
    iface = load(path)
    return load_dispatcher(iface, path.parent), iface


def test_a_refused_value_is_answered_before_any_service_runs(rules: tuple[ModuleType, Any]
                                                             ) -> None:
    pv, iface = rules
    handlers = Ending(iface)
    assert pv.dispatch(1, None, [4, 0], GuestBytes(bytearray(16)), handlers) == 601
    assert handlers.calls == [] and handlers.rejections == [] and handlers.ended == []
    assert pv.dispatch(1, None, [1, 0], GuestBytes(bytearray(16)), handlers) == 0x600D
    assert handlers.calls == [("set_mode", (1,))]


def test_an_ending_value_ends_the_program_and_runs_no_service(rules: tuple[ModuleType, Any]
                                                              ) -> None:
    pv, iface = rules
    handlers = Ending(iface)
    pv.dispatch(1, None, [3, 0], GuestBytes(bytearray(16)), handlers)
    assert handlers.ended == [1] and handlers.calls == []


def test_a_call_s_own_number_for_a_status(rules: tuple[ModuleType, Any]) -> None:
    pv, iface = rules
    handlers = Ending(iface, replies={"send": 2, "receive": (2, None)})
    assert pv.dispatch(2, None, [7, 0], GuestBytes(bytearray(16)), handlers) == 311
    assert pv.dispatch(3, None, [4, 0], GuestBytes(bytearray(16)), handlers) == 308
    handlers = Ending(iface, replies={"send": 0, "receive": (1, None)})
    assert pv.dispatch(2, None, [7, 0], GuestBytes(bytearray(16)), handlers) == 0
    assert pv.dispatch(3, None, [4, 0], GuestBytes(bytearray(16)), handlers) == 1


def test_the_rules_are_part_of_the_interface_s_fingerprint(tmp_path: Path) -> None:
    (tmp_path / "a.def").write_text(DEFINITION)
    (tmp_path / "b.def").write_text(DEFINITION.replace(" refuse REFUSED", " refuse INVALID"))
    first, second = load(tmp_path / "a.def"), load(tmp_path / "b.def")
    assert first.hypercalls[0].signature.endswith(
        "; when mode = IDLE refuse REFUSED; when mode = NORMAL end")
    assert first.fingerprint != second.fingerprint
