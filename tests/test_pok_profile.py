"""The real POK kernel's own system calls as a hypervisor profile (issue 7, point 1a).

``examples/hypervisors/pok_x86.def`` declares POK's system calls with POK's numbers, its
``int $42`` and its argument block. What an unmodified POK kernel would see of a guest
built against it is checked here without the emulator: the built partition runs on Unicorn
alone, and every trap is read as POK's x86 entry reads it (the number in eax, ebx the
partition-relative address of ``pok_syscall_args_t``: nargs then five words), with the
answers POK gives. The facts below are POK's (kernel/include/core/syscall.h, errno.h,
core/partition.h), written here independently of the definition, so that a profile that
drifted from POK would fail. The emulator's side (the same partitions booted from the
generated dispatcher alone) is in tests/test_hypervisor_profiles.py.
"""

from __future__ import annotations

import json
import struct
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from elftools.elf.elffile import ELFFile
from unicorn import UC_ARCH_X86, UC_HOOK_INTR, UC_MODE_32, Uc
from unicorn.x86_const import UC_X86_REG_EAX, UC_X86_REG_EBX

from pvgen.bsp import BspError, render_rtems_bsp
from pvgen.definition import load
from pvgen.image.read import read_image
from pvgen.model import Enum
from tests.conftest import ROOT
from tests.pokfake import link_fake_pok

POK_PROFILE = ROOT / "examples" / "hypervisors" / "pok_x86.def"

# POK's x86 system-call ABI and the ids, argument counts and constants these guests use.
POK_SYSCALL_INT_NUMBER = 42
POK_ARGS = struct.Struct("<6I")  # pok_syscall_args_t: nargs, arg1 .. arg5
POK_SYSCALL_CONSWRITE = 10  # (const char *s, size_t length)
POK_SYSCALL_PARTITION_SET_MODE = 404  # (pok_partition_mode_t mode)
POK_SYSCALL_PARTITION_GET_ID = 405  # (uint8_t *id)
POK_PARTITION_MODE_NORMAL = 3
POK_PARTITION_MODE_IDLE = 4
POK_ERRNO_PARTITION_MODE = 601
POK_ERRNO_OK = 0
POK_ERRNO_EINVAL = 1
POK_SYSCALL_ERROR_RAISE_APPLICATION_ERROR = 303  # (const char *msg, size_t length)
# The arguments POK's kernel reads for each id (the block's nargs announces them).
POK_READS = {POK_SYSCALL_CONSWRITE: 2, POK_SYSCALL_PARTITION_SET_MODE: 1,
         POK_SYSCALL_PARTITION_GET_ID: 1, POK_SYSCALL_ERROR_RAISE_APPLICATION_ERROR: 2}


def pvgen(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pvgen.cli", *map(str, args)],
                          capture_output=True, text=True, check=False, cwd=ROOT)


def build(example: str, out: Path, *extra: str | Path) -> subprocess.CompletedProcess[str]:
    return pvgen("image", "--config", ROOT / "examples" / example / "module.xml", "--out",
                 out / f"{example}.img", "--def", POK_PROFILE, "--gen", out / "gen", *extra)


@dataclass
class PokTrace:
    """What a partition asked of POK: each system call as (id, argument words), and its
    console output."""

    calls: list[tuple[int, tuple[int, ...]]] = field(default_factory=list)
    console: bytearray = field(default_factory=bytearray)
    foreign_traps: list[int] = field(default_factory=list)


def run_as_pok_would(elf: bytes, memory_size: int, identifier: int,
                     refused: frozenset[int] = frozenset()) -> PokTrace:
    """Run a partition ELF linked at 0 in a flat 32-bit space of its size, answering its
    system calls as POK does for these ids (those in ``refused`` with POK_ERRNO_EINVAL):
    mode IDLE refused with POK_ERRNO_PARTITION_MODE, and mode NORMAL, which stops POK's
    main thread, ends the run."""
    from io import BytesIO

    uc = Uc(UC_ARCH_X86, UC_MODE_32)
    uc.mem_map(0, memory_size)
    loaded = ELFFile(BytesIO(elf))
    for segment in loaded.iter_segments():
        if segment["p_type"] == "PT_LOAD" and segment["p_memsz"]:
            uc.mem_write(segment["p_vaddr"], segment.data())
    trace = PokTrace()

    def on_interrupt(uc: Uc, vector: int, _: object) -> None:
        if vector != POK_SYSCALL_INT_NUMBER:
            trace.foreign_traps.append(vector)
            uc.emu_stop()
            return
        number = uc.reg_read(UC_X86_REG_EAX)
        nargs, *words = POK_ARGS.unpack(uc.mem_read(uc.reg_read(UC_X86_REG_EBX), POK_ARGS.size))
        trace.calls.append((number, tuple(words[:nargs])))
        if number in refused:
            uc.reg_write(UC_X86_REG_EAX, POK_ERRNO_EINVAL)
            return
        if number == POK_SYSCALL_CONSWRITE:
            trace.console += uc.mem_read(words[0], words[1])
        elif number == POK_SYSCALL_PARTITION_GET_ID:
            uc.mem_write(words[0], bytes([identifier]))
        elif number == POK_SYSCALL_PARTITION_SET_MODE and words[0] == POK_PARTITION_MODE_IDLE:
            uc.reg_write(UC_X86_REG_EAX, POK_ERRNO_PARTITION_MODE)
            return
        elif number == POK_SYSCALL_PARTITION_SET_MODE and words[0] == POK_PARTITION_MODE_NORMAL:
            uc.emu_stop()
        uc.reg_write(UC_X86_REG_EAX, POK_ERRNO_OK)

    uc.hook_add(UC_HOOK_INTR, on_interrupt)
    uc.emu_start(loaded.header["e_entry"], memory_size, count=2_000_000)
    return trace


@pytest.fixture(scope="module")
def hello(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("pok-hello")
    result = build("hello", out)
    assert result.returncode == 0, result.stderr
    return out / "hello.img"


def test_the_profile_declares_pok_s_own_calls() -> None:
    iface = load(POK_PROFILE)
    [abi] = iface.abis
    assert (abi.trap_immediate, abi.arch.name) == (POK_SYSCALL_INT_NUMBER, "x86")
    numbers = {h.name: h.number for h in iface.hypercalls}
    assert numbers["console_write"] == POK_SYSCALL_CONSWRITE
    assert numbers["partition_set_mode"] == POK_SYSCALL_PARTITION_SET_MODE
    assert numbers["partition_get_id"] == POK_SYSCALL_PARTITION_GET_ID
    # GETTICK is POK's clock in nanoseconds: the service of get_time
    assert {numbers["get_time"], numbers["raise_application_error"], numbers["shutdown"]} == \
        {20, 303, 707}
    [modes] = [t for t in iface.types if t.name == "partition_mode"]
    assert isinstance(modes, Enum)
    idle = modes.member("IDLE")
    assert idle is not None and idle.value == POK_PARTITION_MODE_IDLE


def test_a_pok_guest_traps_as_libpok_does(hello: Path) -> None:
    """hello, run with nothing but POK's answers: every trap is int $42 with a well-formed
    pok_syscall_args_t, its console text arrives through CONSWRITE, and it ends asking for
    mode IDLE, then, refused, for NORMAL; no other vector is ever raised."""
    image = read_image(hello)
    entry = image.manifest.partitions[0]
    trace = run_as_pok_would(image.partition_elf(0), entry.memory_size, entry.identifier)
    assert trace.foreign_traps == []
    assert trace.console.decode() == (
        "\n\n*** BEGIN OF TEST hello ***\nHello World\n\n*** END OF TEST hello ***\n")
    assert {number for number, _ in trace.calls} == {POK_SYSCALL_CONSWRITE,
                                                     POK_SYSCALL_PARTITION_SET_MODE}
    for number, words in trace.calls:
        assert len(words) == POK_READS[number]
    assert trace.calls[-2:] == [(POK_SYSCALL_PARTITION_SET_MODE, (POK_PARTITION_MODE_IDLE,)),
                                (POK_SYSCALL_PARTITION_SET_MODE, (POK_PARTITION_MODE_NORMAL,))]


def test_a_failing_program_reports_to_pok_s_health_monitor(tmp_path: Path) -> None:
    """pokstatus, its first getter refused by POK: it returns 1, and the runtime, which has no
    stop call on POK, raises an application error with its message before its end."""
    result = pvgen("image", "--config", ROOT / "tests" / "profiles" / "pokstatus.xml", "--out",
                   tmp_path / "s.img", "--def", POK_PROFILE, "--gen", tmp_path / "gen")
    assert result.returncode == 0, result.stderr
    image = read_image(tmp_path / "s.img")
    entry = image.manifest.partitions[0]
    trace = run_as_pok_would(image.partition_elf(0), entry.memory_size, entry.identifier,
                             refused=frozenset({POK_SYSCALL_PARTITION_GET_ID}))
    assert trace.foreign_traps == []
    assert trace.console.decode() == "a getter failed\n"
    numbers = [number for number, _ in trace.calls]
    assert numbers == [POK_SYSCALL_PARTITION_GET_ID, POK_SYSCALL_CONSWRITE,
                       POK_SYSCALL_ERROR_RAISE_APPLICATION_ERROR,
                       POK_SYSCALL_PARTITION_SET_MODE, POK_SYSCALL_PARTITION_SET_MODE]
    for number, words in trace.calls:
        assert len(words) == POK_READS[number]


def test_the_partition_getters_answer_in_the_emulator(tmp_path: Path) -> None:
    """tests/profiles/pokstatus.c reads its status field by field with POK's calls 405..410
    and prints it; the emulator's services answer from the configuration."""
    config = ROOT / "tests" / "profiles" / "pokstatus.xml"
    result = pvgen("image", "--config", config, "--out", tmp_path / "s.img", "--def",
                   POK_PROFILE, "--gen", tmp_path / "gen")
    assert result.returncode == 0, result.stderr
    booted = pvgen("boot", tmp_path / "s.img", "--gen", tmp_path / "gen")
    assert booted.returncode == 1, booted.stderr  # it runs, but prints no test banners
    assert booted.stdout.splitlines()[:3] == [
        "[pokstatus] id 7, period 20000000 ns, duration 5000000 ns, lock level 0",
        "[pokstatus] mode 1 (COLD_START), start condition 0 (NORMAL_START)",
        "[pokstatus] done",
    ]


def test_pok_s_port_calls_are_served_with_their_own_argument_lists(tmp_path: Path) -> None:
    """tests/profiles/pokports.xml: POK's port system calls 101..105 and 110..114, with POK's
    argument lists and nanoseconds, served by the services hypercalls.def's lists use, and
    answered in POK's numbers: a refused PRIORITY discipline (305), a full queue FULL (311)
    to a send, an empty one EMPTY (308) to a receive. Room and messages come across windows
    to the partitions' polling, as on the real kernel (tests/test_pok_system.py)."""
    config = ROOT / "tests" / "profiles" / "pokports.xml"
    result = pvgen("image", "--config", config, "--out", tmp_path / "p.img", "--def",
                   POK_PROFILE, "--gen", tmp_path / "gen")
    assert result.returncode == 0, result.stderr
    booted = pvgen("boot", tmp_path / "p.img", "--gen", tmp_path / "gen",
                   "--trace", tmp_path / "trace.json")
    assert booted.returncode == 1, booted.stderr  # they run, but print no test banners
    assert "run ended (all stopped) at 0.060000 s virtual" in booted.stdout
    # the trace: one `hypercall` instant per call the summary counts, and no wait
    events = json.loads((tmp_path / "trace.json").read_text())["traceEvents"]
    names = {e["tid"]: e["args"]["name"] for e in events if e["name"] == "thread_name"}
    for tid, name in names.items():
        calls = sum(e.get("cat") == "hypercall" and e["tid"] == tid for e in events)
        assert any(line.startswith(f"  {name}: ") and f", {calls} hypercalls," in line
                   for line in booted.stdout.splitlines()), (name, calls)
    assert not any(e.get("cat") == "wait" for e in events)
    lines = [line for line in booted.stdout.splitlines() if line.startswith("[")]
    assert lines == [
        "[pokproducer] sample_out: max 16, direction 2, refresh 20 ms",
        "[pokconsumer] priority queue: status 305",
        "[pokconsumer] queue_in: max 8, direction 1, waiting 0",
        "[pokproducer] write: status 0",
        "[pokproducer] send m1: status 0",
        "[pokproducer] send m2: status 311",
        '[pokconsumer] read: status 0, "s1", length 16, valid 1 after 20 ms',
        '[pokconsumer] receive: status 0, "m1", length 8',
        '[pokconsumer] receive: status 308, "", length 0',
        "[pokproducer] send m2 again: status 0 after 20 ms",
        "[pokproducer] done",
        '[pokconsumer] receive again: status 0, "m2", length 8 after 20 ms',
        "[pokconsumer] done",
    ]


def test_a_call_whose_parameters_no_service_takes_is_refused_at_its_line(
        tmp_path: Path) -> None:
    """The services bind arguments by name: a definition giving a call a parameter its
    service does not know, or leaving out one it needs, is refused before anything is built,
    at the parameter's line or the call's (the catalogue, pvgen.catalogue)."""
    # elsewhere: what the profile uses, by its whole path
    text = POK_PROFILE.read_text().replace('use "../../hypercalls.def";',
                                           f'use "{ROOT / "hypercalls.def"}";')
    changed = text.replace('    timeout: pok_timeout "How long to wait for room: 0, not at all.";',
                           '    patience: pok_timeout "How long to wait.";')
    changed = changed.replace("    max_size: u32 \"The largest message, as configured.\";\n"
                              "    direction: port_direction \"Its direction, as configured.\";\n"
                              "    refresh_period",
                              "    direction: port_direction \"Its direction.\";\n"
                              "    refresh_period")
    assert changed.count("patience") == 1 and changed != text
    definition = tmp_path / "renamed.def"
    definition.write_text(changed)
    config = ROOT / "tests" / "profiles" / "pokstatus.xml"
    result = pvgen("image", "--config", config, "--out", tmp_path / "s.img", "--def",
                   definition, "--gen", tmp_path / "gen")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = changed.splitlines()
    patience = next(n for n, line in enumerate(lines, 1) if "patience" in line)
    create = next(n for n, line in enumerate(lines, 1)
                  if line.startswith("hypercall sampling_create"))
    assert result.stderr.splitlines()[::3] == [
        f"{definition}:{create}:11: error: the emulator's 'sampling_create' service needs the "
        "parameter(s) max_size",
        f"{definition}:{patience}:5: error: the emulator's 'queuing_send' service takes no "
        "parameter 'patience' (it takes id, msg, len, timeout)",
    ]
    assert not (tmp_path / "s.img").exists()


def test_the_pok_image_packs_into_a_pok_linked_kernel(hello: Path, tmp_path: Path) -> None:
    """--kernel writes the POK-profile partition into a kernel linked as POK's make rules
    link one (tests/pokfake; tests/test_pok_system.py does it to a real POK kernel)."""
    kernel = link_fake_pok(tmp_path, [b"placeholder" * 1000])
    result = build("hello", tmp_path / "out", "--kernel", kernel)
    assert result.returncode == 0, result.stderr
    image = read_image(tmp_path / "out" / "hello.img")
    assert image.partition_elf(0) == read_image(hello).partition_elf(0)
    assert image.archive in (tmp_path / "out" / "hello.pok" / "pok.elf").read_bytes()
    deployment = (tmp_path / "out" / "hello.pok" / "kernel" / "deployment.h").read_text()
    assert "POK_NEEDS_X86_VMM" not in deployment  # the unmodified kernel: no hypercall branch


def test_the_generated_kernel_gates_refuse_pok_s_own_vector(tmp_path: Path) -> None:
    """For this profile there is nothing to add to POK: the generated x86 gates, which would
    take vector 42 from POK's system calls, do not compile, and say why."""
    assert pvgen("gen", "--def", POK_PROFILE, "--out", tmp_path).returncode == 0
    gates = tmp_path / "pok" / "kernel" / "arch" / "x86" / "hypercall.c"
    assert '#error "ABI pok_x86 traps with int $42, POK\'s system-call vector' in \
        gates.read_text()


@pytest.mark.parametrize(("example", "message"), [
    ("ticker", "call to 'clock_start' declared with attribute error: the runtime has no "
               "virtual clock: interface pv lacks console_read, timer_set_period"),
    ("ports", "include/apex.h: the ARINC 653 APEX layer calls hypercalls that interface pv "
              "(pok_x86.def) lacks: partition_get_status"),
])
def test_an_example_needing_what_pok_lacks_says_so(
    tmp_path: Path, example: str, message: str
) -> None:
    result = build(example, tmp_path)
    assert result.returncode != 0
    assert message in result.stderr.replace("\u2018", "'").replace("\u2019", "'")
    assert "Traceback" not in result.stderr


def test_the_rtems_bsp_is_refused_for_want_of_a_clock(tmp_path: Path) -> None:
    """RTEMS needs its clock tick, which POK's own calls cannot give a partition."""
    with pytest.raises(BspError, match=r"virtual interrupts .* lacks: \['console_read', "
                                       r"'timer_set_period'"):
        render_rtems_bsp(load(POK_PROFILE), tmp_path)
