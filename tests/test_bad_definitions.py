"""Every kind of mistake in a definition is reported where it is, in words a user can act on.

Each file in ``tests/bad_definitions/`` is a definition with one mistake. Its
first lines say what pvgen must report, one ``# expect: LINE:COLUMN: MESSAGE``
per diagnostic, in the order they are printed; nothing else may be reported
(an error must not drag spurious follow-up errors along).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from pvgen.definition import load_text
from pvgen.diagnostics import DefinitionError, Diagnostic
from tests.corpus import Expected, expectations

CORPUS = Path(__file__).resolve().parent / "bad_definitions"
CASES = sorted(CORPUS.glob("*.def"))
_EXPECT = re.compile(r"# expect: (\d+):(\d+): (.+)")


def diagnostics_of(text: str, name: str) -> tuple[Diagnostic, ...]:
    with pytest.raises(DefinitionError) as info:
        load_text(text, name)
    return info.value.diagnostics


def test_corpus_is_there() -> None:
    assert len(CASES) >= 60


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_bad_definition_is_reported_as_expected(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    expected = expectations(text, _EXPECT)
    assert expected, f"{path.name} has no '# expect: LINE:COLUMN: MESSAGE' line"

    found = diagnostics_of(text, path.name)

    assert [Expected(d.location.line, d.location.column, d.message) for d in found] == expected
    assert all(d.location.file == path.name for d in found)


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_caret_is_under_the_reported_column(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    lines = text.split("\n")
    for d in diagnostics_of(text, path.name):
        source_line = lines[d.location.line - 1]
        header, quoted, caret = d.render().split("\n")
        assert header == f"{path.name}:{d.location.line}:{d.location.column}: error: {d.message}"
        assert quoted == "    " + source_line.expandtabs(1)
        assert caret == "    " + " " * (d.location.column - 1) + "^"


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_column_points_at_a_token(path: Path) -> None:
    """The caret sits on a character of the offending token, or just after the last one
    (where a missing ';' or the rest of a truncated file belongs)."""
    text = path.read_text(encoding="utf-8")
    lines = text.split("\n")
    for d in diagnostics_of(text, path.name):
        line = lines[d.location.line - 1]
        assert 1 <= d.location.column <= len(line) + 1
        if d.location.column <= len(line):
            assert not line[d.location.column - 1].isspace(), d.render()
        else:
            assert line.strip(), d.render()


@pytest.mark.parametrize(
    "case", ["syntax_missing_semicolon_end_of_line", "syntax_stray_character", "duplicate_type"]
)
def test_windows_line_endings_change_nothing_but_the_bytes(case: str) -> None:
    text = (CORPUS / f"{case}.def").read_text(encoding="utf-8")
    unix = diagnostics_of(text, "x.def")
    windows = diagnostics_of(text.replace("\n", "\r\n"), "x.def")
    assert [d.render() for d in windows] == [d.render() for d in unix]


def test_line_numbers_count_line_feeds_only() -> None:
    """A form feed is whitespace, not a line break: the quoted line is the reported one."""
    text = (CORPUS / "duplicate_type.def").read_text(encoding="utf-8")
    expected = expectations(text, _EXPECT)[0]
    found = diagnostics_of(text.replace("\n\n", "\n\f\n", 1), "x.def")[0]
    assert (found.location.line, found.location.column) == (expected.line, expected.column)
    assert found.source_line is not None and found.source_line.startswith("type handle = u16")


# -- through the real command ---------------------------------------------------


def run_gen(definition: Path, out: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pvgen.cli", "gen", "--def", str(definition), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    "case",
    [
        "syntax_missing_semicolon_end_of_line",
        "syntax_unterminated_string",
        "syntax_unexpected_eof",
        "duplicate_hypercall_number",
        "length_wider_than_32_bits",
        "too_many_argument_words_64bit",
        "abi_several_without_default",
        "missing_reject",
    ],
)
def test_cli_reports_definition_errors_without_traceback(case: str, tmp_path: Path) -> None:
    definition = tmp_path / "hypercalls.def"
    text = (CORPUS / f"{case}.def").read_text(encoding="utf-8")
    definition.write_text(text, encoding="utf-8")
    out = tmp_path / "out"

    result = run_gen(definition, out)

    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    rendered = "\n".join(d.render() for d in diagnostics_of(text, str(definition)))
    assert result.stderr.strip() == rendered
    first = expectations(text, _EXPECT)[0]
    assert f"{definition}:{first.line}:{first.column}: error: {first.message}" in result.stderr
    assert not out.exists(), "nothing may be generated from a bad definition"
    assert not (tmp_path / "hypercalls.lock.json").exists()


def test_cli_reports_a_missing_definition_without_traceback(tmp_path: Path) -> None:
    result = run_gen(tmp_path / "nowhere.def", tmp_path / "out")

    assert result.returncode == 2
    assert "Traceback" not in result.stdout + result.stderr
    assert "nowhere.def: no such file" in result.stderr


def test_cli_reads_a_definition_saved_with_a_byte_order_mark(tmp_path: Path) -> None:
    definition = tmp_path / "hypercalls.def"
    text = (CORPUS / "duplicate_hypercall_number.def").read_text(encoding="utf-8")
    definition.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))

    result = run_gen(definition, tmp_path / "out")

    expected = expectations(text, _EXPECT)[0]
    assert result.returncode == 2
    assert f"{definition}:{expected.line}:{expected.column}: error: {expected.message}" in (
        result.stderr
    )
