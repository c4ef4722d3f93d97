"""Whatever text pvgen is given, it builds a model or says where the text is wrong.

The property: loading arbitrary text either succeeds or raises DefinitionError
whose every diagnostic points inside the text (a line that exists, a column
within that line or just past its end); never another exception, which the
command would show as a traceback. The texts are random strings, strings of
the language's own tokens, and mutations of the repository's hypercalls.def
(lines deleted, duplicated or swapped, tokens swapped, characters inserted),
which reach far deeper into the resolver than random text does.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pvgen.definition import load_text
from pvgen.diagnostics import DefinitionError

REAL = (Path(__file__).resolve().parent.parent / "hypercalls.def").read_text(encoding="utf-8")
REAL_LINES = REAL.split("\n")
# Tokens as the lexer sees them, comments and strings whole.
_TOKEN = re.compile(r'#[^\n]*|"(?:[^"\\\n]|\\.)*"|\.\.|[A-Za-z_][A-Za-z0-9_]*|[0-9a-fx]+|\S')
REAL_TOKENS = sorted(set(_TOKEN.findall(REAL)))
# Tokens that are wrong in interesting ways, by the kind of token they replace:
# numbers that do not fit or that C reads differently, strings with escapes
# and control characters, keywords as names, stray characters.
NASTY = {
    "number": ["010", "0x", "0x100000000", "4294967296", "18446744073709551616", "9" * 30, "-1"],
    "string": ['"\\x"', '"\\u12"', '"\\N"', '"\\q"', '"\\"', '"', '"\x07"', '"\t"', '""'],
    "name": ["in", "out", "nullable", "noreturn", "returns", "status", "u64", "code", "bool",
             "int", "None", "class", "max", "counted", "default", "nul", "shared", "fastpath",
             "share", "enable", "disable", "get_level", "set_level"],
    "other": ["#", "..", "-", "\\", "\ufeff", "\r", "\x0c", "\x00", "é", ";", "{", "}"],
}
_KIND = {"number": r"\b[0-9]\w*", "string": r'"(?:[^"\\\n]|\\.)*"', "name": r"\b[A-Za-z_]\w*"}
NAME = "fuzz.def"

# Modest budgets keep the file to a few seconds: a mutated definition costs a
# full parse of hypercalls.def, random text almost nothing.
FUZZ_SETTINGS = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
MUTATION_SETTINGS = settings(FUZZ_SETTINGS, max_examples=200)


def check(text: str) -> None:
    """The property itself."""
    try:
        interface = load_text(text, NAME)
    except DefinitionError as exc:
        lines = text.split("\n")
        assert exc.diagnostics
        for d in exc.diagnostics:
            assert d.location.file == NAME
            assert 1 <= d.location.line <= len(lines), d.render()
            assert 1 <= d.location.column <= len(lines[d.location.line - 1]) + 1, d.render()
            assert d.message
            assert d.render().startswith(f"{NAME}:{d.location.line}:{d.location.column}: ")
    else:
        assert interface.fingerprint


# -- mutations of the real definition -------------------------------------------

Mutation = Callable[[str], str]


def _on_lines(edit: Callable[[list[str]], None]) -> Mutation:
    def apply(text: str) -> str:
        lines = text.split("\n")
        edit(lines)
        return "\n".join(lines)

    return apply


_KINDS = [
    "delete_line", "duplicate_line", "swap_lines", "insert_chars", "delete_span", "truncate",
    "swap_tokens", "replace_token", "nasty_token",
]
_INSERTED = st.sampled_from(list('{};:="[]#\\.-0x9aZ_ \n\t\r\x00@é')) | st.characters()


@st.composite
def mutations(draw: st.DrawFn) -> Mutation:
    """One edit of the kind a person makes by mistake, or a fuzzer on purpose."""
    kind = draw(st.sampled_from(_KINDS))
    i = draw(st.integers(min_value=0, max_value=len(REAL_LINES) - 1))
    j = draw(st.integers(min_value=0, max_value=len(REAL_LINES) - 1))
    fraction = draw(st.floats(min_value=0, max_value=1))
    if kind == "delete_line":
        return _on_lines(lambda lines: lines.pop(min(i, len(lines) - 1)))
    if kind == "duplicate_line":
        return _on_lines(lambda lines: lines.insert(i, lines[min(j, len(lines) - 1)]))
    if kind == "swap_lines":

        def swap(lines: list[str]) -> None:
            a, b = min(i, len(lines) - 1), min(j, len(lines) - 1)
            lines[a], lines[b] = lines[b], lines[a]

        return _on_lines(swap)
    if kind == "insert_chars":
        inserted = draw(st.text(alphabet=_INSERTED, min_size=1, max_size=4))
        return lambda text: _at(text, fraction, lambda a, b: a + inserted + b)
    if kind == "delete_span":
        length = draw(st.integers(min_value=1, max_value=40))
        return lambda text: _at(text, fraction, lambda a, b: a + b[length:])
    if kind == "truncate":
        return lambda text: text[: int(len(text) * fraction)]
    if kind == "nasty_token":
        category = draw(st.sampled_from(sorted(NASTY)))
        nasty = draw(st.sampled_from(NASTY[category]))
        return lambda text: _replace_nth(text, _KIND.get(category, r"\S"), nasty, i)
    first = draw(st.sampled_from(REAL_TOKENS))
    second = draw(st.sampled_from(REAL_TOKENS))
    if kind == "replace_token":
        return lambda text: _replace_nth(text, re.escape(first), second, i)
    return lambda text: _replace_nth(
        _replace_nth(_replace_nth(text, re.escape(first), "\0", i), re.escape(second), first, j),
        "\0",
        second,
        0,
    )


def _at(text: str, fraction: float, edit: Callable[[str, str], str]) -> str:
    cut = int(len(text) * fraction)
    return edit(text[:cut], text[cut:])


def _replace_nth(text: str, pattern: str, new: str, n: int) -> str:
    """Replace one match of ``pattern`` (the n-th, modulo how many there are)."""
    spans = [m.span() for m in re.finditer(pattern, text)]
    if not spans:
        return text
    start, end = spans[n % len(spans)]
    return text[:start] + new + text[end:]


@MUTATION_SETTINGS
@given(st.lists(mutations(), min_size=1, max_size=4))
def test_mutated_definition_loads_or_is_located(edits: list[Mutation]) -> None:
    text = REAL
    for edit in edits:
        text = edit(text)
    check(text)


# -- random text ----------------------------------------------------------------


@FUZZ_SETTINGS
@given(st.text(max_size=200))
def test_random_text_loads_or_is_located(text: str) -> None:
    check(text)


@FUZZ_SETTINGS
@given(
    st.lists(
        st.sampled_from(REAL_TOKENS)
        | st.sampled_from([token for tokens in NASTY.values() for token in tokens])
        | st.sampled_from(["\n", " "]),
        max_size=60,
    ).map(" ".join)
)
def test_token_soup_loads_or_is_located(text: str) -> None:
    check(text)


def test_the_real_definition_satisfies_the_property() -> None:
    """The unmutated file loads, so the mutation test starts from a valid text."""
    check(REAL)
    assert load_text(REAL, NAME).hypercalls
