"""An image's manifest is untrusted input: each field is checked for its type, its range and
where it leads before anything of the image runs, and every corruption is one ManifestError
naming the field — never another exception, never a hang.

The corpus below changes one thing each in a real manifest (three partitions, two channels,
HM tables); the property test feeds the reader random bytes and random changes.
"""

from __future__ import annotations

import contextlib
import copy
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pvgen.definition import load
from pvgen.image.manifest import ManifestError
from pvgen.image.manifest_rules import read_manifest
from pvgen.image.pack import build_manifest, pack_image
from pvgen.image.read import ImageError, read_image
from pvgen.limits import MAX_PORT_MEMORY
from tests.conftest import DEFINITION
from tests.modules import three_partitions
from tests.test_image_container import BUILT

Document = dict[str, Any]


def _document() -> Document:
    manifest = build_manifest(three_partitions(), BUILT, load(DEFINITION), "x86_int")
    document: Document = json.loads(manifest.to_json())
    return document


GOOD = _document()


def _set(path: str, value: object) -> Callable[[Document], None]:
    """A change that sets the field at a dotted path (list indexes as numbers)."""
    *parents, last = path.split(".")

    def change(document: Document) -> None:
        node: Any = document
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node[key]
        node[int(last) if isinstance(node, list) else last] = value
    return change


def _drop(path: str) -> Callable[[Document], None]:
    *parents, last = path.split(".")

    def change(document: Document) -> None:
        node: Any = document
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node[key]
        del node[last]
    return change


CORRUPTIONS: list[tuple[str, Callable[[Document], None], str]] = [
    # types: no coercion, no missing field, no unknown one
    ("size as a string", _set("partitions.0.memory_size", "131072"),
     r"partitions\[0\]\.memory_size: an integer expected, not '131072'"),
    ("count as a bool", _set("partitions.1.ports.1.max_nb_messages", True),
     r"partitions\[1\]\.ports\[1\]\.max_nb_messages: an integer or null expected, not True"),
    ("time as a float", _set("major_frame_ns", 2e7),
     r"major_frame_ns: an integer expected, not 20000000\.0"),
    ("name as a number", _set("module", 3), r"manifest\.module: a string expected, not 3"),
    ("flag as a number", _set("windows.0.period_start", 1),
     r"windows\[0\]\.period_start: true or false expected, not 1"),
    ("list for an object", _set("partitions.2", []),
     r"partitions\[2\]: an object expected, not a list"),
    ("pair of three", _set("channels.0.source", [1, "temp_out", 3]),
     r"channels\[0\]\.source: a list of 2 expected, not of 3"),
    ("missing field", _drop("partitions.0.stack_size"),
     r"partitions\[0\]: the field 'stack_size' is missing"),
    ("unknown field", _set("windows.1.owner", "x"), r"windows\[1\]: no field named 'owner'"),
    # ranges
    ("negative size", _set("partitions.0.memory_size", -1), r"memory_size -1 is not a 32-bit"),
    ("stack as big as memory", _set("partitions.0.stack_size", 131072),
     r"partition 'alpha': a stack of 131072 bytes does not fit its 131072 bytes"),
    ("entry beyond memory", _set("partitions.1.entry", 1 << 20),
     r"partition 'beta': its program \(entry 0x100000"),
    ("kept range beyond memory",
     _set("partitions.0.warm_start_keeps", [{"section": ".data", "address": 0x1F000,
                                             "size": 0x2000}]),
     r"the section '\.data' a warm start keeps, at 0x1f000, does not fit"),
    ("kept section not a name",
     _set("partitions.0.warm_start_keeps", [{"section": "a b/c", "address": 0, "size": 4}]),
     r"a kept section's name 'a b/c' is not a section name"),
    ("time beyond 64 bits", _set("partitions.0.timer_period_ns", 1 << 64),
     r"a timer period of 18446744073709551616 ns is not a time"),
    ("duration over period", _set("partitions.0.duration_ns", 30_000_000),
     r"partition 'alpha': a duration of 30000000 ns is longer than its period"),
    ("empty message", _set("partitions.0.ports.0.max_message_size", 0),
     r"port 'temp_out': a message size of 0 bytes"),
    ("port memory beyond the limit", _set("partitions.2.ports.0.max_nb_messages", 1 << 31),
     rf"more than a module's may \({MAX_PORT_MEMORY}\)"),
    ("sampling with a count", _set("partitions.0.ports.0.max_nb_messages", 4),
     r"a message count is for queuing ports"),
    ("queuing without one", _set("partitions.2.ports.0.max_nb_messages", None),
     r"a message count is for queuing ports"),
    ("fingerprint not hex", _set("fingerprint", "../../../tmp/x_y"),
     r"the interface fingerprint is not 16 hexadecimal digits"),
    # words of an enumeration
    ("unknown kind", _set("partitions.0.ports.0.kind", "broadcast"),
     r"the kind 'broadcast' is not one of queuing, sampling"),
    ("unknown direction", _set("partitions.0.ports.0.direction", "BOTH"),
     r"the direction 'BOTH' is not one of DESTINATION, SOURCE"),
    ("unknown error", _set("hm_levels", {"SEGFAULT": "MODULE"}),
     r"System HM level: the error 'SEGFAULT' is not one of"),
    ("unknown action", _set("partitions.1.hm_actions", {"MEMORY_VIOLATION": "REBOOT"}),
     r"partition 'beta': HM action: the value 'REBOOT' is not one of COLD_START"),
    ("module action of a partition", _set("module_hm_actions", {"POWER_FAIL": "COLD_START"}),
     r"module HM action: the value 'COLD_START' is not one of IGNORE, RESET, SHUTDOWN"),
    # references and uniqueness
    ("repeated identifier", _set("partitions.1.identifier", 1),
     r"partition identifier '1' is given 2 times"),
    ("repeated name", _set("partitions.2.name", "alpha"), r"partition name 'alpha' is given 2"),
    ("repeated port", _set("partitions.1.ports.1.name", "temp_in"),
     r"partition 'beta': port name 'temp_in' is given 2 times"),
    ("window of nobody", _set("windows.2.partition", 9),
     r"window 3: no partition has identifier 9"),
    ("overlapping windows", _set("windows.1.start_ns", 4_000_000),
     r"window 2 overlaps the window before it"),
    ("window past the frame", _set("windows.2.duration_ns", 10_000_001),
     r"window 3 does not lie in the major frame"),
    ("channel to nowhere", _set("channels.0.destinations", [[2, "nothing"]]),
     r"channel 1: partition 2 has no port named 'nothing'"),
    ("channel the wrong way", _set("channels.0.source", [2, "temp_in"]),
     r"channel 1: port 'temp_in' of partition 2 is not a SOURCE"),
    ("channel of two kinds", _set("channels.1.destinations", [[2, "temp_in"]]),
     r"channel 2: port 'temp_in' of partition 2 does not carry the source's messages"),
    ("port in two channels", _set("channels.1.destinations", [[2, "temp_in"], [3, "cmd_in"]]),
     r"port 'temp_in' of partition 2 is in 2 channels"),
    ("channel without destination", _set("channels.0.destinations", []),
     r"channel 1 has no destination"),
]


@pytest.mark.parametrize(("change", "message"), [(c, m) for _, c, m in CORRUPTIONS],
                         ids=[name for name, _, _ in CORRUPTIONS])
def test_each_corruption_is_refused_naming_the_field(
        change: Callable[[Document], None], message: str) -> None:
    document = copy.deepcopy(GOOD)
    change(document)
    with pytest.raises(ManifestError, match=message):
        read_manifest(json.dumps(document).encode())


def test_the_corpus_starts_from_a_manifest_that_is_read() -> None:
    assert read_manifest(json.dumps(GOOD).encode()).module == "three"


def test_a_manifest_that_breaks_many_rules_says_how_many_more() -> None:
    document = copy.deepcopy(GOOD)
    document["windows"] = [{**document["windows"][0], "identifier": n, "partition": 99}
                           for n in range(20)]
    with pytest.raises(ManifestError, match=r"; and \d+ more$"):
        read_manifest(json.dumps(document).encode())


def test_json_that_is_no_manifest_is_refused() -> None:
    for data in (b"[]", b"null", b"\xff\xfe", b"[" * 100_000, b"9" * 5000,
                 b'{"format":1}', b'{"format":true}'):
        with pytest.raises(ManifestError):
            read_manifest(data)


# The property: whatever is in the manifest section, reading the image ends in an image or an
# ImageError, within a time bound (a manifest, however hand-made, costs time linear in its size).
_JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
                     lambda inner: st.lists(inner, max_size=3)
                     | st.dictionaries(st.text(max_size=8), inner, max_size=3), max_leaves=8)


def _paths(node: object, at: str = "") -> list[str]:
    """The dotted path of every field and item in a document."""
    items = (enumerate(node) if isinstance(node, list)
             else node.items() if isinstance(node, dict) else ())
    found = [at] if at else []
    for key, value in items:
        found += _paths(value, f"{at}.{key}" if at else str(key))
    return found


_PATHS = _paths(GOOD)


@settings(max_examples=300, deadline=None)
@given(changes=st.lists(st.tuples(st.sampled_from(_PATHS), _JSON), max_size=4))
def test_random_manifests_are_read_or_refused(changes: list[tuple[str, object]]) -> None:
    document = copy.deepcopy(GOOD)
    for path, value in changes:
        try:
            _set(path, value)(document)
        except (KeyError, IndexError, TypeError, ValueError):
            continue  # an earlier change took the path away
    began = time.perf_counter()
    with contextlib.suppress(ManifestError):
        read_manifest(json.dumps(document).encode())
    assert time.perf_counter() - began < 0.5


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_random_bytes_in_an_image_are_an_image_error(tmp_path_factory: pytest.TempPathFactory,
                                                     data: st.DataObject) -> None:
    directory = tmp_path_factory.mktemp("image")
    good = pack_image(build_manifest(three_partitions(), BUILT, load(DEFINITION), "x86_int"),
                      BUILT)
    path = directory / "random.img"
    if data.draw(st.booleans(), label="whole file random"):
        path.write_bytes(data.draw(st.binary(max_size=4096), label="bytes"))
    else:
        spoiled = bytearray(good)
        for _ in range(data.draw(st.integers(1, 8), label="changes")):
            at = data.draw(st.integers(0, len(spoiled) - 1), label="offset")
            spoiled[at] = data.draw(st.integers(0, 255), label="byte")
        path.write_bytes(bytes(spoiled))
    began = time.perf_counter()
    try:
        read_image(path)
    except ImageError as error:
        assert str(error).startswith(f"pvgen: error: {path}: ")
    assert time.perf_counter() - began < 0.5


def test_a_read_image_is_checked_too(tmp_path: Path) -> None:
    manifest = build_manifest(three_partitions(), BUILT, load(DEFINITION), "x86_int")
    path = tmp_path / "system.img"
    data = pack_image(manifest, BUILT)
    path.write_bytes(data.replace(b'"kind":"sampling"', b'"kind":"samplinG"', 1))
    with pytest.raises(ImageError, match=r"the kind 'samplinG' is not one of"):
        read_image(path)
