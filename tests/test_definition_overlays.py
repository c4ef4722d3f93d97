"""Profiles as overlays: ``use "FILE";`` and the items over it. One small base and a
profile per rule, through the real parser and resolver; and the bundled XtratuM profile,
now written as its differences, against the whole definition it replaced."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from pvgen.definition import carried, files, load, load_carried
from pvgen.diagnostics import DefinitionError

ROOT = Path(__file__).resolve().parent.parent
XTRATUM = ROOT / "examples" / "hypervisors" / "xtratum_x86.def"

BASE = """\
interface demo version 1 "A test interface.";

status {
    OK      = 0 "Fine.";
    INVALID = 1 "Bad argument.";
    UNKNOWN = 2 "No such call.";
}

reject unknown_call  = UNKNOWN;
reject bad_pointer   = INVALID;
reject bad_arg_count = INVALID;
reject bad_value     = INVALID;

abi regs for x86 "Arguments in registers." {
    trap int 46;
    number eax;
    arguments registers ebx ecx edx;
    return eax;
    word 32;
}

type handle = u32 "A handle.";

hypercall write = 10 "Write bytes." {
    in buf: u8[len] "The bytes.";
    len: u32 "How many.";
}

hypercall close = 11 "Close a handle." {
    h: handle "The handle.";
}

reserved 50..59 "Kept for later.";
"""


def _profile(tmp_path: Path, text: str, base: str = BASE) -> Path:
    (tmp_path / "base").mkdir(exist_ok=True)
    (tmp_path / "base" / "demo.def").write_text(base, encoding="utf-8")
    (tmp_path / "profiles").mkdir(exist_ok=True)
    profile = tmp_path / "profiles" / "p.def"
    profile.write_text('use "../base/demo.def";\n' + text, encoding="utf-8")
    return profile


def _error(path: Path) -> str:
    with pytest.raises(DefinitionError) as raised:
        load(path)
    return raised.value.render()


def test_a_profile_replaces_adds_drops_and_renumbers(tmp_path: Path) -> None:
    profile = _profile(tmp_path, """
interface demo version 2 "The demo, another way.";
abi regs for x86 "Arguments in registers, another trap." {
    trap int 47;
    number eax;
    arguments registers ebx ecx edx;
    return eax;
    word 32;
}
renumber write = 1;
drop reserved 50;
hypercall open = 2 "Open a handle." {
    out h: handle "The new handle.";
}
""")
    iface = load(profile)
    base = load(tmp_path / "base" / "demo.def")
    assert (iface.version, base.version) == (2, 1)
    assert [(h.name, h.number) for h in iface.hypercalls] == [("write", 1), ("open", 2),
                                                              ("close", 11)]
    assert iface.abis[0].trap_immediate == 47 and iface.reserved == ()
    assert iface.hypercalls[0].params == base.hypercalls[0].params, "the rest of a call stays"
    assert list(files(profile)) == [str(profile), str(tmp_path / "base" / "demo.def")]


def test_a_profile_that_changes_nothing_is_its_base(tmp_path: Path) -> None:
    profile = _profile(tmp_path, "")
    assert load(profile).fingerprint == load(tmp_path / "base" / "demo.def").fingerprint


def test_an_error_in_a_used_item_points_into_the_used_file(tmp_path: Path) -> None:
    """The profile drops the type a call of the base still uses: the error is at the base's
    line, quoting it."""
    rendered = _error(_profile(tmp_path, "drop type handle;\n"))
    base_line = BASE.splitlines().index('    h: handle "The handle.";') + 1
    assert rendered.startswith(f"{tmp_path / 'base' / 'demo.def'}:{base_line}:8: error: ")
    assert rendered.splitlines()[1] == '        h: handle "The handle.";'


@pytest.mark.parametrize(("text", "column", "message"), [
    ("drop abi nothing;\n", 10, "the used definition has no abi 'nothing'"),
    ("drop enum handle;\n", 11, "the used definition has no enum 'handle'"),
    ("renumber nothing = 3;\n", 10, "the used definition has no hypercall 'nothing'"),
    ("drop reserved 51;\n", 15, "the used definition has no reserved '51'"),
])
def test_what_the_used_definition_lacks_is_named_at_the_profile_s_line(
        tmp_path: Path, text: str, column: int, message: str) -> None:
    profile = _profile(tmp_path, text)
    assert _error(profile).splitlines()[0] == f"{profile}:2:{column}: error: {message}"


def test_a_missing_or_circular_use_is_refused_at_the_use(tmp_path: Path) -> None:
    missing = tmp_path / "missing.def"
    missing.write_text('use "nowhere.def";\n', encoding="utf-8")
    assert _error(missing).splitlines()[0] == (
        f"{missing}:1:1: error: cannot use 'nowhere.def': no such file")
    (tmp_path / "a.def").write_text('use "b.def";\n', encoding="utf-8")
    (tmp_path / "b.def").write_text('use "a.def";\n', encoding="utf-8")
    assert _error(tmp_path / "a.def").splitlines()[0].endswith(
        "cannot use 'a.def': it uses itself "
        f"({tmp_path / 'a.def'} -> {tmp_path / 'b.def'} -> {tmp_path / 'a.def'})")


def test_use_comes_first_and_once(tmp_path: Path) -> None:
    late = _profile(tmp_path, 'use "../base/demo.def";\n')
    assert _error(late).startswith(f"{late}:2:")


def test_the_xtratum_profile_states_its_differences_and_is_the_same_interface() -> None:
    """Written over hypercalls.def, the profile is the interface its whole text was: the
    fingerprint its lock file records, and about a third of the lines."""
    lock = (XTRATUM.with_suffix(".lock.json")).read_text(encoding="utf-8")
    iface = load(XTRATUM)
    assert f'"fingerprint": "{iface.fingerprint}"' in lock
    assert len(XTRATUM.read_text(encoding="utf-8").splitlines()) < 130
    assert [Path(name).name for name in files(XTRATUM)] == ["xtratum_x86.def", "hypercalls.def"]


def test_an_image_carries_every_file_of_its_definition(tmp_path: Path) -> None:
    bundle = carried(XTRATUM)
    assert load_carried(bundle, "image").fingerprint == load(XTRATUM).fingerprint
    single = ROOT / "hypercalls.def"
    assert carried(single) == single.read_bytes(), "one file travels as its text"


def test_a_profile_s_image_boots_where_neither_file_is(tmp_path: Path) -> None:
    image = tmp_path / "hello.img"
    built = subprocess.run(
        [sys.executable, "-m", "pvgen.cli", "image", "--def", str(XTRATUM), "--config",
         str(ROOT / "examples" / "hello" / "module.xml"), "--out", str(image), "--gen",
         str(tmp_path / "gen")], capture_output=True, text=True, check=False, timeout=300)
    assert built.returncode == 0, built.stderr
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    booted = subprocess.run([sys.executable, "-m", "pvgen.cli", "boot", str(image)],
                            capture_output=True, text=True, check=False, timeout=300,
                            cwd=elsewhere, env={"PATH": "/usr/bin:/bin",
                                                "XDG_CACHE_HOME": str(tmp_path / "cache")})
    assert booted.returncode == 0, booted.stderr
    assert "  hello: passed" in booted.stdout


def test_a_carried_definition_reads_no_file_of_the_machine(tmp_path: Path) -> None:
    """An image is untrusted: its definition's `use` of a file it does not carry is refused
    at the use, and nothing of that file is read or quoted."""
    secret = tmp_path / "secret.def"
    secret.write_text("this is not for the image to read\n", encoding="utf-8")
    for carried_text in (f'use "{secret}";\n'.encode(), json.dumps({
            "format": "pvgen-definition-files", "main": "a.def",
            "files": {"a.def": f'use "{secret}";\n'}}).encode()):
        with pytest.raises(DefinitionError) as raised:
            load_carried(carried_text, "image.img:.pvgen.definition")
        rendered = raised.value.render()
        assert "cannot use" in rendered and "not among the files the image carries" in rendered
        assert "not for the image" not in rendered


def test_a_new_type_stands_before_the_replaced_item_that_follows_it(tmp_path: Path) -> None:
    """A replaced struct keeps its place, and a type the profile declares before it is put
    before it too, so that the struct may use it (the POK profile's time types)."""
    base = BASE + '''
struct info "Info." {
    a: u32 "A.";
}

hypercall get = 12 "Get." {
    out i: info "The info.";
}
'''
    profile = _profile(tmp_path, '''
type stamp = u64 unit ns "A time.";
struct info "Info, with a time." {
    a: stamp "A.";
}
type extra = u16 "Declared after every replacement: it goes last.";
''', base)
    names = [t.name for t in load(profile).types]
    assert names.index("stamp") == names.index("info") - 1
    assert names[-1] == "extra"
