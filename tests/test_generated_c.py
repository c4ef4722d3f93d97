"""Every generated guest-side C file compiles warning-free, for every ABI of the definition."""

from __future__ import annotations

from pathlib import Path

import pytest

from pvgen.definition import load, load_text
from pvgen.generate import render_all, write_artifacts
from pvgen.lang_c import c_abi_macro
from pvgen.model import Interface
from tests.cc import FOR_ARCH
from tests.conftest import DEFINITION

# (architecture, ABI selection macro) for every ABI the repository's definition declares.
ABI_CASES = [
    pytest.param(abi.arch.name, c_abi_macro(abi, iface.prefix), id=abi.name)
    for iface in [load(DEFINITION)]
    for abi in iface.abis
]


@pytest.fixture(scope="module")
def gen_dir(interface: Interface, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("gen")
    write_artifacts(render_all(interface), out)
    return out


GUEST_SOURCES = ("rtems/virtualizationlayer.c", "rtems/paravirt_i386.c")


def test_every_abi_of_the_definition_has_a_test_compiler(interface: Interface) -> None:
    archs = {arch.name for arch in interface.architectures}
    assert archs <= set(FOR_ARCH), f"no test compiler for {archs - set(FOR_ARCH)}"


@pytest.mark.parametrize("source", GUEST_SOURCES)
@pytest.mark.parametrize(("arch", "macro"), ABI_CASES)
def test_guest_c_compiles_for_each_abi(
    gen_dir: Path, tmp_path: Path, source: str, arch: str, macro: str
) -> None:
    if source.endswith("_i386.c") and arch != "x86":
        pytest.skip("the RTEMS_PARAVIRT hooks are the i386 port's")
    FOR_ARCH[arch].compile(
        gen_dir / source, tmp_path / "out.o",
        includes=(gen_dir / "guest", gen_dir / "rtems"), defines=(macro,),
    )


def test_header_selects_the_default_abi_per_architecture(
    interface: Interface, gen_dir: Path, tmp_path: Path
) -> None:
    """Without a PV_ABI_* macro each compiler gets its architecture's default ABI."""
    probe = tmp_path / "probe.c"
    for arch in interface.architectures:
        default = interface.default_abi(arch)
        probe.write_text(
            '#include "pv_hypercalls.h"\n'
            f'#ifndef {c_abi_macro(default, interface.prefix)}\n#error "wrong default"\n#endif\n'
            "int probe_unused;\n"
        )
        FOR_ARCH[arch.name].compile(probe, tmp_path / "probe.o", includes=(gen_dir / "guest",))


def test_selecting_an_abi_of_another_architecture_is_an_error(
    interface: Interface, gen_dir: Path, tmp_path: Path
) -> None:
    arm = next(a for a in interface.abis if a.arch.name == "arm")
    probe = tmp_path / "probe.c"
    probe.write_text('#include "pv_hypercalls.h"\nint probe_unused;\n')
    with pytest.raises(AssertionError, match="is for arm"):
        FOR_ARCH["x86"].compile(
            probe, tmp_path / "probe.o", includes=(gen_dir / "guest",),
            defines=(c_abi_macro(arm, interface.prefix),),
        )




def definition(header: str, statuses: str, refusal: str, abi_doc: str, body: str) -> str:
    """A definition of one x86 register ABI around `body`: its `interface` line, its status
    codes, and `refusal` the status of every rejection."""
    rejects = "".join(f"reject {event} = {refusal};\n"
                      for event in ("unknown_call", "bad_pointer", "bad_arg_count", "bad_value"))
    return f"""{header}
status {{
{statuses}}}
{rejects}abi regs for x86 "{abi_doc}" {{
    trap int 46;
    number eax;
    arguments registers ebx ecx edx esi edi;
    return eax;
    word 32;
    split64 low_first;
}}
{body}"""


# Doc strings a user may write that would break a C comment or string: the end and the start
# of a comment, trigraphs (ISO C modes replace them; ??/ is a backslash) and a bidirectional
# override (-Wbidi-chars).
NASTY = definition(
    'interface nasty version 1 "An interface /* nested */ with ??/ and ??= and \u202e.";',
    '    OK = 0 "Fine */ or /* ??/";\n    BAD = 1 "Bad \u2066 isolate.";\n', "BAD",
    "Registers ??( /* and ??) */.",
    'hypercall poke = 1 "Poke */ /* ??\' \u202d." {\n    value: u32 "A value ??! /*.";\n}\n')


def test_doc_strings_never_break_the_generated_c(tmp_path: Path) -> None:
    """Whatever a doc string holds, the guest header compiles with -std=c99 -pedantic
    -Werror, and the comment still says what the definition says, made safe."""
    iface = load_text(NASTY, "nasty.def")
    write_artifacts(render_all(iface), tmp_path)
    header = tmp_path / "guest" / "nasty_hypercalls.h"
    probe = tmp_path / "probe.c"
    probe.write_text('#include "nasty_hypercalls.h"\nint probe_unused;\n', encoding="utf-8")
    FOR_ARCH["x86"].compile(probe, tmp_path / "probe.o", includes=(tmp_path / "guest",))
    text = header.read_text(encoding="utf-8")
    assert "Poke * / / * ? ?' U+202D." in text
    assert "\u202e" not in text and "??" not in text


# A definition at every edge the generator accepts: the largest call number, enum and status
# values at both ends of C's int, an alias chain as deep as allowed.
EDGES = definition(
    'interface edges version 4294967295 "Every limit, reached.";',
    '    OK = 0 "Fine.";\n    LOWEST = -2147483648 "The lowest status.";\n'
    '    HIGHEST = 2147483647 "The highest status.";\n', "HIGHEST", "Registers.",
    'enum extremes : i32 "Both ends of int." {\n    MIN = -2147483648;\n    MAX = 2147483647;\n}\n'
    'type deep0 = u32 "The start of the chain.";\n'
    + "".join(f'type deep{i} = deep{i - 1} "One more.";\n' for i in range(1, 32))
    + 'reserved 2147483646 "The one below the last.";\n'
    'hypercall last = 2147483647 "The largest call number." {\n'
    '    value: deep31 "Through every alias.";\n    which: extremes "An enum.";\n}\n')


def test_a_definition_at_every_limit_generates_c_that_compiles(tmp_path: Path) -> None:
    iface = load_text(EDGES, "edges.def")
    write_artifacts(render_all(iface), tmp_path)
    probe = tmp_path / "probe.c"
    probe.write_text('#include "edges_hypercalls.h"\nint probe_unused;\n', encoding="utf-8")
    FOR_ARCH["x86"].compile(probe, tmp_path / "probe.o", includes=(tmp_path / "guest",))
