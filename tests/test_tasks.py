"""The invoke tasks take the pvgen command's own option names and quote what they pass: each
task's command, with every option set (paths with spaces), is read back by pvgen's own
parser; and a real `invoke image` builds a project in a directory with a space."""

from __future__ import annotations

import inspect
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from pvgen.cli import build_parser

invoke = pytest.importorskip("invoke", reason="the tasks need invoke (the dev extra)")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
import tasks  # noqa: E402  (the checkout's tasks.py, beside the tests)

# Values the options need to be valid for pvgen's parser (others: a path with a space).
VALID = {"suites": "samples", "arch": "arm", "time": "1.5", "tests": "hello ticker",
         "configs": "my dir/a.xml other/b.xml"}


class Recording(invoke.Context):  # type: ignore[misc]
    """A context that keeps the command a task would run instead of running it."""

    def __init__(self) -> None:
        super().__init__()
        self.commands: list[str] = []

    def run(self, command: str, **_: Any) -> None:  # type: ignore[override]
        self.commands.append(command)


PVGEN_TASKS = [t for name, t in vars(tasks).items()
               if isinstance(t, invoke.Task) and name not in ("test", "bench", "lint")]


@pytest.mark.parametrize("task", PVGEN_TASKS, ids=lambda t: t.name)
def test_every_option_of_a_task_is_the_cli_s_and_arrives_quoted(task: Any) -> None:
    parameters = list(inspect.signature(task.body).parameters.values())[1:]
    given: dict[str, object] = {}
    for parameter in parameters:
        if parameter.annotation in (bool, "bool"):
            given[parameter.name] = True
        elif parameter.annotation in (int, "int"):
            given[parameter.name] = 3
        else:
            given[parameter.name] = VALID.get(parameter.name, f"my dir/{parameter.name} x")
    context = Recording()
    task(context, **given)
    [command] = context.commands
    words = shlex.split(command)
    assert words[:3] == [sys.executable, "-m", "pvgen.cli"]
    args = build_parser().parse_args(words[3:])  # an option it does not know: SystemExit
    for name, value in given.items():
        if name == "time":
            assert args.time_ns == 1_500_000_000
        elif name in ("tests", "configs"):
            assert [str(v) for v in getattr(args, name)] == shlex.split(str(value))
        elif name == "suites":
            assert args.suites == ("samples",)
        elif isinstance(value, str):
            assert str(getattr(args, name)) == value, name
        else:
            assert getattr(args, name) == value, name


def test_invoke_image_builds_a_project_in_a_directory_with_a_space(tmp_path: Path) -> None:
    project = tmp_path / "my project"
    subprocess.run([sys.executable, "-m", "pvgen.cli", "new", str(project)], check=True,
                   capture_output=True, timeout=60)
    done = subprocess.run(
        [sys.executable, "-m", "invoke", "--search-root", str(ROOT), "image",
         "--config", str(project / "module.xml"), "--out", str(project / "out dir" / "p.img"),
         "--definition", str(project / "hypercalls.def"), "--gen", str(project / "gen dir")],
        capture_output=True, text=True, check=False, timeout=300, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (project / "out dir" / "p.img").is_file()
    assert (project / "gen dir" / "python").is_dir()
