"""The human-readable table `pvgen inspect` prints for an image."""

from __future__ import annotations

from collections.abc import Sequence

from pvgen.image.manifest import Manifest


def _ms(ns: int) -> str:
    return f"{ns / 1_000_000:.3f}"


def _rows(header: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> list[str]:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    return ["  " + "  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip()
            for r in [header, *rows]]


def format_manifest(manifest: Manifest) -> str:
    names = {p.identifier: p.name for p in manifest.partitions}
    lines = [
        f"module {manifest.module}: {len(manifest.partitions)} partition(s), arch {manifest.arch}, "
        f"ABI {manifest.abi}",
        f"interface {manifest.interface} v{manifest.interface_version}, "
        f"fingerprint {manifest.fingerprint}",
        f"major frame {_ms(manifest.major_frame_ns)} ms",
        "",
        "partitions:",
        *_rows(
            ("id", "name", "file", "memory", "stack", "entry", "image end", "timer ms",
             "system"),
            [
                (str(p.identifier), p.name, str(p.file_size), str(p.memory_size),
                 str(p.stack_size), f"{p.entry:#x}", f"{p.image_end:#x}",
                 _ms(p.timer_period_ns) if p.timer_period_ns else "-",
                 "yes" if p.system else "no")
                for p in manifest.partitions
            ],
        ),
        "",
        "windows:",
        *_rows(
            ("id", "partition", "start ms", "duration ms", "period start"),
            [
                (str(w.identifier), names.get(w.partition, str(w.partition)), _ms(w.start_ns),
                 _ms(w.duration_ns), "yes" if w.period_start else "no")
                for w in manifest.windows
            ],
        ),
    ]
    ports = [(p, port) for p in manifest.partitions for port in p.ports]
    if ports:
        lines += ["", "ports:", *_rows(
            ("partition", "port", "kind", "direction", "max size", "refresh ms / depth"),
            [
                (p.name, port.name, port.kind, port.direction, str(port.max_message_size),
                 _ms(port.refresh_period_ns) if port.refresh_period_ns is not None
                 else str(port.max_nb_messages))
                for p, port in ports
            ],
        )]
    if manifest.channels:
        lines += ["", "channels:", *_rows(
            ("id", "source", "destinations"),
            [
                (str(c.identifier), f"{names.get(c.source[0])}.{c.source[1]}",
                 ", ".join(f"{names.get(p)}.{n}" for p, n in c.destinations))
                for c in manifest.channels
            ],
        )]
    hm = [(p.name, e, a) for p in manifest.partitions for e, a in p.hm_actions.items()]
    if hm or manifest.module_hm_actions:
        lines += ["", "health monitor:", *_rows(
            ("scope", "error", "level", "action"),
            [("module", e, manifest.hm_levels.get(e, "PARTITION"), a)
             for e, a in manifest.module_hm_actions.items()]
            + [(name, e, manifest.hm_levels.get(e, "PARTITION"), a) for name, e, a in hm],
        )]
    kept = [(p.name, k) for p in manifest.partitions for k in p.warm_start_keeps]
    if kept:
        lines += ["", "a warm start keeps:", *_rows(
            ("partition", "section", "address", "bytes"),
            [(name, k.section, f"{k.address:#x}", str(k.size)) for name, k in kept],
        )]
    return "\n".join(lines) + "\n"
