"""Every mistake in a module configuration is reported where it is, in words a user can act on.

Each file in ``tests/bad_configs/`` is a module configuration with one mistake
(``several_mistakes.xml`` has three, all reported in one run). Its first lines
say what ``load_module`` must report, one ``<!-- expect: LINE:COLUMN: MESSAGE -->``
per diagnostic in the order they are printed; nothing else may be reported (a
mistake must not drag spurious follow-up errors along). ``part.c`` is the
stand-in program the configurations name. Files named ``xml_*`` are not
well-formed XML, ``xsd_*`` break module.xsd, the others break a semantic check.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from pvgen.config import ConfigError, load_module
from pvgen.diagnostics import Diagnostic, PvgenError
from tests.corpus import Expected, expectations

CORPUS = Path(__file__).resolve().parent / "bad_configs"
CASES = sorted(CORPUS.glob("*.xml"))
_EXPECT = re.compile(r"<!-- expect: (\d+):(\d+): (.+) -->")
_NAMES_ITS_ELEMENT = re.compile(r"<[A-Za-z_][\w.-]*[ >]")


def diagnostics_of(path: Path) -> tuple[Diagnostic, ...]:
    with pytest.raises(ConfigError) as info:
        load_module(path)
    return info.value.diagnostics


def test_corpus_is_there() -> None:
    assert len(CASES) >= 70
    assert (CORPUS / "part.c").is_file()


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_bad_configuration_is_reported_as_expected(path: Path) -> None:
    expected = expectations(path.read_text(encoding="utf-8"), _EXPECT)
    assert expected, f"{path.name} has no '<!-- expect: LINE:COLUMN: MESSAGE -->' line"

    found = diagnostics_of(path)

    assert [Expected(d.location.line, d.location.column, d.message) for d in found] == expected
    assert all(d.location.file == str(path) for d in found)


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_caret_is_under_the_reported_column(path: Path) -> None:
    lines = path.read_text(encoding="utf-8").split("\n")
    for d in diagnostics_of(path):
        header, quoted, caret = d.render().split("\n")
        assert header == f"{path}:{d.location.line}:{d.location.column}: error: {d.message}"
        assert quoted == "    " + lines[d.location.line - 1]
        assert caret == "    " + " " * (d.location.column - 1) + "^"


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_column_points_at_written_text(path: Path) -> None:
    """The caret sits on a character of the element, attribute or text the message is about."""
    lines = path.read_text(encoding="utf-8").split("\n")
    for d in diagnostics_of(path):
        line = lines[d.location.line - 1]
        assert 1 <= d.location.column <= len(line)
        assert not line[d.location.column - 1].isspace(), d.render()


@pytest.mark.parametrize(
    "path", [p for p in CASES if not p.name.startswith("xml_")], ids=lambda p: p.stem
)
def test_message_names_its_element(path: Path) -> None:
    for d in diagnostics_of(path):
        assert _NAMES_ITS_ELEMENT.match(d.message), d.message


def test_several_mistakes_are_reported_in_one_run() -> None:
    found = diagnostics_of(CORPUS / "several_mistakes.xml")
    assert len(found) == 4  # three mistakes; the page-size one also starves the stack


def test_structure_errors_stop_before_the_meaning_is_checked() -> None:
    """A file that breaks module.xsd gets no semantic messages: they would rest on guesses."""
    found = diagnostics_of(CORPUS / "xsd_missing_attribute.xml")
    assert all("no such file" not in d.message for d in found)
    assert len(found) == 1


@pytest.mark.parametrize(
    "case", ["xml_mismatched_tag", "xsd_unknown_attribute", "window_overlap", "several_mistakes"]
)
def test_windows_line_endings_change_nothing_but_the_bytes(case: str, tmp_path: Path) -> None:
    shutil.copy(CORPUS / "part.c", tmp_path / "part.c")
    unix = tmp_path / f"{case}.xml"
    shutil.copy(CORPUS / f"{case}.xml", unix)
    windows = tmp_path / f"{case}.crlf.xml"
    windows.write_bytes(unix.read_bytes().replace(b"\n", b"\r\n"))

    def seen(path: Path) -> list[tuple[int, int, str, str | None]]:
        return [
            (d.location.line, d.location.column, d.message, d.source_line)
            for d in diagnostics_of(path)
        ]

    assert seen(windows) == seen(unix)


def test_a_byte_order_mark_is_not_text(tmp_path: Path) -> None:
    shutil.copy(CORPUS / "part.c", tmp_path / "part.c")
    path = tmp_path / "module.xml"
    path.write_bytes(b"\xef\xbb\xbf" + (CORPUS / "window_overlap.xml").read_bytes())

    found = diagnostics_of(path)

    expected = expectations((CORPUS / "window_overlap.xml").read_text(encoding="utf-8"), _EXPECT)
    assert [Expected(d.location.line, d.location.column, d.message) for d in found] == expected


def test_columns_count_characters_not_bytes(tmp_path: Path) -> None:
    text = (CORPUS / "xsd_bad_direction.xml").read_text(encoding="utf-8")
    expected = expectations(text, _EXPECT)[0]
    comment = "<!--ïé-->"  # 9 characters, 11 bytes, before the error on its line
    path = tmp_path / "module.xml"
    path.write_text(text.replace("    <Sampling_Port Name=\"in\"",
                                 f"    {comment}<Sampling_Port Name=\"in\""), encoding="utf-8")

    [found] = diagnostics_of(path)

    assert (found.location.line, found.location.column) == (
        expected.line,
        expected.column + len(comment),
    )


def test_a_missing_file_is_an_error_without_location(tmp_path: Path) -> None:
    with pytest.raises(PvgenError) as info:
        load_module(tmp_path / "nowhere.xml")

    assert not isinstance(info.value, ConfigError)
    assert info.value.exit_status == 2
    assert str(info.value) == f"pvgen: error: {tmp_path / 'nowhere.xml'}: no such file"


def test_config_errors_exit_with_status_2() -> None:
    assert ConfigError.exit_status == 2
