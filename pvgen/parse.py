"""Definition text → located syntax nodes (pvgen.syntax).

The lark grammar lives in ``grammar/hypercalls.lark``. Every lark failure is
turned into a DefinitionError that names the file, line and column of the
offending character and says in plain words what was expected there.
"""

from __future__ import annotations

import ast
from functools import cache
from importlib import resources
from typing import Any

from lark import Lark, Token, Transformer, UnexpectedCharacters, UnexpectedEOF, UnexpectedInput
from lark import UnexpectedToken

from pvgen import syntax as s
from pvgen.diagnostics import DefinitionError, Location, SourceText

# How the grammar's terminal names read in an error message.
_TERMINAL_WORDS = {
    "NAME": "a name",
    "INT": "a number",
    "STRING": "a string",
    "DIRECTION": "'in', 'out' or 'inout'",
    "NULLABLE": "'nullable'",
    "FLAG": "a flag ('noreturn' or 'fastpath')",
    "MINUS": "'-'",
    "SEMICOLON": "';'",
    "LBRACE": "'{'",
    "RBRACE": "'}'",
    "LSQB": "'['",
    "RSQB": "']'",
    "COLON": "':'",
    "EQUAL": "'='",
    "__ANON_0": "'..'",
}


@cache
def _parser() -> Lark:
    grammar = resources.files("pvgen.grammar").joinpath("hypercalls.lark").read_text()
    return Lark(grammar, parser="lalr", propagate_positions=True, maybe_placeholders=False)


def parse_text(source: SourceText) -> list[s.Item]:
    """Parse a whole definition; raise DefinitionError on a syntax error."""
    try:
        tree = _parser().parse(source.text)
    except UnexpectedInput as exc:
        raise _syntax_error(source, exc) from None
    items: list[s.Item] = _ToSyntax(source).transform(tree)
    return items


def _describe_expected(expected: set[str]) -> str:
    words = sorted({_TERMINAL_WORDS.get(name, _literal(name)) for name in expected})
    if not words:
        return ""
    if len(words) == 1:
        return f"; expected {words[0]}"
    return "; expected one of " + ", ".join(words)


def _literal(terminal: str) -> str:
    """Lark names anonymous keyword terminals after the keyword in upper case."""
    return f"'{terminal.lower()}'"


def _syntax_error(source: SourceText, exc: UnexpectedInput) -> DefinitionError:
    if isinstance(exc, UnexpectedToken) and exc.token.type != "$END":
        token = exc.token
        found = f"'{token}'" if token.type != "STRING" else "a string"
        message = f"unexpected {found}{_describe_expected(exc.expected)}"
        location = source.location(exc.line, exc.column)
    elif isinstance(exc, UnexpectedCharacters):
        char = source.text[exc.pos_in_stream] if exc.pos_in_stream < len(source.text) else ""
        shown = repr(char) if char.isprintable() else f"character U+{ord(char):04X}"
        message = f"unexpected character {shown}"
        if char == '"':
            message = "unterminated string"
        location = source.location(exc.line, exc.column)
    else:
        expected = exc.expected if isinstance(exc, UnexpectedToken | UnexpectedEOF) else set()
        message = f"unexpected end of file{_describe_expected(set(expected))}"
        location = _end_location(source)
    return source.error(location, message)


def _end_location(source: SourceText) -> Location:
    lines = source.text.splitlines() or [""]
    return source.location(len(lines), len(lines[-1]) + 1)


def _docs(children: list[Any]) -> str:
    return next((c for c in children if isinstance(c, _Doc)), _Doc("")).text


class _Doc:
    def __init__(self, text: str) -> None:
        self.text = text


class _Tagged:
    """A name whose grammatical role (direction, nullable, feature) must survive."""

    def __init__(self, tag: str, name: s.Name) -> None:
        self.tag = tag
        self.name = name


class _ToSyntax(Transformer[Token, list[s.Item]]):
    """Builds pvgen.syntax nodes bottom-up from the lark tree."""

    def __init__(self, source: SourceText) -> None:
        super().__init__()
        self._source = source

    # -- leaves -------------------------------------------------------------
    def _loc(self, token: Token) -> Location:
        return self._source.location(token.line or 1, token.column or 1)

    def NAME(self, token: Token) -> s.Name:  # noqa: N802 - lark callback naming
        return s.Name(str(token), self._loc(token))

    def DIRECTION(self, token: Token) -> _Tagged:  # noqa: N802
        return _Tagged("direction", s.Name(str(token), self._loc(token)))

    def NULLABLE(self, token: Token) -> _Tagged:  # noqa: N802
        return _Tagged("nullable", s.Name(str(token), self._loc(token)))

    def FLAG(self, token: Token) -> s.Name:  # noqa: N802
        return s.Name(str(token), self._loc(token))

    def INT(self, token: Token) -> s.Number:  # noqa: N802
        return s.Number(int(str(token), 0), self._loc(token))

    def STRING(self, token: Token) -> str:  # noqa: N802
        text: str = ast.literal_eval(str(token))
        return text

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

    def interface(self, c: list[Any]) -> s.InterfaceDecl:
        return s.InterfaceDecl(c[0], c[1], _docs(c))

    def status_code(self, c: list[Any]) -> s.StatusCodeDecl:
        return s.StatusCodeDecl(c[0], c[1], _docs(c))

    def status_block(self, c: list[s.StatusCodeDecl]) -> s.StatusBlock:
        return s.StatusBlock(tuple(c))

    def reject(self, c: list[s.Name]) -> s.RejectDecl:
        return s.RejectDecl(c[0], c[1])

    def type_alias(self, c: list[Any]) -> s.TypeAliasDecl:
        return s.TypeAliasDecl(c[0], c[1], _docs(c))

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
            features=tuple(x.name for x in body if isinstance(x, _Tagged)),
            location=name.location,
        )
