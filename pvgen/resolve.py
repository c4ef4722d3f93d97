"""Syntax nodes → the Interface model, with every semantic check.

Errors are collected rather than raised one at a time, so that a user fixing
a definition sees all of its problems in one run. Each message names the
offending token's location.
"""

from __future__ import annotations

import keyword
from collections.abc import Iterable, Sequence
from itertools import pairwise

from pvgen import model as m
from pvgen import syntax as s
from pvgen.arch import ARCHITECTURES, Architecture, TrapInstruction
from pvgen.diagnostics import DefinitionError, Diagnostic, Location, SourceText
from pvgen.parse import line_end
from pvgen.resolve_rules import resolve_rules

_MAX_NUMBER = 0xFFFF_FFFF
# Names become C and Python identifiers in the generated code, where these
# words would not compile.
_C_KEYWORDS = (
    "auto", "break", "case", "char", "const", "continue", "default", "do", "double", "else",
    "enum", "extern", "float", "for", "goto", "if", "inline", "int", "long", "register",
    "restrict", "return", "short", "signed", "sizeof", "static", "struct", "switch", "typedef",
    "union", "unsigned", "void", "volatile", "while", "_Alignas", "_Alignof", "_Atomic", "_Bool",
    "_Complex", "_Generic", "_Imaginary", "_Noreturn", "_Static_assert", "_Thread_local",
    "alignas", "alignof", "bool", "constexpr", "false", "nullptr", "static_assert", "thread_local",
    "true", "typeof", "typeof_unqual",
)
_KEYWORDS = frozenset(keyword.kwlist) | frozenset(_C_KEYWORDS)
_FASTPATH_ROLES = {role.value: role for role in m.FastPathRole}
# The call that claimed each fast-path role: its ``fastpath`` statement and its name.
_Roles = dict[m.FastPathRole, tuple[s.FastPathDecl, str]]
_ABI_SETTINGS = ("trap", "number", "arguments", "return", "word", "split64", "clobbers", "default")
_REQUIRED_ABI_SETTINGS = ("trap", "number", "arguments", "return", "word")


class _Collector:
    def __init__(self, source: SourceText) -> None:
        self.source = source
        self.diagnostics: list[Diagnostic] = []

    def error(self, location: Location, message: str) -> None:
        self.diagnostics.append(self.source.diagnostic(location, message))

    def identifier(self, name: s.Name, what: str) -> bool:
        """Check a name that generated code uses as an identifier; False if it cannot be one."""
        if name.text in _KEYWORDS:
            self.error(
                name.location,
                f"{what} '{name.text}' is a C or Python keyword and cannot name anything in "
                "the generated code",
            )
            return False
        return True


def resolve(items: Sequence[s.Item], source: SourceText) -> m.Interface:
    """Build the model; raise DefinitionError listing every problem found."""
    resolver = _Resolver(source)
    interface = resolver.run(items)
    if resolver.errors.diagnostics or interface is None:
        raise DefinitionError(resolver.errors.diagnostics)
    return interface


# C's enum constants are ints (C99 6.7.2.2): the generated headers spell members and call
# numbers as them.
C_INT_MIN, C_INT_MAX = -(1 << 31), (1 << 31) - 1
_MAX_CALL_NUMBER = C_INT_MAX

# How many aliases may stand between a type and what it finally is: the model walks the chain
# on each question (size, alignment, the resolved type), and no real interface needs more.
MAX_ALIAS_DEPTH = 32


def _alias_depth(t: m.Type) -> int:
    depth = 0
    while isinstance(t, m.Alias):
        t, depth = t.target, depth + 1
    return depth


class _Resolver:
    def __init__(self, source: SourceText) -> None:
        self.source = source
        self.errors = _Collector(source)
        self.types: dict[str, m.Type] = dict(m.BUILTIN_SCALARS)
        self.type_locations: dict[str, Location] = {}
        # Types declared further down (a use before the declaration gets its
        # own message), the one being declared, and those whose declaration
        # failed (their uses are not reported again).
        self.upcoming: dict[str, Location] = {}
        self.declaring: str | None = None
        self.broken: dict[str, Location] = {}
        self.status_locations: dict[str, Location] = {}

    # -- driver ---------------------------------------------------------------
    def run(self, items: Sequence[s.Item]) -> m.Interface | None:
        decl = self._interface_decl(items)
        status = self._status([i for i in items if isinstance(i, s.StatusBlock)], decl)
        if status is not None:
            self.types["status"] = status
        type_decls = [
            i for i in items if isinstance(i, s.TypeAliasDecl | s.EnumDecl | s.StructDecl)
        ]
        for type_decl in reversed(type_decls):
            self.upcoming[type_decl.name.text] = type_decl.name.location
        for type_decl in type_decls:
            self._declare_type(type_decl)
        rejects = self._rejects([i for i in items if isinstance(i, s.RejectDecl)], status, decl)
        abis = self._abis([i for i in items if isinstance(i, s.AbiDecl)], decl)
        reserved = tuple(self._reserved(i) for i in items if isinstance(i, s.ReservedDecl))
        hypercalls = self._hypercalls(
            [i for i in items if isinstance(i, s.HypercallDecl)], reserved, abis
        )
        if decl is not None and not any(isinstance(i, s.HypercallDecl) for i in items):
            self.errors.error(decl.name.location, "the interface has no hypercall: declare at "
                              "least one ('hypercall NAME = NUMBER \"what it does\" { }')")
        if decl is None or status is None or rejects is None:
            return None
        user_types = tuple(
            t for name, t in self.types.items()
            if name in self.type_locations and isinstance(t, m.Alias | m.Enum | m.Struct)
        )
        return m.Interface(
            name=decl.name.text,
            version=decl.version.value,
            doc=decl.doc,
            source=self.source.name,
            status=status,
            rejects=rejects,
            types=user_types,
            abis=abis,
            reserved=reserved,
            hypercalls=tuple(sorted(hypercalls, key=lambda h: h.number)),
            locations={
                "interface": decl.name.location,
                **{f"status:{name}": loc for name, loc in self.status_locations.items()},
                **{f"abi:{abi.name}": abi.location for abi in abis},
                **{f"type:{name}": loc for name, loc in self.type_locations.items()},
                **{f"hypercall:{h.name}": h.location for h in hypercalls},
            },
        )

    def _start(self) -> Location:
        return self.source.location(1, 1)

    # -- interface and status -------------------------------------------------
    def _interface_decl(self, items: Sequence[s.Item]) -> s.InterfaceDecl | None:
        decls = [i for i in items if isinstance(i, s.InterfaceDecl)]
        if not decls:
            self.errors.error(
                self._start(), "no 'interface NAME version N;' declaration in the definition"
            )
            return None
        for extra in decls[1:]:
            self.errors.error(
                extra.name.location,
                f"second interface declaration (the first, '{decls[0].name.text}', is at "
                f"line {decls[0].name.location.line}); a definition describes one interface",
            )
        decl = decls[0]
        if not 0 <= decl.version.value <= _MAX_NUMBER:
            self.errors.error(decl.version.location, "interface version must fit in 32 bits")
        return decl

    def _status(
        self, blocks: list[s.StatusBlock], decl: s.InterfaceDecl | None
    ) -> m.Enum | None:
        codes = [c for b in blocks for c in b.codes]
        if not codes:
            where = decl.name.location if decl else self._start()
            self.errors.error(where, "no status codes: add a 'status { OK = 0; ... }' block")
            return None
        members = self._enum_members(codes, m.BUILTIN_SCALARS["i32"], "status code")
        self.status_locations = {c.name.text: c.name.location for c in reversed(codes)}
        return m.Enum("status", m.BUILTIN_SCALARS["i32"], members, "Status codes.", True)

    def _enum_members(
        self,
        decls: Iterable[s.EnumMemberDecl | s.StatusCodeDecl],
        base: m.Scalar,
        what: str,
    ) -> tuple[m.EnumMember, ...]:
        members: list[m.EnumMember] = []
        names: dict[str, Location] = {}
        values: dict[int, str] = {}
        for d in decls:
            if d.name.text in names:
                self.errors.error(
                    d.name.location,
                    f"duplicate {what} '{d.name.text}' (first defined at line "
                    f"{names[d.name.text].line})",
                )
                continue
            names[d.name.text] = d.name.location
            if not self.errors.identifier(d.name, what):
                continue
            # A member with a bad value is reported but kept, so that uses of
            # its name are not reported as unknown too.
            if d.value.value in values:
                self.errors.error(
                    d.value.location,
                    f"{what} value {d.value.value} is already used by '{values[d.value.value]}'",
                )
            elif not base.min <= d.value.value <= base.max:
                self.errors.error(
                    d.value.location,
                    f"{what} value {d.value.value} does not fit in {base.name} "
                    f"({base.min}..{base.max})",
                )
            elif not C_INT_MIN <= d.value.value <= C_INT_MAX:
                self.errors.error(
                    d.value.location,
                    f"{what} value {d.value.value} does not fit C's int "
                    f"({C_INT_MIN}..{C_INT_MAX}), the type of the generated enum constants",
                )
            else:
                values[d.value.value] = d.name.text
            members.append(m.EnumMember(d.name.text, d.value.value, d.doc))
        return tuple(members)

    def _rejects(
        self,
        decls: list[s.RejectDecl],
        status: m.Enum | None,
        decl: s.InterfaceDecl | None,
    ) -> dict[m.RejectEvent, m.EnumMember] | None:
        known = {e.value: e for e in m.RejectEvent}
        mentioned: dict[m.RejectEvent, Location] = {}
        rejects: dict[m.RejectEvent, m.EnumMember] = {}
        for d in decls:
            event = known.get(d.event.text)
            if event is None:
                self.errors.error(
                    d.event.location,
                    f"unknown rejection '{d.event.text}'; expected one of "
                    + ", ".join(sorted(known)),
                )
                continue
            if event in mentioned:
                self.errors.error(
                    d.event.location,
                    f"'{event.value}' is already given a status at line {mentioned[event].line}",
                )
                continue
            mentioned[event] = d.event.location
            member = status.member(d.status.text) if status else None
            if member is None:
                if status is not None:
                    self.errors.error(
                        d.status.location,
                        f"unknown status code '{d.status.text}'; the status block defines "
                        + ", ".join(c.name for c in status.members),
                    )
                continue
            rejects[event] = member
        if status is None:
            return None
        where = decl.name.location if decl else self._start()
        for event in m.RejectEvent:
            if event not in mentioned:
                self.errors.error(
                    where,
                    f"no 'reject {event.value} = STATUS;': the dispatchers need the status to "
                    f"return when {event.meaning}",
                )
        return rejects if len(rejects) == len(m.RejectEvent) else None

    # -- types ----------------------------------------------------------------
    def _lookup_type(self, name: s.Name) -> m.Type | None:
        found = self.types.get(name.text)
        if found is not None or name.text in self.broken:
            return found
        if name.text == self.declaring:
            self.errors.error(name.location, f"type '{name.text}' cannot refer to itself")
        elif name.text in self.upcoming:
            self.errors.error(
                name.location,
                f"type '{name.text}' is used before its declaration at line "
                f"{self.upcoming[name.text].line}; declare it first",
            )
        else:
            self.errors.error(name.location, f"unknown type '{name.text}'")
        return None

    def _declare_type(self, decl: s.TypeAliasDecl | s.EnumDecl | s.StructDecl) -> None:
        name = decl.name
        self.upcoming.pop(name.text, None)
        if name.text in self.types or name.text in self.broken:
            first = self.type_locations.get(name.text) or self.broken.get(name.text)
            if first is not None:
                where = f"first defined at line {first.line}"
            elif name.text == "status":
                where = "the type of the status codes"
            else:
                where = "a built-in type"
            self.errors.error(name.location, f"duplicate type '{name.text}' ({where})")
            return
        self.declaring = name.text
        built = self._build_type(decl) if self.errors.identifier(name, "type") else None
        self.declaring = None
        if built is None:
            self.broken[name.text] = name.location
        else:
            self.types[name.text] = built
            self.type_locations[name.text] = name.location

    def _build_type(
        self, decl: s.TypeAliasDecl | s.EnumDecl | s.StructDecl
    ) -> m.Alias | m.Enum | m.Struct | None:
        if isinstance(decl, s.TypeAliasDecl):
            target = self._lookup_type(decl.target)
            if target is None or (decl.unit is not None and not self._time_unit(decl, target)):
                return None
            if _alias_depth(target) >= MAX_ALIAS_DEPTH:
                self.errors.error(decl.target.location, f"an alias of an alias more than "
                                  f"{MAX_ALIAS_DEPTH} deep; name a type nearer the built-in one")
                return None
            unit = decl.unit.text if decl.unit is not None else None
            return m.Alias(decl.name.text, target, decl.doc, unit)
        if isinstance(decl, s.EnumDecl):
            return self._enum(decl)
        return self._struct(decl)

    def _time_unit(self, decl: s.TypeAliasDecl, target: m.Type) -> bool:
        """A unit names one of TIME_UNITS and counts an integer."""
        assert decl.unit is not None
        if decl.unit.text not in m.TIME_UNITS:
            self.errors.error(
                decl.unit.location,
                f"unknown time unit '{decl.unit.text}'; use one of "
                f"{', '.join(m.TIME_UNITS)}",
            )
            return False
        if not _is_plain_integer(target):
            self.errors.error(
                decl.target.location,
                f"a time with a unit counts in an integer type, not '{target.name}'",
            )
            return False
        return True

    def _enum(self, decl: s.EnumDecl) -> m.Enum | None:
        base = self._lookup_type(decl.base)
        if base is None:
            return None
        resolved = base.resolved
        if not isinstance(resolved, m.Scalar) or resolved.kind is not m.ScalarKind.INT:
            self.errors.error(
                decl.base.location, f"enum base type must be an integer type, not '{base.name}'"
            )
            return None
        if not decl.members:
            self.errors.error(decl.name.location, f"enum '{decl.name.text}' has no members")
            return None
        members = self._enum_members(decl.members, resolved, "enum member")
        return m.Enum(decl.name.text, resolved, members, decl.doc)

    def _struct(self, decl: s.StructDecl) -> m.Struct | None:
        if not decl.fields:
            self.errors.error(decl.name.location, f"struct '{decl.name.text}' has no fields")
            return None
        fields: list[m.Field] = []
        offset = 0
        seen: dict[str, Location] = {}
        ok = True
        for f in decl.fields:
            ftype = self._lookup_type(f.type)
            if ftype is None:
                ok = False
                continue
            if f.name.text in seen:
                self.errors.error(
                    f.name.location,
                    f"duplicate field '{f.name.text}' (first defined at line "
                    f"{seen[f.name.text].line})",
                )
                ok = False
                continue
            seen[f.name.text] = f.name.location
            if not self.errors.identifier(f.name, "field"):
                ok = False
                continue
            if offset % ftype.align:
                self.errors.error(
                    f.name.location,
                    f"field '{f.name.text}' would sit at offset {offset}, not a multiple of its "
                    f"alignment {ftype.align}; add explicit padding fields so the layout is the "
                    "same on every ABI",
                )
                ok = False
            fields.append(m.Field(f.name.text, ftype, offset, f.doc))
            offset += ftype.size
        if not ok:
            return None
        struct = m.Struct(decl.name.text, tuple(fields), decl.doc)
        if struct.size % struct.align:
            self.errors.error(
                decl.name.location,
                f"struct '{decl.name.text}' is {struct.size} bytes, not a multiple of its "
                f"alignment {struct.align}; add a trailing padding field",
            )
            return None
        return struct

    # -- ABIs -----------------------------------------------------------------
    def _abis(self, decls: list[s.AbiDecl], decl: s.InterfaceDecl | None) -> tuple[m.Abi, ...]:
        if not decls:
            where = decl.name.location if decl else self._start()
            self.errors.error(
                where,
                "no ABI: add an 'abi NAME for ARCH { ... }' block saying how hypercalls trap",
            )
            return ()
        abis: list[m.Abi] = []
        names: dict[str, Location] = {}
        for d in decls:
            if d.name.text in names:
                self.errors.error(
                    d.name.location,
                    f"duplicate ABI '{d.name.text}' (first defined at line "
                    f"{names[d.name.text].line})",
                )
                continue
            names[d.name.text] = d.name.location
            abi = _AbiBuilder(d, self.errors).build()
            if abi is not None:
                abis.append(abi)
        if len(abis) == len(decls):
            # Otherwise a broken ABI (perhaps the default one) is reported already.
            self._check_defaults(abis)
        return tuple(abis)

    def _check_defaults(self, abis: list[m.Abi]) -> None:
        by_arch: dict[str, list[m.Abi]] = {}
        for abi in abis:
            by_arch.setdefault(abi.arch.name, []).append(abi)
        for arch, group in by_arch.items():
            defaults = [a for a in group if a.default]
            if len(group) > 1 and len(defaults) != 1:
                where = (defaults[1] if len(defaults) > 1 else group[1]).location
                self.errors.error(
                    where,
                    f"{len(group)} ABIs for {arch} and {len(defaults)} marked 'default;': "
                    "mark exactly one, the one guests use unless they select another",
                )

    # -- reserved numbers -------------------------------------------------------
    def _reserved(self, decl: s.ReservedDecl) -> m.ReservedRange:
        for bound in dict.fromkeys((decl.first, decl.last)):
            if bound.value > _MAX_CALL_NUMBER:
                self.errors.error(
                    bound.location, f"reserved number {bound.value} is beyond the largest "
                    f"hypercall number ({_MAX_CALL_NUMBER}, C's largest int)"
                )
        if decl.last.value < decl.first.value:
            self.errors.error(
                decl.last.location,
                f"reserved range ends ({decl.last.value}) before it starts ({decl.first.value})",
            )
        return m.ReservedRange(decl.first.value, decl.last.value, decl.doc, decl.first.location)

    # -- hypercalls ---------------------------------------------------------------
    def _hypercalls(
        self,
        decls: list[s.HypercallDecl],
        reserved: tuple[m.ReservedRange, ...],
        abis: tuple[m.Abi, ...],
    ) -> list[m.Hypercall]:
        calls: list[m.Hypercall] = []
        names: dict[str, Location] = {}
        numbers: dict[int, str] = {}
        roles: _Roles = {}
        for d in decls:
            number = d.number.value
            if d.name.text in names:
                self.errors.error(
                    d.name.location,
                    f"duplicate hypercall '{d.name.text}' (first defined at line "
                    f"{names[d.name.text].line})",
                )
                continue
            names[d.name.text] = d.name.location
            if not self.errors.identifier(d.name, "hypercall"):
                continue
            if number in numbers:
                self.errors.error(
                    d.number.location,
                    f"duplicate hypercall number {number} (already used by '{numbers[number]}')",
                )
                continue
            if number > _MAX_CALL_NUMBER:
                self.errors.error(d.number.location, f"hypercall number {number} does not "
                                  f"fit C's int (at most {_MAX_CALL_NUMBER}), the type of the "
                                  "generated call numbers")
                continue
            blocked = next((r for r in reserved if number in r), None)
            if blocked is not None:
                why = f": {blocked.doc}" if blocked.doc else ""
                self.errors.error(
                    d.number.location,
                    f"hypercall number {number} is reserved (line {blocked.location.line}{why}) "
                    "and may never be reused",
                )
                continue
            numbers[number] = d.name.text
            call = self._hypercall(d, roles)
            if call is not None:
                self._check_words(call, d, abis)
                calls.append(call)
        self._check_fastpath_roles(roles)
        return calls

    def _hypercall(self, d: s.HypercallDecl, roles: _Roles) -> m.Hypercall | None:
        flags: set[str] = set()
        for flag in d.flags:
            if flag.text in flags:
                self.errors.error(flag.location, f"flag '{flag.text}' given twice")
            flags.add(flag.text)
        role = self._fastpath_role(d, "noreturn" in flags, roles)
        params = self._params(d)
        returns_ok, returns = self._returns(d, "noreturn" in flags)
        features = tuple(dict.fromkeys(f.text for f in d.features))
        if params is None or not returns_ok:
            return None
        status = self.types.get("status")
        rules = (resolve_rules(d, params, returns, status, self.errors)
                 if isinstance(status, m.Enum) else ((), ()))
        if rules is None:
            return None
        call = m.Hypercall(
            name=d.name.text,
            number=d.number.value,
            doc=d.doc,
            params=params,
            returns=returns,
            fastpath=role,
            features=features,
            location=d.name.location,
            rules=rules[0],
            answers=rules[1],
        )
        if role is not None:
            _FastPathShape(d, call, self.errors).check(role)
        return call

    # -- the fast path ------------------------------------------------------------
    def _fastpath_role(
        self, d: s.HypercallDecl, noreturn: bool, roles: _Roles
    ) -> m.FastPathRole | None:
        """The role of a call's ``fastpath ROLE;``, once it is known to be its own."""
        if not d.fastpaths:
            return None
        decl = d.fastpaths[0]
        for extra in d.fastpaths[1:]:
            self.errors.error(
                extra.keyword.location,
                f"hypercall '{d.name.text}' already has 'fastpath {decl.role.text}' (line "
                f"{decl.keyword.location.line}); a call plays one fast-path role",
            )
        role = _FASTPATH_ROLES.get(decl.role.text)
        if role is None:
            self.errors.error(
                decl.role.location,
                f"unknown fastpath role '{decl.role.text}'; expected one of "
                + ", ".join(_FASTPATH_ROLES),
            )
            return None
        if noreturn:
            self.errors.error(
                decl.keyword.location,
                f"a 'noreturn' hypercall cannot take a fast path: 'fastpath {role.value}' "
                "needs a call that returns",
            )
            return None
        first = roles.get(role)
        if first is not None:
            self.errors.error(
                decl.role.location,
                f"fastpath role '{role.value}' is already played by '{first[1]}' (line "
                f"{first[0].role.location.line}); "
                + (
                    "an interface shares one vCPU area"
                    if role is m.FastPathRole.SHARE
                    else "each role belongs to one call"
                ),
            )
            return None
        roles[role] = (decl, d.name.text)
        return role

    def _check_fastpath_roles(self, roles: _Roles) -> None:
        """What the roles need from the whole interface: a share call, a success status."""
        if not roles:
            return
        share = m.FastPathRole.SHARE
        for role, (decl, name) in roles.items():
            if role is not share and share not in roles:
                self.errors.error(
                    decl.role.location,
                    f"'fastpath {role.value}' of '{name}' keeps the level in the shared vCPU "
                    "area, but no call shares one: add a call with 'fastpath share;'",
                )
        status = self.types.get("status")
        if isinstance(status, m.Enum) and not any(c.value == 0 for c in status.members):
            decl = min((d for d, _ in roles.values()), key=lambda d: d.role.location)
            self.errors.error(
                decl.role.location,
                f"'fastpath {decl.role.text}' needs a status code of value 0: it is what a "
                "fast-path call returns when it succeeds without trapping",
            )

    def _returns(self, d: s.HypercallDecl, noreturn: bool) -> tuple[bool, m.Return | None]:
        """Whether the call's returns are valid, and its Return (None for noreturn)."""
        if len(d.returns) > 1:
            self.errors.error(_anchor(d.returns[1]), "a hypercall returns at most one value")
            return False, None
        if noreturn:
            if d.returns:
                self.errors.error(
                    _anchor(d.returns[0]), "a 'noreturn' hypercall cannot have 'returns'"
                )
                return False, None
            return True, None
        if not d.returns:
            status = self.types.get("status")
            return status is not None, m.Return("status", status, "") if status else None
        decl = d.returns[0]
        rtype = self._lookup_type(decl.type)
        if rtype is None:
            return False, None
        if isinstance(rtype.resolved, m.Struct):
            self.errors.error(
                decl.type.location,
                f"a hypercall cannot return struct '{rtype.name}'; use an 'out' parameter",
            )
            return False, None
        if rtype.size > 4:
            self.errors.error(
                decl.type.location,
                f"return type '{rtype.name}' needs two words but an ABI returns one; "
                "use an 'out' parameter",
            )
            return False, None
        if decl.name is not None and not self.errors.identifier(decl.name, "return value"):
            return False, None
        return True, m.Return(decl.name.text if decl.name else "result", rtype, decl.doc)

    def _params(self, d: s.HypercallDecl) -> tuple[m.Param, ...] | None:
        seen: dict[str, s.ParamDecl] = {}
        ok = True
        for p in d.params:
            if p.name.text in seen:
                self.errors.error(
                    p.name.location,
                    f"duplicate parameter '{p.name.text}' (first defined at line "
                    f"{seen[p.name.text].name.location.line})",
                )
                ok = False
                continue
            seen[p.name.text] = p
            if not self.errors.identifier(p.name, "parameter"):
                ok = False
        params: list[m.Param] = []
        for p in d.params:
            param = self._param(p, seen)
            if param is None:
                ok = False
            else:
                params.append(param)
        return tuple(params) if ok else None

    def _param(self, p: s.ParamDecl, siblings: dict[str, s.ParamDecl]) -> m.Param | None:
        ptype = self._lookup_type(p.type)
        if ptype is None:
            return None
        resolved = ptype.resolved
        is_code = isinstance(resolved, m.Scalar) and resolved.kind is m.ScalarKind.CODE
        if p.direction is not None and p.direction.text == m.Direction.SHARED.value:
            return self._shared(p, ptype)
        if p.direction is None:
            if p.length is not None or p.nullable is not None:
                what = "a length" if p.length is not None else "'nullable'"
                self.errors.error(
                    p.name.location,
                    f"parameter '{p.name.text}' is passed by value but has {what}; "
                    "write 'in', 'out' or 'inout' before it to make it a pointer",
                )
                return None
            if isinstance(resolved, m.Struct):
                self.errors.error(
                    p.type.location,
                    f"struct '{ptype.name}' cannot be passed by value; make "
                    f"'{p.name.text}' a pointer with 'in', 'out' or 'inout'",
                )
                return None
            return m.Param(p.name.text, ptype, p.doc, p.name.location)
        if is_code:
            self.errors.error(
                p.type.location,
                "a 'code' address is passed by value; remove the direction",
            )
            return None
        length = self._length(p, ptype, siblings)
        if length is None:
            return None
        return m.Param(
            p.name.text,
            ptype,
            p.doc,
            p.name.location,
            m.Direction(p.direction.text),
            length,
            p.nullable is not None,
        )

    def _shared(self, p: s.ParamDecl, ptype: m.Type) -> m.Param | None:
        """A ``shared`` pointer: to one struct, never NULL."""
        if not isinstance(ptype.resolved, m.Struct):
            self.errors.error(
                p.type.location,
                f"a 'shared' pointer points to a struct the hypervisor keeps using, not "
                f"'{ptype.name}'",
            )
            return None
        if p.length is not None:
            self.errors.error(
                _length_location(p.length),
                f"a 'shared' pointer points to one '{ptype.name}'; remove the length of "
                f"'{p.name.text}'",
            )
            return None
        if p.nullable is not None:
            self.errors.error(
                p.nullable.location,
                f"a 'shared' pointer cannot be 'nullable': the hypervisor needs the area "
                f"'{p.name.text}' points to",
            )
            return None
        return m.Param(
            p.name.text, ptype, p.doc, p.name.location, m.Direction.SHARED,
            m.Length(m.LengthKind.ONE),
        )

    def _length(
        self, p: s.ParamDecl, ptype: m.Type, siblings: dict[str, s.ParamDecl]
    ) -> m.Length | None:
        decl = p.length
        if decl is None:
            return m.Length(m.LengthKind.ONE)
        if decl.constant is not None:
            if decl.constant.value < 1:
                self.errors.error(decl.constant.location, "a constant length must be at least 1")
                return None
            if decl.constant.value * ptype.size > _MAX_NUMBER:
                self.errors.error(
                    decl.constant.location,
                    f"{decl.constant.value} elements of '{ptype.name}' are more bytes than a "
                    "32-bit size can hold",
                )
                return None
            return m.Length(m.LengthKind.CONSTANT, decl.constant.value)
        if decl.nul_max is not None:
            assert p.direction is not None
            if p.direction.text != "in":
                self.errors.error(
                    p.direction.location,
                    f"a NUL-terminated string is only read by the hypervisor, so "
                    f"'{p.name.text}' must be 'in', not '{p.direction.text}'",
                )
                return None
            if ptype.size != 1:
                self.errors.error(
                    p.type.location,
                    f"a NUL-terminated string needs 1-byte elements, not '{ptype.name}'",
                )
                return None
            if not 1 <= decl.nul_max.value <= _MAX_NUMBER:
                self.errors.error(
                    decl.nul_max.location, "a string's maximum must be 1 to 4294967295 bytes"
                )
                return None
            return m.Length(m.LengthKind.NUL, decl.nul_max.value)
        assert decl.param is not None
        return self._param_length(p, decl.param, siblings)

    def _param_length(
        self, p: s.ParamDecl, ref: s.Name, siblings: dict[str, s.ParamDecl]
    ) -> m.Length | None:
        target = siblings.get(ref.text)
        if target is None:
            self.errors.error(
                ref.location, f"length of '{p.name.text}' names '{ref.text}', no such parameter"
            )
            return None
        if target is siblings.get(p.name.text):
            self.errors.error(ref.location, f"'{p.name.text}' cannot be its own length")
            return None
        if target.direction is not None:
            self.errors.error(
                ref.location,
                f"length of '{p.name.text}' names '{ref.text}', which is a pointer; "
                "a length must be an integer passed by value",
            )
            return None
        ttype = self.types.get(target.type.text)
        if ttype is not None and not _is_plain_integer(ttype):
            self.errors.error(
                ref.location,
                f"length of '{p.name.text}' names '{ref.text}' of type '{ttype.name}', "
                "which is not an integer type",
            )
            return None
        if ttype is not None and ttype.size > 4:
            self.errors.error(
                ref.location,
                f"length of '{p.name.text}' names '{ref.text}' of type '{ttype.name}', "
                f"which is {8 * ttype.size} bits wide; a length travels in one argument word, "
                "so it must be an integer of at most 32 bits",
            )
            return None
        return m.Length(m.LengthKind.PARAM, param=ref.text)

    def _check_words(
        self, call: m.Hypercall, d: s.HypercallDecl, abis: tuple[m.Abi, ...]
    ) -> None:
        for abi in abis:
            if call.word_count > abi.max_argument_words:
                wide = [p.name for p in call.params if p.words_needed == 2]
                hint = (
                    f" (64-bit parameters take two words each on a {abi.word_bits}-bit ABI: "
                    f"{', '.join(wide)})"
                    if wide
                    else ""
                )
                self.errors.error(
                    d.name.location,
                    f"hypercall '{call.name}' needs {call.word_count} argument words but ABI "
                    f"'{abi.name}' carries at most {abi.max_argument_words}{hint}",
                )


def _anchor(decl: s.ReturnsDecl) -> Location:
    """Where a ``returns`` line starts to matter: its name, else its type."""
    return decl.name.location if decl.name else decl.type.location


def _length_location(decl: s.LengthDecl) -> Location:
    token = decl.param or decl.constant or decl.nul_max
    assert token is not None
    return token.location


def _is_plain_integer(t: m.Type) -> bool:
    r = t.resolved
    return isinstance(r, m.Scalar) and r.kind is m.ScalarKind.INT


def _is_level(t: m.Type, bool_too: bool = False) -> bool:
    """An unsigned integer of at most 32 bits (or, with ``bool_too``, a bool): a level."""
    r = t.resolved
    if not isinstance(r, m.Scalar) or r.signed or r.size > 4:
        return False
    return r.kind is m.ScalarKind.INT or (bool_too and r.kind is m.ScalarKind.BOOL)


class _FastPathShape:
    """Checks that a call has the parameters and result its fast-path role needs.

    The generated guest code relies on them: the share call's area has u32 words
    ``enabled`` and ``pending`` (and maybe ``ticks``); disable and get_level return
    the level, set_level takes it; the others return a status.
    """

    def __init__(self, d: s.HypercallDecl, call: m.Hypercall, errors: _Collector) -> None:
        self.d = d
        self.call = call
        self.errors = errors

    def check(self, role: m.FastPathRole) -> None:
        what = f"'fastpath {role.value}'"
        if role is m.FastPathRole.SHARE:
            if self._one_param(what, "the vCPU area ('shared NAME: STRUCT;')"):
                self._area(what)
        elif role is m.FastPathRole.SET_LEVEL:
            if self._one_param(what, "the new level (a bool or an unsigned integer)"):
                self._level_param(what)
        elif self.d.params:
            self.errors.error(
                self.d.params[0].name.location,
                f"{what} takes no parameters; remove '{self.d.params[0].name.text}'",
            )
        if role in (m.FastPathRole.DISABLE, m.FastPathRole.GET_LEVEL):
            self._level_result(what, role)
        else:
            self._status_result(what)

    def _one_param(self, what: str, expected: str) -> bool:
        params = self.d.params
        if not params:
            self.errors.error(self.d.fastpaths[0].role.location, f"{what} needs one parameter, "
                              f"{expected}")
        elif len(params) > 1:
            self.errors.error(
                params[1].name.location,
                f"{what} takes one parameter, {expected}; remove '{params[1].name.text}'",
            )
        return len(params) == 1

    def _area(self, what: str) -> None:
        decl, param = self.d.params[0], self.call.params[0]
        if not param.is_shared:
            passed = f"'{param.direction.value}'" if param.direction else "passed by value"
            self.errors.error(
                decl.direction.location if decl.direction else decl.name.location,
                f"the vCPU area of {what} must be 'shared' (the hypervisor keeps using it), "
                f"not {passed}",
            )
            return
        struct = param.type.resolved
        assert isinstance(struct, m.Struct)
        fields = {f.name: f for f in struct.fields}
        for name in ("enabled", "pending", "ticks"):
            field = fields.get(name)
            if field is None and name != "ticks":
                self.errors.error(
                    decl.type.location,
                    f"struct '{struct.name}' shared by {what} needs a u32 field '{name}'",
                )
            elif field is not None and field.type.resolved is not m.BUILTIN_SCALARS["u32"]:
                self.errors.error(
                    decl.type.location,
                    f"field '{name}' of struct '{struct.name}' shared by {what} is "
                    f"'{field.type.name}'; the fast path's words are u32",
                )

    def _level_param(self, what: str) -> None:
        decl, param = self.d.params[0], self.call.params[0]
        if decl.direction is not None:
            self.errors.error(
                decl.direction.location,
                f"the level of {what} is passed by value; remove '{decl.direction.text}'",
            )
        elif not _is_level(param.type, bool_too=True):
            self.errors.error(
                decl.type.location,
                f"the level of {what} is a bool or an unsigned integer of at most 32 bits, "
                f"not '{param.type.name}'",
            )

    def _level_result(self, what: str, role: m.FastPathRole) -> None:
        result = self.call.returns
        assert result is not None
        level = "the previous level" if role is m.FastPathRole.DISABLE else "the level"
        if not self.d.returns:
            self.errors.error(
                self.d.fastpaths[0].role.location,
                f"{what} returns {level} (1: enabled), not a status: add "
                "'returns level: u32;'",
            )
        elif not _is_level(result.type):
            self.errors.error(
                self.d.returns[0].type.location,
                f"{what} returns {level} as an unsigned integer of at most 32 bits, not "
                f"'{result.type.name}'",
            )

    def _status_result(self, what: str) -> None:
        result = self.call.returns
        if result is not None and not result.is_status:
            self.errors.error(
                _anchor(self.d.returns[0]),
                f"{what} returns a status; remove 'returns'",
            )


def _run_on_setting(setting: s.Setting) -> tuple[s.Name | s.Number, s.Name] | None:
    """A setting that runs on into the next for want of its ';': a later line that begins
    with a setting's name (``trap int 45`` then ``number eax;``). The value before it, and it."""
    for before, word in pairwise((setting.key, *setting.values)):
        if (isinstance(word, s.Name) and word.text in _ABI_SETTINGS
                and word.location.line > before.location.line):
            return before, word
    return None


class _AbiBuilder:
    """Reads one ``abi`` block's settings, checking each against its architecture."""

    def __init__(self, decl: s.AbiDecl, errors: _Collector) -> None:
        self.decl = decl
        self.errors = errors
        self.ok = True
        self.settings: dict[str, s.Setting] = {}

    def fail(self, location: Location, message: str) -> None:
        self.errors.error(location, message)
        self.ok = False

    def build(self) -> m.Abi | None:
        d = self.decl
        arch = ARCHITECTURES.get(d.arch.text)
        if arch is None:
            self.fail(
                d.arch.location,
                f"unknown architecture '{d.arch.text}'; known: " + ", ".join(sorted(ARCHITECTURES)),
            )
            return None
        run_on = [r for r in map(_run_on_setting, d.settings) if r is not None]
        for before, word in run_on:  # the rest would only echo the missing ';'
            self.fail(line_end(self.errors.source, before.location.line),
                      f"missing ';' before '{word.text}' on line {word.location.line}")
        if run_on:
            return None
        for setting in d.settings:
            key = setting.key.text
            if key not in _ABI_SETTINGS:
                self.fail(
                    setting.key.location,
                    f"unknown ABI setting '{key}'; expected one of " + ", ".join(_ABI_SETTINGS),
                )
            elif key in self.settings:
                self.fail(setting.key.location, f"ABI setting '{key}' given twice")
            else:
                self.settings[key] = setting
        missing = [k for k in _REQUIRED_ABI_SETTINGS if k not in self.settings]
        for key in missing:
            self.fail(d.name.location, f"ABI '{d.name.text}' has no '{key}' setting")
        if missing or not self.ok:
            return None
        return self._assemble(arch)

    def _assemble(self, arch: Architecture) -> m.Abi | None:
        trap, immediate = self._trap(arch)
        number = self._register(self.settings["number"], arch)
        convention, regs, block_reg, block_words, counted = self._arguments(arch, number)
        ret = self._register(self.settings["return"], arch)
        word = self._word(arch)
        split = self._split64()
        clobbers = self._clobbers(arch)
        default = self._flag("default")
        if not self.ok or trap is None or number is None or ret is None or convention is None:
            return None
        return m.Abi(
            name=self.decl.name.text,
            arch=arch,
            doc=self.decl.doc,
            trap=trap,
            trap_immediate=immediate,
            number_register=number,
            convention=convention,
            argument_registers=regs,
            block_register=block_reg,
            block_words=block_words,
            block_counted=counted,
            return_register=ret,
            word_bits=word,
            split64=split,
            clobbers=clobbers,
            default=default,
            location=self.decl.name.location,
        )

    def _values(self, setting: s.Setting) -> list[s.Name | s.Number]:
        return list(setting.values)

    def _trap(self, arch: Architecture) -> tuple[TrapInstruction | None, int | None]:
        setting = self.settings["trap"]
        values = self._values(setting)
        if not values or not isinstance(values[0], s.Name):
            self.fail(setting.key.location, "expected 'trap INSTRUCTION [VECTOR];'")
            return None, None
        mnemonic = values[0]
        trap = arch.trap(mnemonic.text)
        if trap is None:
            known = " or ".join(f"'{t.mnemonic}'" for t in arch.traps)
            self.fail(
                mnemonic.location,
                f"{arch.name} has no trap instruction '{mnemonic.text}'; expected {known}",
            )
            return None, None
        rest = values[1:]
        if trap.max_immediate is None:
            if rest:
                self.fail(rest[0].location, f"'{trap.mnemonic}' takes no vector")
            return trap, None
        if not rest or not isinstance(rest[0], s.Number):
            where = rest[0].location if rest else mnemonic.location
            self.fail(where, f"'{trap.mnemonic}' needs a vector number")
            return None, None
        if len(rest) > 1:
            self.fail(rest[1].location, f"'{trap.mnemonic}' takes one vector number")
            return None, None
        if rest[0].value > trap.max_immediate:
            self.fail(
                rest[0].location,
                f"vector {rest[0].value} is out of range for '{trap.mnemonic}' "
                f"(0..{trap.max_immediate})",
            )
            return None, None
        return trap, rest[0].value

    def _register_name(self, value: s.Name | s.Number, arch: Architecture) -> str | None:
        if not isinstance(value, s.Name):
            self.fail(value.location, f"expected a register name, found {value.value}")
            return None
        if value.text not in arch.registers:
            self.fail(
                value.location,
                f"{arch.name} has no register '{value.text}'; its registers are "
                + " ".join(arch.registers),
            )
            return None
        return value.text

    def _register(self, setting: s.Setting, arch: Architecture) -> str | None:
        values = self._values(setting)
        if len(values) != 1:
            where = values[1].location if values else setting.key.location
            self.fail(where, f"'{setting.key.text}' takes one register")
            return None
        return self._register_name(values[0], arch)

    def _argument_register(
        self, value: s.Name | s.Number, arch: Architecture, taken: dict[str, str]
    ) -> str | None:
        """An argument or block register, which must differ from ``taken`` (register → role)."""
        reg = self._register_name(value, arch)
        if reg is not None and reg in taken:
            self.fail(
                value.location,
                f"'{reg}' is already {taken[reg]}; each register has one role",
            )
            return None
        return reg

    def _arguments(
        self, arch: Architecture, number: str | None
    ) -> tuple[m.Convention | None, tuple[str, ...], str | None, int, bool]:
        setting = self.settings["arguments"]
        values = self._values(setting)
        usage = (
            "expected 'arguments registers REG...;' or "
            "'arguments block REG max N [counted];'"
        )
        if not values or not isinstance(values[0], s.Name):
            self.fail(setting.key.location, usage)
            return None, (), None, 0, False
        kind, rest = values[0], values[1:]
        taken = {number: "the number register"} if number else {}
        if kind.text == "registers":
            if not rest:
                self.fail(kind.location, "'arguments registers' needs at least one register")
                return None, (), None, 0, False
            names: list[str] = []
            for index, value in enumerate(rest, 1):
                reg = self._argument_register(value, arch, taken)
                if reg is None:
                    return None, (), None, 0, False
                taken[reg] = f"argument register {index}"
                names.append(reg)
            return m.Convention.REGISTERS, tuple(names), None, 0, False
        if kind.text == "block":
            shape_ok = (
                len(rest) in (3, 4)
                and isinstance(rest[1], s.Name)
                and rest[1].text == "max"
                and isinstance(rest[2], s.Number)
                and (len(rest) == 3 or (isinstance(rest[3], s.Name) and rest[3].text == "counted"))
            )
            if not shape_ok:
                self.fail(kind.location, usage)
                return None, (), None, 0, False
            reg = self._argument_register(rest[0], arch, taken)
            words = rest[2]
            assert isinstance(words, s.Number)
            if not 1 <= words.value <= 16:
                self.fail(words.location, "an argument block holds 1 to 16 words")
            return m.Convention.BLOCK, (), reg, words.value, len(rest) == 4
        self.fail(kind.location, usage)
        return None, (), None, 0, False

    def _word(self, arch: Architecture) -> int:
        setting = self.settings["word"]
        values = self._values(setting)
        if len(values) != 1 or not isinstance(values[0], s.Number):
            self.fail(setting.key.location, "expected 'word BITS;'")
            return arch.word_bits
        if values[0].value != arch.word_bits:
            self.fail(
                values[0].location,
                f"{arch.name} has {arch.word_bits}-bit words, not {values[0].value}",
            )
        return values[0].value

    def _split64(self) -> m.Split64:
        setting = self.settings.get("split64")
        if setting is None:
            return m.Split64.LOW_FIRST
        values = self._values(setting)
        choices = {v.value: v for v in m.Split64}
        if len(values) != 1 or not isinstance(values[0], s.Name) or values[0].text not in choices:
            self.fail(
                values[0].location if values else setting.key.location,
                "expected 'split64 low_first;' or 'split64 high_first;'",
            )
            return m.Split64.LOW_FIRST
        return choices[values[0].text]

    def _clobbers(self, arch: Architecture) -> tuple[str, ...]:
        setting = self.settings.get("clobbers")
        if setting is None:
            return ()
        regs = [self._register_name(v, arch) for v in self._values(setting)]
        return tuple(r for r in regs if r is not None)

    def _flag(self, key: str) -> bool:
        setting = self.settings.get(key)
        if setting is None:
            return False
        if setting.values:
            self.fail(setting.values[0].location, f"'{key}' takes no value")
        return True
