"""`pvgen image`'s whole job: tell an image that is up to date from one to build, build
it if it must be, and the report either way (pvgen.image.uptodate)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from pvgen.image.uptodate import ImageReport, ImageRequest, current_report, forget, remember


def made(request: ImageRequest, jobs: int | None = None,
         before_build: Callable[[], None] | None = None) -> tuple[ImageReport, bool]:
    """The image's report, and whether it was built now (False: it was up to date);
    `before_build` runs first when it must be built (a check that would refuse it)."""
    report = current_report(request)
    if report is not None:
        return report, False
    if before_build is not None:
        before_build()
    from pvgen.image.builder import build_image  # lief and the toolchain: only to build
    from pvgen.image.inspect import format_manifest

    forget(request)
    result = build_image(request.config, request.out, request.definition, request.gen_dir,
                         request.kernel, request.arch, jobs)
    report = ImageReport(
        interface=replace(result.generated, changed=()).summary,
        notes=result.generated.notes,
        warnings=result.warnings,
        pok_note=result.pok_note,
        pok_dir=str(result.pok_dir),
        kernel=None if result.kernel is None else str(result.kernel),
        manifest=format_manifest(result.manifest),
    )
    remember(request, report, result.read, result.written, result.compiler)
    return replace(report, interface=result.generated.summary), True
