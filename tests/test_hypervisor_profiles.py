"""Hypervisor profiles (issue 7): the same system over another hypervisor's ABI, by definition.

``examples/hypervisors/xtratum_x86.def`` is hypercalls.def over an XtratuM-style ABI
(arguments in registers, ``int $0x82``, XtratuM's numbers and negative status codes,
one more hypercall); ``examples/hypervisors/pok_x86.def`` is the real POK kernel's own system
calls, which run the examples that need neither virtual interrupts nor ports (more of it in
tests/test_pok_profile.py). With only ``--def`` changed, ``pvgen image`` and the emulator must
run the examples to the same console output as the default definition does; the
generated header must differ only where the ABI does; the guests must really trap with
the profile's vector; the extra hypercall must answer a guest; and a definition the
emulator cannot run must be refused with one clear line, not a traceback.
"""

from __future__ import annotations

import re
import subprocess
import sys
from enum import IntEnum
from pathlib import Path
from types import ModuleType

import pytest

from pvgen.catalogue import ENUM_MEMBERS, REQUIRED_STATUS
from pvgen.definition import load
from pvgen.emulator.arch import EMULATED
from pvgen.emulator.errors import EmulatorError
from pvgen.emulator.services import check_definition
from pvgen.generate import render_all
from pvgen.layers import APEX, VIRTUAL_INTERRUPTS, Layer
from pvgen.model import Interface
from tests.conftest import DEFINITION, ROOT

XTRATUM = ROOT / "examples" / "hypervisors" / "xtratum_x86.def"
POK = ROOT / "examples" / "hypervisors" / "pok_x86.def"
PROFILES = {"default": DEFINITION, "pok": POK, "xtratum": XTRATUM}
# Each example and the runtime layers it uses beyond the core (pvgen.layers): a profile
# runs those whose layers its definition has all the calls of. POK's own system calls have
# no virtual interrupts and no port calls shaped like the services' (tests/test_pok_profile
# checks that the others are refused with the reason).
EXAMPLES: dict[str, tuple[Layer, ...]] = {
    "hello": (), "ports": (APEX,), "multi": (), "ticker": (VIRTUAL_INTERRUPTS,)}
REFERENCE = ("default", "x86")


def runs(profile: str, example: str) -> bool:
    """Whether the profile's definition has every call the example's runtime layers make."""
    iface = load(PROFILES[profile])
    return not any(layer.lacking(iface) for layer in EXAMPLES[example])


def declared_combinations() -> list[tuple[str, str]]:
    """Every (profile, architecture) the repository declares: each profile with each
    architecture it has an ABI for that the bundled emulator runs."""
    return [(profile, arch) for profile, definition in PROFILES.items()
            for arch in sorted({abi.arch.name for abi in load(definition).abis})
            if arch in EMULATED]


COMBINATIONS = declared_combinations()
WHOAMI = ROOT / "tests" / "profiles" / "module.xml"
HEADER = "guest/pv_hypercalls.h"


def pvgen(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pvgen.cli", *map(str, args)],
                          capture_output=True, text=True, check=False, cwd=ROOT)


def build(config: Path, definition: Path, out: Path, arch: str = "x86") -> Path:
    """``pvgen image --arch`` of a configuration with a definition, its interface generated
    in ``out/gen``; the image's path."""
    image = out / f"{config.parent.name}.img"
    result = pvgen("image", "--config", config, "--out", image, "--def", definition,
                   "--gen", out / "gen", "--arch", arch)
    assert result.returncode == 0, result.stderr
    return image


def boot(image: Path) -> subprocess.CompletedProcess[str]:
    return pvgen("boot", image, "--gen", image.parent / "gen")


Images = dict[tuple[str, str, str], Path]  # (profile, arch, example) -> image


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> Images:
    """Every example built for every declared combination, each in its own directory."""
    if any(arch == "arm" for _, arch in COMBINATIONS):
        pytest.importorskip("ziglang", reason="ARM guests need zig's clang (the arm extra)")
    root = tmp_path_factory.mktemp("profiles")
    return {
        (profile, arch, example): build(ROOT / "examples" / example / "module.xml",
                                        PROFILES[profile], root / f"{profile}-{arch}", arch)
        for profile, arch in COMBINATIONS for example in EXAMPLES if runs(profile, example)
    }


def comparable(output: str) -> str:
    """A run's output without its hypercall counts: a compute-bound partition (the ticker's
    worker) reads the time once per round of work, and how many rounds fit in its windows
    depends on the instruction set. Everything the partitions print stays."""
    return re.sub(r", \d+ hypercalls,", ", N hypercalls,", output)


# What a runtime with virtual interrupts calls before main: vcpu_register and vcpu_share.
UPCALL_SET_UP_CALLS = 2


def with_fewer_calls(output: str, fewer: int) -> str:
    """A run's output with each partition's hypercall count lowered by ``fewer``."""
    return re.sub(r", (\d+) hypercalls,", lambda m: f", {int(m[1]) - fewer} hypercalls,", output)


def as_pok_ends(output: str) -> str:
    """A run's summary as POK's profile ends a partition: IDLE refused, then NORMAL, which
    ends its program (one call more) in the mode it had."""
    return re.sub(r"mode IDLE, (\d+) hypercalls,",
                  lambda m: f"mode COLD_START (its program ended), {int(m[1]) + 1} hypercalls,",
                  output)


def without_layout(output: str) -> str:
    """A run's output without where multi's gamma finds its data and stack, which another
    profile's code moves (a smaller runtime, other stubs: the data starts on another page)."""
    return re.sub(r"data at [0-9a-f]+, stack near [0-9a-f]+", "data at D, stack near S", output)


def test_the_repository_declares_each_profile_with_its_architectures() -> None:
    assert COMBINATIONS == [("default", "arm"), ("default", "x86"), ("pok", "x86"),
                            ("xtratum", "x86")]
    assert [e for e in EXAMPLES if runs("pok", e)] == ["hello", "multi"]
    assert all(runs(profile, e) for profile in ("default", "xtratum") for e in EXAMPLES)


# multi prints where its code, data and stack lie, which the instruction set moves: it is
# compared on x86 only
CASES = [(profile, arch, example) for profile, arch in COMBINATIONS if (profile, arch) != REFERENCE
         for example in EXAMPLES if (arch == REFERENCE[1] or example != "multi")
         and runs(profile, example)]


@pytest.mark.parametrize(("profile", "arch", "example"), CASES, ids=["-".join(c) for c in CASES])
def test_an_example_prints_the_same_for_every_profile_and_architecture(
    images: Images, profile: str, arch: str, example: str
) -> None:
    """Against hypercalls.def on x86 (whose exact output tests/test_emulator_boot checks): the
    same console, line for line, but for where multi's gamma is laid out; on x86 the same
    hypercall counts too, but for POK's profile,
    whose runtime has no upcalls to set up and whose partitions end as POK's do."""
    reference, other = (boot(images[(*combination, example)])
                        for combination in (REFERENCE, (profile, arch)))
    assert reference.returncode == 0, reference.stderr
    assert other.returncode == 0, other.stderr
    if profile == "pok":  # its runtime registers no upcall handler: 2 calls fewer each
        assert without_layout(other.stdout) == without_layout(as_pok_ends(
            with_fewer_calls(reference.stdout, UPCALL_SET_UP_CALLS)))
    elif arch == REFERENCE[1]:
        assert without_layout(other.stdout) == without_layout(reference.stdout)
    else:
        assert comparable(other.stdout) == comparable(reference.stdout)


def test_the_image_records_the_profiles_abi(images: Images) -> None:
    result = pvgen("inspect", images["xtratum", "x86", "hello"])
    assert result.returncode == 0, result.stderr
    assert "ABI xm_x86" in result.stdout


def test_the_guests_trap_with_the_profiles_vector(images: Images) -> None:
    """The partition's own code (disassembled) traps with int $0x82 and never POK's int $45,
    the number in eax being the profile's (console_write is 1, not 10)."""
    elf = images["xtratum", "x86", "hello"].parent / "hello.build" / "hello.elf"
    text = subprocess.run(["objdump", "-d", str(elf)], capture_output=True, text=True,
                          check=True).stdout
    traps = re.findall(r"\bint\s+\$(0x[0-9a-f]+)", text)
    assert traps and set(traps) == {"0x82"}
    assert re.search(r"\bcd 82\b", text)
    assert re.search(r"mov\s+\$0x1,%eax(?:.*\n){1,12}.*int\s+\$0x82", text), \
        "console_write (1) is not made"


def _sections(header: str) -> dict[str, str]:
    """The header's sections by their banner's title (``/* ---- ... * Title``)."""
    parts = re.split(r"/\* -{20,}\n \* (.+)\n(?: \*.*\n)*? \* -{20,} \*/\n", header)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def _header(iface: Interface) -> str:
    return next(a.content for a in render_all(iface) if str(a.path) == HEADER)


def test_the_guest_header_differs_only_where_the_abi_does() -> None:
    default_iface, xtratum_iface = load(DEFINITION), load(XTRATUM)
    default, xtratum = _sections(_header(default_iface)), _sections(_header(xtratum_iface))
    assert default.keys() == xtratum.keys()
    # the types and the fast path are the interface's, not the ABI's: identical
    for same in ("Types", "The trap-free fast path"):
        assert xtratum[same] == default[same], same
    # the numbers and statuses are the profile's, every one
    numbers = dict(re.findall(r"PV_HC_(\w+) = (\d+)", xtratum["Hypercall numbers"]))
    assert {n.lower(): int(v) for n, v in numbers.items()} == {
        h.name: h.number for h in xtratum_iface.hypercalls}
    statuses = dict(re.findall(r"PV_(\w+) = (-?\d+)", xtratum["Status codes"]))
    assert {n: int(v) for n, v in statuses.items()} == {
        m.name: m.value for m in xtratum_iface.status.members}
    assert statuses["NO_ACTION"] == "-1"
    # the stubs are the default definition's register ABI with the profile's name and vector
    stubs = re.search(r"#if defined\(PV_ABI_REGS_X86\)\n#if !.*?#endif /\* PV_ABI_REGS_X86 \*/",
                      default["Trap stubs, one set per ABI"], re.DOTALL)
    assert stubs is not None
    expected = (stubs.group(0).replace("REGS_X86", "XM_X86").replace("regs_x86", "xm_x86")
                .replace("int $46", "int $130"))
    assert expected in xtratum["Trap stubs, one set per ABI"]
    # each call's doc and inline function is the default's but for its number; one more call
    calls = _calls(xtratum["Hypercalls"])
    assert calls.keys() - {"partition_get_name"} == _calls(default["Hypercalls"]).keys()
    assert {n: c for n, c in calls.items() if n != "partition_get_name"} == \
        _calls(default["Hypercalls"])


def _calls(section: str) -> dict[str, str]:
    """The Hypercalls section's blocks (doc comment and inline function) by call name, with
    the call's number left out: the blocks are in number order, which a profile changes."""
    section = section.removesuffix("#endif /* PV_HYPERCALLS_H */\n")  # the header's end
    blocks = re.split(r"(?m)^/\*\*\n \* (\w+) \(hypercall \d+\)", section)
    return dict(zip(blocks[1::2], blocks[2::2], strict=True))


def test_the_extra_hypercall_answers_a_guest(tmp_path: Path) -> None:
    """tests/profiles/whoami.c asks its name with partition_get_name and checks the answer,
    a short buffer's INVALID_PARAM (negative: -3) and needed length included."""
    result = boot(build(WHOAMI, XTRATUM, tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines()[:4] == [
        "[whoami] *** BEGIN OF TEST whoami ***",
        '[whoami] partition_get_name: status 0, length 6, name "whoami"',
        "[whoami] with room for 3: status -3, length 6",
        "[whoami] *** END OF TEST whoami ***",
    ]


def test_the_default_definition_lacks_the_extra_hypercall() -> None:
    assert load(DEFINITION).hypercall("partition_get_name") is None
    assert load(XTRATUM).hypercall("partition_get_name") is not None


def _riscv_profile(tmp_path: Path) -> Path:
    """The XtratuM profile with its one ABI for riscv32, which pvgen generates stubs for
    and the emulator does not run."""
    text, count = re.subn(r"abi xm_x86 for x86 .*?\n}\n", (
        'abi sbi_rv32 for riscv32 "ecall, the number in a7." {\n    trap ecall;\n'
        "    number a7;\n    arguments registers a0 a1 a2 a3 a4;\n    return a0;\n"
        "    word 32;\n    split64 low_first;\n    default;\n}\n"), XTRATUM.read_text(),
        flags=re.DOTALL)
    assert count == 1
    definition = tmp_path / "riscv.def"  # elsewhere: what the profile uses, by its whole path
    definition.write_text(text.replace('use "../../hypercalls.def";',
                                       f'use "{ROOT / "hypercalls.def"}";'))
    return definition


def _one_clear_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_a_definition_the_emulator_cannot_run_fails_at_boot(tmp_path: Path) -> None:
    definition = _riscv_profile(tmp_path)
    assert pvgen("gen", "--def", definition, "--out", tmp_path / "gen").returncode == 0
    line = _one_clear_line(pvgen("boot", "--def", definition, "--gen", tmp_path / "boot"))
    assert line == (f"pvgen: error: {definition}: the definition's hypercall ABIs are for "
                    "riscv32 only, and the bundled emulator runs x86 and arm partitions")
    assert not (tmp_path / "boot").exists()  # refused before anything was built


def test_an_image_for_it_is_refused_with_one_line(tmp_path: Path) -> None:
    definition = _riscv_profile(tmp_path)
    config = tmp_path / "module.xml"
    config.write_text(re.sub(r"(\n\s*<Partition )", r'\n  <Toolchain Arch="riscv32"/>\1',
                             (ROOT / "examples/hello/module.xml").read_text(), count=1)
                      .replace('Sources="hello.c"', f'Sources="{ROOT}/examples/hello/hello.c"')
                      .replace("../../pvgen", f"{ROOT}/pvgen"))
    line = _one_clear_line(pvgen("image", "--config", config, "--out", tmp_path / "x.img",
                                 "--def", definition, "--gen", tmp_path / "gen"))
    assert "riscv32" in line


# What the definitions give these calls, as a generated dispatcher records it.
PARAMS = {"console_write": ("buf", "len"), "partition_get_name": ("capacity",),
          "teleport": (), "queuing_send": ("id", "msg", "len", "timeout"),
          "sampling_status": ("id",)}


def _dispatcher(status: dict[str, int], numbers: dict[str, int],
                params: dict[str, tuple[str, ...]] | None = None,
                outputs: dict[str, dict[str, tuple[str, ...]]] | None = None) -> ModuleType:
    module = ModuleType("profile_dispatch")
    module.STATUS = status  # type: ignore[attr-defined]
    module.NUMBERS = numbers  # type: ignore[attr-defined]
    given = {name: PARAMS[name] for name in numbers} | (params or {})
    module.HANDLER_PARAMS = given  # type: ignore[attr-defined]
    module.OUTPUT_FIELDS = outputs or {}  # type: ignore[attr-defined]
    # the enums the services read, with the members they need (any, for os_error)
    module.ENUMS = {name: IntEnum(name, members or ("ANY",))  # type: ignore[attr-defined]
                    for name, members in ENUM_MEMBERS.items()}
    return module


def test_the_services_refuse_a_definition_they_cannot_serve() -> None:
    """Before anything runs: a status code the services answer that the definition lacks,
    or a hypercall no service handles, is named; any numbering of either is fine."""
    status = {name: -i for i, name in enumerate(REQUIRED_STATUS)}
    check_definition(_dispatcher(status, {"console_write": 1, "partition_get_name": 38}))
    lacking = {k: v for k, v in status.items() if k != "NOT_AVAILABLE"}
    with pytest.raises(EmulatorError, match="status codes the definition lacks: NOT_AVAILABLE"):
        check_definition(_dispatcher(lacking, {"console_write": 1}))
    with pytest.raises(EmulatorError, match=r"no service for the definition's hypercall\(s\) "
                       "teleport"):
        check_definition(_dispatcher(status, {"console_write": 1, "teleport": 2}))


def test_the_services_refuse_parameters_and_fields_they_do_not_know() -> None:
    """Arguments bind by name: a parameter no service takes, one a service needs and the
    definition leaves out, a struct field no service answers, and a timeout with no TIMED_OUT
    status are each named, all at once."""
    status = {name: i for i, name in enumerate(REQUIRED_STATUS)}
    with pytest.raises(EmulatorError) as refused:
        check_definition(_dispatcher(
            status, {"console_write": 1, "queuing_send": 2, "sampling_status": 3},
            params={"console_write": ("buf", "length")},
            outputs={"sampling_status": {"status": ("refresh_period", "colour")}}))
    assert str(refused.value).splitlines() == [
        "pvgen: error: the emulator's services cannot serve the definition:",
        "  console_write: its service takes no parameter length",
        "  console_write: its service needs the parameter len",
        "  sampling_status: its service answers no field colour of 'status'",
        "  a call takes a timeout, but there is no TIMED_OUT status",
    ]
    check_definition(_dispatcher(status | {"TIMED_OUT": 9},
                                 {"queuing_send": 2, "sampling_status": 3}))


def test_an_architecture_pvgen_does_not_know_is_one_line_at_image(tmp_path: Path) -> None:
    result = pvgen("image", "--config", ROOT / "examples" / "hello" / "module.xml",
                   "--out", tmp_path / "hello.img", "--gen", tmp_path / "gen", "--arch", "sparc")
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"pvgen: error: {ROOT / 'examples' / 'hello' / 'module.xml'}: --arch sparc: pvgen knows no "
        "such architecture (it knows arm, riscv32, x86)"]


# The system calls of the unmodified POK kernel that pok_x86.def declares, by POK's numbers
# (its kernel/include/core/syscall.h): the profile uses hypercalls.def, and must never
# inherit a call of it that POK does not serve.
POK_SYSTEM_CALLS = {
    "console_write": 10, "get_time": 20, "sampling_port_id": 101, "sampling_read": 102,
    "sampling_status": 103, "sampling_write": 104, "sampling_create": 105,
    "queuing_create": 110, "queuing_send": 111, "queuing_receive": 112, "queuing_port_id": 113,
    "queuing_status": 114, "raise_application_error": 303, "partition_set_mode": 404,
    "partition_get_id": 405, "partition_get_period": 406, "partition_get_duration": 407,
    "partition_get_lock_level": 408, "partition_get_operating_mode": 409,
    "partition_get_start_condition": 410, "shutdown": 707,
}


def test_the_pok_profile_declares_exactly_pok_s_system_calls() -> None:
    assert {h.name: h.number for h in load(POK).hypercalls} == POK_SYSTEM_CALLS


def test_the_pok_profile_is_written_as_its_differences() -> None:
    """It uses hypercalls.def and drops what POK lacks; what it keeps unchanged (the
    rejections after the first, two reserved ranges) it does not write again."""
    text = POK.read_text(encoding="utf-8")
    assert 'use "../../hypercalls.def";' in text
    assert "drop hypercall irq_ack;" in text and "reject bad_value" not in text
    assert {r.first for r in load(POK).reserved} >= {50, 201}
