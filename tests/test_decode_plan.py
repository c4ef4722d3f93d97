"""One decode plan, every speller (pvgen/decode_plan.py): what each parameter is checked
for is decided once, and the POK kernel's C dispatcher and the emulator's Python dispatcher
both check exactly that, in the plan's order. The two dispatchers' behaviour is compared
call by call in tests/test_differential.py; here, that neither decides anything itself."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pvgen import lang_c, lang_py
from pvgen import model as m
from pvgen.decode_plan import Area, CodeAddress, String, Use, plan_of
from pvgen.definition import load
from tests.conftest import DEFINITION

TESTS = Path(__file__).parent
DEFINITIONS = [DEFINITION, TESTS / "shapes.def", TESTS / "units.def",
               DEFINITION.parent / "examples/hypervisors/pok_x86.def"]


@pytest.fixture(scope="module", params=DEFINITIONS, ids=lambda p: p.name)
def interface(request: pytest.FixtureRequest) -> m.Interface:
    return load(request.param)


def test_the_plan_decides_each_parameter_s_check(interface: m.Interface) -> None:
    """Every pointer has an area or a string check and a use; a by-value parameter keeps
    its value and has a range check only if its type is narrower than its words."""
    for call in interface.hypercalls:
        for step in plan_of(call).steps:
            p = step.param
            if p.is_pointer:
                assert isinstance(step.check, String if p.is_string else Area), p
                assert step.use is not Use.VALUE and step.event is m.RejectEvent.BAD_POINTER
            else:
                assert step.use is Use.VALUE
                assert (step.check is None) == (p.value_check is None and not p.is_code), p
                if p.is_code:
                    assert isinstance(step.check, CodeAddress)


def test_the_c_dispatcher_checks_what_the_plan_says_in_its_order(
        interface: m.Interface) -> None:
    for call in interface.hypercalls:
        plan = plan_of(call)
        checked = [(s.param.name, s.event) for s in plan.steps if s.event is not None]
        if any(len(s.words) == 2 and isinstance(s.check, m.ValueCheck) for s in plan.steps):
            continue  # the C side refuses those (see lang_c.dispatch_plan)
        spelled = lang_c.dispatch_plan(call, "pv", "pv_hypercall")
        assert [(c.param, c.event) for c in spelled.checks] == checked, call.name
        assert spelled.needs_size == plan.needs_size


def test_the_python_dispatcher_rejects_what_the_plan_says_in_its_order(
        interface: m.Interface) -> None:
    """Each parameter's decode in Python rejects with its step's event (a string's check
    rejects twice: before it reads, and without a terminator) and with nothing else."""
    for call in interface.hypercalls:
        plan = plan_of(call)
        for step in plan.steps:
            decoded = lang_py.py_decode(step, plan)
            events = re.findall(r"Reject\.(\w+)\)", decoded)
            expected = [] if step.event is None else [step.event.value] * (
                2 if isinstance(step.check, String) else 1)
            assert events == expected, (call.name, step.param.name, decoded)
