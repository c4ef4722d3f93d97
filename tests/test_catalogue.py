"""The emulator's service catalogue (pvgen.catalogue): the services are what it declares,
`pvgen gen` refuses a call its service would fail on at the call's line, and a generated
dispatcher is what the emulator's Dispatcher protocol says, checked by mypy."""

from __future__ import annotations

import inspect
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from pvgen.catalogue import SERVICES
from pvgen.emulator.services import PartitionServices

ROOT = Path(__file__).resolve().parent.parent
DEFINITION = ROOT / "hypercalls.def"
# Handlers the dispatcher calls that answer no hypercall of their own.
NOT_SERVICES = {"hypercall_rejected", "end_program"}


def test_the_services_are_what_the_catalogue_declares() -> None:
    handlers = {name for name, member in vars(PartitionServices).items()
                if callable(member) and not name.startswith("_")} - NOT_SERVICES
    assert handlers == set(SERVICES)
    for name, service in SERVICES.items():
        signature = inspect.signature(getattr(PartitionServices, name)).parameters
        declared = {p.name: p.optional for p in service.params}
        taken = {p: info.default is not inspect.Parameter.empty
                 for p, info in signature.items() if p != "self"}
        assert taken == declared, name


def _gen(tmp_path: Path, text: str) -> subprocess.CompletedProcess[str]:
    definition = tmp_path / "d.def"
    definition.write_text(text, encoding="utf-8")
    return subprocess.run([sys.executable, "-m", "pvgen.cli", "gen", "--def", str(definition),
                           "--out", str(tmp_path / "gen")], capture_output=True, text=True,
                          check=False, timeout=120)


def _at(text: str, line_text: str, token: str) -> str:
    """LINE:COL of `token` on the line that begins (after blanks) with `line_text`."""
    for number, line in enumerate(text.splitlines(), 1):
        if line.strip().startswith(line_text):
            return f"{number}:{line.index(token) + 1}"
    raise AssertionError(line_text)


BASE = DEFINITION.read_text(encoding="utf-8")


# (what to change in hypercalls.def, the line then at fault, its token, the message)
REFUSED = [
    pytest.param('in buf: u8[len] "The bytes to write.";',
                 'in data: u8[len] "The bytes to write.";', "in data:", "data",
                 "the emulator's 'console_write' service takes no parameter 'data' "
                 "(it takes buf, len)", id="unknown parameter"),
    pytest.param('in name: u8[nul 32] "The port\'s name.";\n    out id: port_id',
                 'name: u32 "The port\'s name.";\n    out id: port_id', 'name: u32 "The port',
                 "name", "the emulator's 'sampling_port_id' service takes 'name' as bytes (a "
                 "pointer with its length)", id="a value for bytes"),
    pytest.param('    reserved          : u32            "Padding; always 0.";\n}\n\n'
                 'struct queuing_port_status',
                 '    age               : u32            "How old the message is.";\n}\n\n'
                 'struct queuing_port_status',
                 "out status: sampling_port_status", "status",
                 "the emulator's 'sampling_status' service fills no field age of 'status' "
                 "(it fills refresh_period, max_message_size, direction, last_msg_validity)",
                 id="a struct field it does not fill"),
    pytest.param('    WARM_START = 2 "Initialising after a warm start.";\n', "",
                 "enum partition_mode", "partition_mode",
                 "the emulator's services of partition_set_mode, partition_get_status need the "
                 "members WARM_START of 'partition_mode'",
                 id="an enum member it needs"),
    pytest.param("enum partition_mode", "enum operating_mode", "hypercall partition_set_mode",
                 "partition_set_mode",
                 "the emulator's 'partition_set_mode' service reads the enum 'partition_mode', "
                 "which the definition lacks", id="an enum it reads"),
]


@pytest.mark.parametrize(("old", "new", "line", "token", "message"), REFUSED)
def test_gen_refuses_a_call_its_service_would_fail_on_at_its_line(
        tmp_path: Path, old: str, new: str, line: str, token: str, message: str) -> None:
    text = BASE.replace(old, new, 1)
    if "operating_mode" in new:  # the enum renamed: every use of it too
        text = re.sub(r"\bpartition_mode\b(?! =)", "operating_mode", text)
    assert text != BASE
    done = _gen(tmp_path, text)
    assert done.returncode == 2, done.stdout
    assert f"{tmp_path / 'd.def'}:{_at(text, line, token)}: error: {message}" in \
        done.stderr.splitlines(), done.stderr
    assert not (tmp_path / "gen").exists(), "nothing generated"


def test_a_generated_dispatcher_is_the_emulator_s_dispatcher_to_mypy(tmp_path: Path) -> None:
    """mypy holds each bundled definition's generated module to the Dispatcher protocol, as
    a module assigned to it: a name the emulator reads that a dispatcher lacks, or has with
    another type, fails here."""
    pytest.importorskip("mypy", reason="mypy is the dev extra's")
    checks = []
    for number, definition in enumerate((DEFINITION, ROOT / "examples/hypervisors/pok_x86.def",
                                         ROOT / "examples/hypervisors/xtratum_x86.def")):
        out = tmp_path / f"gen{number}"
        subprocess.run([sys.executable, "-m", "pvgen.cli", "gen", "--def", str(definition),
                        "--out", str(out)], check=True, capture_output=True, timeout=120)
        module = tmp_path / f"dispatch{number}.py"
        module.write_bytes(next((out / "python").glob("*_dispatch.py")).read_bytes())
        checks.append(f"import dispatch{number}\nd{number}: Dispatcher = dispatch{number}\n")
    check = tmp_path / "check.py"
    check.write_text("from pvgen.emulator.contract import Dispatcher\n" + "".join(checks),
                     encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--no-incremental",
                           "--follow-imports=silent", str(check)], capture_output=True,
                          text=True, check=False, timeout=300, cwd=tmp_path,
                          env={**os.environ, "MYPYPATH": f"{tmp_path}{os.pathsep}{ROOT}"})
    assert done.returncode == 0, done.stdout
