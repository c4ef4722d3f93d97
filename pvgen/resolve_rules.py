"""A hypercall's ``when`` and ``answer`` statements, checked against its parameters and the
interface's status codes (part of pvgen.resolve, kept apart as it knows only these two).

``when PARAM = VALUE refuse STATUS;`` and ``when PARAM = VALUE end;`` say how the
hypervisor treats one value of a by-value enum argument before any service runs;
``answer STATUS as OTHER;`` gives a status another number for this call alone. Both
describe a hypervisor as it is (POK refuses IDLE from a partition; its full queue is FULL
to a send); the generated dispatcher applies them beside the decode they belong to.
"""

from __future__ import annotations

from typing import Protocol

from pvgen import model as m
from pvgen import syntax as s
from pvgen.diagnostics import Location


class _Errors(Protocol):
    def error(self, location: Location, message: str) -> None: ...


def resolve_rules(
    d: s.HypercallDecl, params: tuple[m.Param, ...], returns: m.Return | None, status: m.Enum,
    errors: _Errors,
) -> tuple[tuple[m.ValueRule, ...], tuple[m.StatusAnswer, ...]] | None:
    """The call's rules and answers, or None after reporting what is wrong with them."""
    if d.answers and (returns is None or returns.type.resolved is not status):
        errors.error(d.answers[0].keyword.location, "'answer' needs a call that returns a "
                     "status")
        return None
    codes = {member.name: member for member in status.members}
    by_name = {p.name: p for p in params}
    rules: list[m.ValueRule] = []
    answers: list[m.StatusAnswer] = []
    seen: dict[tuple[str, str], int] = {}
    ok = True
    for when in d.whens:
        rule = _rule(when, by_name, codes, errors)
        key = (when.param.text, when.value.text)
        if rule is not None and key in seen:
            errors.error(when.keyword.location, f"'when {key[0]} = {key[1]}' is already "
                         f"given (line {seen[key]})")
            rule = None
        seen.setdefault(key, when.keyword.location.line)
        ok = ok and rule is not None
        if rule is not None:
            rules.append(rule)
    answered: dict[str, int] = {}
    for decl in d.answers:
        answer = _answer(decl, codes, answered, errors)
        answered.setdefault(decl.status.text, decl.keyword.location.line)
        ok = ok and answer is not None
        if answer is not None:
            answers.append(answer)
    return (tuple(rules), tuple(answers)) if ok else None


def _rule(when: s.WhenDecl, params: dict[str, m.Param], codes: dict[str, m.EnumMember],
          errors: _Errors) -> m.ValueRule | None:
    param = params.get(when.param.text)
    if param is None:
        errors.error(when.param.location, f"'when' names no parameter of this call: "
                     f"'{when.param.text}'")
        return None
    enum = param.type.resolved
    if param.is_pointer or not isinstance(enum, m.Enum):
        errors.error(when.param.location, f"'when' takes a by-value enum parameter; "
                     f"'{param.name}' is {param.abi_spelling}")
        return None
    value = next((v for v in enum.members if v.name == when.value.text), None)
    if value is None:
        errors.error(when.value.location, f"enum '{enum.name}' has no member "
                     f"'{when.value.text}'")
        return None
    action = m.RuleAction(when.action.text)
    if action is m.RuleAction.END:
        if when.status is not None:
            errors.error(when.status.location, "'end' takes no status: the call does not "
                         "return")
            return None
        return m.ValueRule(param.name, value, action, None, when.doc)
    if when.status is None:
        errors.error(when.action.location, "'refuse' needs the status the call answers")
        return None
    code = codes.get(when.status.text)
    if code is None:
        errors.error(when.status.location, f"unknown status '{when.status.text}'")
        return None
    return m.ValueRule(param.name, value, action, code, when.doc)


def _answer(decl: s.AnswerDecl, codes: dict[str, m.EnumMember], answered: dict[str, int],
            errors: _Errors) -> m.StatusAnswer | None:
    for name in (decl.status, decl.answer):
        if name.text not in codes:
            errors.error(name.location, f"unknown status '{name.text}'")
            return None
    if decl.status.text in answered:
        errors.error(decl.keyword.location, f"'answer {decl.status.text}' is already given "
                     f"(line {answered[decl.status.text]})")
        return None
    return m.StatusAnswer(codes[decl.status.text], codes[decl.answer.text], decl.doc)
