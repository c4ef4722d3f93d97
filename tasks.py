"""invoke tasks: thin wrappers over the ``pvgen`` command (``invoke --list``)."""

from __future__ import annotations

from invoke import Context, task


@task(help={"definition": "hypercall definition file", "out": "output directory",
            "update_lock": "record the ABI in the lock file"})
def gen(c: Context, definition: str = "hypercalls.def", out: str = "build/gen",
        update_lock: bool = False) -> None:
    """Generate every side of the hypercall interface (pvgen gen)."""
    flags = " --update-lock" if update_lock else ""
    c.run(f"pvgen gen --def {definition} --out {out}{flags}", pty=False)


@task
def test(c: Context) -> None:
    """Run the test suite."""
    c.run("python -m pytest -q", pty=False)


@task
def bench(c: Context) -> None:
    """Run the benchmarks and print their figures."""
    c.run("python bench/run_all.py", pty=False)


@task
def lint(c: Context) -> None:
    """ruff and mypy over the project."""
    c.run("ruff check pvgen emulator tests bench tasks.py", pty=False)
    c.run("mypy", pty=False)
