"""Synthetic hypercall definitions of any size, for benchmarks."""

from __future__ import annotations

from pathlib import Path

_HEAD = """\
interface synth version 1 "A synthetic interface for benchmarks.";
status { OK = 0 "ok"; INVALID = 1 "bad"; UNKNOWN = 2 "no such call"; }
reject unknown_call = UNKNOWN;
reject bad_pointer = INVALID;
reject bad_arg_count = INVALID;
reject bad_value = INVALID;
abi block_x86 for x86 { trap int 45; number eax; arguments block ebx max 5 counted;
                        return eax; word 32; default; }
abi regs_x86 for x86 { trap int 46; number eax; arguments registers ebx ecx edx esi edi;
                       return eax; word 32; }
abi svc_arm for arm { trap svc 0; number r7; arguments registers r0 r1 r2 r3 r4;
                      return r0; word 32; }
enum mode : u32 { A = 0; B = 1; C = 2; }
struct pair { first: u32; second: u32; }
"""

# Four call shapes, cycled: buffers with a length, a 64-bit value, a string and
# an out struct, enums and narrow integers.
_SHAPES = (
    'in buf: u8[len] "data"; len: u32 "length"; out done: u32 "written";',
    'period: i64 "ns"; flags: u16 "flags";',
    'in name: u8[nul 32] "name"; out result: pair "result"; which: mode "mode";',
    'line: u8 "line"; enabled: bool "on"; out value: u64 "value";',
)


def synthetic_definition(calls: int) -> str:
    body = [_HEAD]
    for n in range(calls):
        shape = _SHAPES[n % len(_SHAPES)]
        body.append(f'hypercall call_{n} = {1000 + n} "Synthetic call {n}." {{ {shape} }}\n')
    return "".join(body)


def write_synthetic(directory: Path, calls: int) -> Path:
    path = directory / f"synth{calls}.def"
    path.write_text(synthetic_definition(calls), encoding="utf-8")
    return path
