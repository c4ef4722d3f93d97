"""Definition text → located syntax nodes (pvgen.syntax).

The lark grammar lives in ``grammar/hypercalls.lark``. Every lark failure is
turned into a DefinitionError that names the file, line and column of the
offending character and says in plain words what was expected there. Tokens
the grammar accepts but that cannot be read (a string escape, a number with
a leading zero or too many digits) are reported the same way, all at once.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from importlib import resources
from typing import Any

from lark import Lark, Token, Transformer, UnexpectedCharacters, UnexpectedToken
from lark.lexer import PatternStr

from pvgen import syntax as s
from pvgen.diagnostics import DefinitionError, Diagnostic, Location, SourceText

# How the grammar's regular-expression terminals read in an error message;
# keyword and punctuation terminals are shown as their literal text.
_TERMINAL_WORDS = {
    "NAME": "a name",
    "INT": "a number",
    "STRING": "a string",
    "DIRECTION": "'in'/'out'/'inout'/'shared'",
    "FLAG": "'noreturn'",
    "FASTPATH": "'fastpath'",
    "WHEN": "'when'",
    "ANSWER": "'answer'",
    "WHEN_ACTION": "'refuse'/'end'",
}

# The only escapes a string may contain (a backslash or a quote): anything
# else would mean different things in the C comments and Python docstrings
# the strings end up in.
_ESCAPABLE = '\\"'

# More digits than any 64-bit number needs: refused before int() is asked to
# convert them (Python caps the digits it converts).
_MAX_DIGITS = 20


@cache
def _parser() -> tuple[Lark, _ToSyntax]:
    """The LALR parser, with the syntax builder run as it reduces (no tree is built).

    ``cache=True`` keeps lark's grammar analysis in the temporary directory,
    keyed by the grammar's hash, so later processes skip building the tables.
    Building nodes during the parse instead of transforming a tree afterwards
    halves the parse time of a large definition.
    """
    grammar = resources.files("pvgen.grammar").joinpath("hypercalls.lark").read_text()
    builder = _ToSyntax()
    parser = Lark(
        grammar, parser="lalr", transformer=builder, maybe_placeholders=False, cache=True
    )
    return parser, builder


def parse_text(source: SourceText) -> list[s.Item]:
    """Parse a whole definition; raise DefinitionError on a syntax error."""
    parser, builder = _parser()
    builder.begin(source)
    try:
        items: list[s.Item] = parser.parse(source.text)  # type: ignore[assignment]
    except (UnexpectedCharacters, UnexpectedToken) as exc:
        raise _syntax_error(source, exc) from None
    if builder.diagnostics:
        raise DefinitionError(builder.diagnostics)
    return items


def _terminal_word(name: str) -> str:
    if name in _TERMINAL_WORDS:
        return _TERMINAL_WORDS[name]
    pattern = _parser()[0].get_terminal(name).pattern
    return f"'{pattern.value}'" if isinstance(pattern, PatternStr) else name


def _describe_expected(expected: set[str]) -> str:
    words = sorted({_terminal_word(name) for name in expected if name != "$END"})
    if not words:
        return ""
    if len(words) <= 2:
        return "; expected " + " or ".join(words)
    return "; expected one of " + ", ".join(words)


def _describe_token(token: Token) -> str:
    return "string" if token.type == "STRING" else f"'{token}'"


def _syntax_error(
    source: SourceText, exc: UnexpectedCharacters | UnexpectedToken
) -> DefinitionError:
    if isinstance(exc, UnexpectedCharacters):
        char = source.text[exc.pos_in_stream or 0]
        if char == '"':
            message = "unterminated string (a string ends with '\"' on the line it starts)"
        elif char.isprintable():
            message = f"unexpected character {char!r}"
        else:
            message = f"unexpected character U+{ord(char):04X}"
        return source.error(source.location(exc.line, exc.column), message)
    token = exc.token
    expected = set(exc.accepts or exc.expected)
    if token.type == "$END":
        line, column = _end_of_previous_token(source, len(source.text))
        message = f"unexpected end of file{_describe_expected(expected)}"
        return source.error(source.location(line, column), message)
    unclosed = _unclosed_before(source, token.line or 1)
    if unclosed is not None:
        # A block's '}' is missing: the next item's keyword was read as part of the block.
        opened, keyword = unclosed
        line, column = _end_of_previous_token(source, _line_offset(source, token.line or 1))
        message = (f"missing '}}' to close the '{keyword}' block opened on line {opened}, "
                   f"before line {token.line}")
        return source.error(source.location(line, column), message)
    line, column = _end_of_previous_token(source, token.start_pos or 0)
    if "SEMICOLON" in expected and line < (token.line or 1):
        # The statement ended at a line break without its ';': point where it goes.
        message = f"missing ';' before {_describe_token(token)} on line {token.line}"
        return source.error(source.location(line, column), message)
    message = f"unexpected {_describe_token(token)}{_describe_expected(expected)}"
    return source.error(source.location(token.line or 1, token.column or 1), message)


# A line that begins an item of the definition (``abi NAME``, ``status {``...).
_ITEM_START = re.compile(r"\s*(?:(?:interface|type|enum|struct|abi|hypercall|reject|reserved"
                         r"|drop|renumber)\s+\w|status\s*\{|use\s+\")")


def _unclosed_before(source: SourceText, line: int) -> tuple[int, str] | None:
    """If `line` begins an item while a block is still open, that block's line and keyword:
    a syntax error there comes from the block's missing '}'."""
    lines = source.text.split("\n")
    if not 1 <= line <= len(lines) or not _ITEM_START.match(lines[line - 1]):
        return None
    opened: list[int] = []
    for index, text in enumerate(lines[: line - 1]):
        for char in _code(text):
            if char == "{":
                opened.append(index + 1)
            elif char == "}" and opened:
                opened.pop()
    if not opened:
        return None
    keyword = lines[opened[-1] - 1].split()[0]
    return opened[-1], keyword


def _code(line: str) -> str:
    """A line's code: everything before a comment that is not in a string, with what its
    strings hold blanked (so that neither a '#' nor a brace in a string counts)."""
    code, in_string, escaped = [], False, False
    for char in line:
        if in_string:
            closing = char == '"' and not escaped
            escaped = not escaped and char == "\\"
            in_string = not closing
            code.append(char if closing else " ")
        elif char == "#":
            break
        else:
            in_string = char == '"'
            code.append(char)
    return "".join(code)


def line_end(source: SourceText, line: int) -> Location:
    """Just after the last code on `line` (1-based, a line with code): where a missing ';'
    goes."""
    return source.location(*_end_of_previous_token(source, _line_offset(source, line + 1)))


def _line_offset(source: SourceText, line: int) -> int:
    """Where `line` (1-based) begins in the text."""
    return sum(len(text) + 1 for text in source.text.split("\n")[: line - 1])


def _end_of_previous_token(source: SourceText, offset: int) -> tuple[int, int]:
    """The line and column just after the last token that starts before ``offset``.

    The text before ``offset`` has been read without a lexical error, so its
    strings are all closed and a ``#`` outside them starts a comment.
    """
    lines = source.text[:offset].split("\n")
    for index in range(len(lines) - 1, -1, -1):
        code = _code(lines[index]).rstrip(" \t\f\r")
        if code:
            return index + 1, len(code) + 1
    return 1, 1


def _docs(children: list[Any]) -> str:
    return next((c for c in children if isinstance(c, _Doc)), _Doc("")).text


class _Doc:
    def __init__(self, text: str) -> None:
        self.text = text


class _Tagged:
    """A name whose grammatical role (direction, nullable, feature, fastpath) must survive."""

    def __init__(self, tag: str, name: s.Name) -> None:
        self.tag = tag
        self.name = name


class _ToSyntax(Transformer[Token, list[s.Item]]):
    """Builds pvgen.syntax nodes bottom-up as the LALR parser reduces.

    The upper-case methods are lark's callbacks for the terminals of the same
    name. Unreadable tokens are collected in ``diagnostics`` (and replaced by a
    harmless value) so that one run reports all of them. One builder serves
    every parse; ``begin`` points it at the next source.
    """

    def __init__(self) -> None:
        super().__init__()
        self._source = SourceText("", "<definition>")
        self.diagnostics: list[Diagnostic] = []

    def begin(self, source: SourceText) -> None:
        self._source = source
        self.diagnostics = []

    # -- leaves -------------------------------------------------------------
    def _loc(self, token: Token) -> Location:
        return self._source.location(token.line or 1, token.column or 1)

    def _error(self, token: Token, offset: int, message: str) -> None:
        """Report a problem ``offset`` characters into a (single-line) token."""
        where = self._source.location(token.line or 1, (token.column or 1) + offset)
        self.diagnostics.append(self._source.diagnostic(where, message))

    def NAME(self, token: Token) -> s.Name:
        return s.Name(str(token), self._loc(token))

    def DIRECTION(self, token: Token) -> _Tagged:
        return _Tagged("direction", s.Name(str(token), self._loc(token)))

    def NULLABLE(self, token: Token) -> _Tagged:
        return _Tagged("nullable", s.Name(str(token), self._loc(token)))

    def FLAG(self, token: Token) -> s.Name:
        return s.Name(str(token), self._loc(token))

    def WHEN(self, token: Token) -> s.Name:
        return s.Name(str(token), self._loc(token))

    def ANSWER(self, token: Token) -> s.Name:
        return s.Name(str(token), self._loc(token))

    def WHEN_ACTION(self, token: Token) -> s.Name:
        return s.Name(str(token), self._loc(token))

    def FASTPATH(self, token: Token) -> _Tagged:
        return _Tagged("fastpath", s.Name(str(token), self._loc(token)))

    def INT(self, token: Token) -> s.Number:
        text = str(token)
        hex_digits = text[2:] if text.startswith("0x") else None
        if hex_digits is None and len(text) > 1 and text.startswith("0"):
            self._error(
                token, 0, f"'{text}' starts with 0: write it without the leading zeros "
                "(octal is not supported), or in hex with '0x'"
            )
            return s.Number(0, self._loc(token))
        if len((hex_digits or text).lstrip("0")) > _MAX_DIGITS:
            self._error(token, 0, f"number '{text[:12]}...' is too large")
            return s.Number(0, self._loc(token))
        return s.Number(int(hex_digits, 16) if hex_digits else int(text), self._loc(token))

    def STRING(self, token: Token) -> str:
        body = str(token)[1:-1]
        chars: list[str] = []
        index = 0
        while index < len(body):
            char = body[index]
            if char == "\\":
                escaped = body[index + 1]
                if escaped not in _ESCAPABLE:
                    self._error(
                        token, index + 1,
                        f"unknown escape '\\{escaped}' in a string; only '\\\\' and '\\\"' "
                        "are allowed",
                    )
                chars.append(escaped)
                index += 2
                continue
            if char != "\t" and unicodedata.category(char) in ("Cc", "Cs"):
                self._error(
                    token, index + 1, f"control character U+{ord(char):04X} in a string"
                )
            chars.append(char)
            index += 1
        return "".join(chars)

    def doc(self, children: list[str]) -> _Doc:
        return _Doc(" ".join(part.strip() for part in children))

    def signed_int(self, children: list[Any]) -> s.Number:
        number: s.Number = children[-1]
        if len(children) == 2:
            minus: Token = children[0]
            return s.Number(-number.value, self._loc(minus))
        return number

    # -- items --------------------------------------------------------------
    def start(self, children: list[s.Item]) -> list[s.Item]:
        return children

    def use(self, c: list[Any]) -> s.UseDecl:
        keyword: Token = c[0]
        return s.UseDecl(c[1], self._loc(keyword))

    def drop_kind(self, c: list[Token]) -> str:
        return str(c[0])

    def drop(self, c: list[Any]) -> s.DropDecl:
        return s.DropDecl(c[0], c[1])

    def drop_reserved(self, c: list[s.Number]) -> s.DropDecl:
        return s.DropDecl("reserved", s.Name(str(c[0].value), c[0].location))

    def renumber(self, c: list[Any]) -> s.RenumberDecl:
        return s.RenumberDecl(c[0], c[1])

    def interface(self, c: list[Any]) -> s.InterfaceDecl:
        return s.InterfaceDecl(c[0], c[1], _docs(c))

    def status_code(self, c: list[Any]) -> s.StatusCodeDecl:
        return s.StatusCodeDecl(c[0], c[1], _docs(c))

    def status_block(self, c: list[s.StatusCodeDecl]) -> s.StatusBlock:
        return s.StatusBlock(tuple(c))

    def reject(self, c: list[s.Name]) -> s.RejectDecl:
        return s.RejectDecl(c[0], c[1])

    def type_alias(self, c: list[Any]) -> s.TypeAliasDecl:
        unit = next((u.name for u in c if isinstance(u, _Tagged) and u.tag == "unit"), None)
        return s.TypeAliasDecl(c[0], c[1], _docs(c), unit)

    def time_unit(self, c: list[Any]) -> _Tagged:
        return _Tagged("unit", c[0])

    def enum_member(self, c: list[Any]) -> s.EnumMemberDecl:
        return s.EnumMemberDecl(c[0], c[1], _docs(c))

    def enum(self, c: list[Any]) -> s.EnumDecl:
        members = tuple(m for m in c if isinstance(m, s.EnumMemberDecl))
        return s.EnumDecl(c[0], c[1], _docs(c), members)

    def field(self, c: list[Any]) -> s.FieldDecl:
        return s.FieldDecl(c[0], c[1], _docs(c))

    def struct(self, c: list[Any]) -> s.StructDecl:
        return s.StructDecl(c[0], _docs(c), tuple(f for f in c if isinstance(f, s.FieldDecl)))

    def setting(self, c: list[Any]) -> s.Setting:
        return s.Setting(c[0], tuple(c[1:]))

    def abi(self, c: list[Any]) -> s.AbiDecl:
        settings = tuple(x for x in c if isinstance(x, s.Setting))
        return s.AbiDecl(c[0], c[1], _docs(c), settings)

    def reserved(self, c: list[Any]) -> s.ReservedDecl:
        numbers = [x for x in c if isinstance(x, s.Number)]
        return s.ReservedDecl(numbers[0], numbers[-1], _docs(c))

    def length_param(self, c: list[s.Name]) -> s.LengthDecl:
        return s.LengthDecl(param=c[0])

    def length_const(self, c: list[s.Number]) -> s.LengthDecl:
        return s.LengthDecl(constant=c[0])

    def length_nul(self, c: list[s.Number]) -> s.LengthDecl:
        return s.LengthDecl(nul_max=c[0])

    def param(self, c: list[Any]) -> s.ParamDecl:
        tags = {x.tag: x.name for x in c if isinstance(x, _Tagged)}
        names = [x for x in c if isinstance(x, s.Name)]
        length = next((x for x in c if isinstance(x, s.LengthDecl)), None)
        return s.ParamDecl(
            tags.get("direction"), names[0], names[1], length, tags.get("nullable"), _docs(c)
        )

    def returns(self, c: list[Any]) -> s.ReturnsDecl:
        names = [x for x in c if isinstance(x, s.Name)]
        if len(names) == 2:
            return s.ReturnsDecl(names[0], names[1], _docs(c))
        return s.ReturnsDecl(None, names[0], _docs(c))

    def flag(self, c: list[s.Name]) -> s.Name:
        return c[0]

    def fastpath(self, c: list[Any]) -> s.FastPathDecl:
        keyword: _Tagged = c[0]
        return s.FastPathDecl(keyword.name, c[1])

    def when(self, c: list[Any]) -> s.WhenDecl:
        keyword, param, value, action, *rest = c
        status = next((x for x in rest if isinstance(x, s.Name)), None)
        return s.WhenDecl(keyword, param, value, action, status, _docs(rest))

    def answer(self, c: list[Any]) -> s.AnswerDecl:
        return s.AnswerDecl(c[0], c[1], c[2], _docs(c[3:]))

    def feature(self, c: list[s.Name]) -> _Tagged:
        return _Tagged("feature", c[0])

    def hypercall(self, c: list[Any]) -> s.HypercallDecl:
        name, number = c[0], c[1]
        body = c[2:]
        return s.HypercallDecl(
            name=name,
            number=number,
            doc=_docs(body),
            params=tuple(x for x in body if isinstance(x, s.ParamDecl)),
            returns=tuple(x for x in body if isinstance(x, s.ReturnsDecl)),
            flags=tuple(x for x in body if isinstance(x, s.Name)),
            fastpaths=tuple(x for x in body if isinstance(x, s.FastPathDecl)),
            features=tuple(x.name for x in body if isinstance(x, _Tagged)),
            location=name.location,
            whens=tuple(x for x in body if isinstance(x, s.WhenDecl)),
            answers=tuple(x for x in body if isinstance(x, s.AnswerDecl)),
        )
