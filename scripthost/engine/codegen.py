"""Generated event handlers: one body of source, compiled twice.

A body is the indented source of a handler for one queue item ``item``.
`compile_handler` compiles it as ``h(item)`` and, as ``h.run(items)``, the
same body inside a loop: the session hands a batch of events of one type to
``run`` (when a handler has it), one Python call instead of one per event.
"""

from __future__ import annotations

import struct
from typing import Any, Callable, Iterable

from scripthost.engine.attrs import S_CPU, S_PID, S_RAW, S_TID, S_TIME
from scripthost.engine.generated import exec_generated

__all__ = ["compile_handler", "struct_reads", "tracepoint_decoder"]

def compile_handler(body: list[str], env: dict[str, Any], filename: str) -> Callable[[tuple], Any]:
    """``h(item)`` from ``body`` (lines indented by 4 spaces, no ``return``), with ``h.run(items)``."""
    assert not any(line.lstrip().startswith("return") for line in body), "a body may not return"
    src = ["def one(item):", *body, "", "def run(items):", "    for item in items:",
           *("    " + line for line in body)]
    exec_generated("\n".join(src), filename, env)
    one = env["one"]
    one.run = env["run"]
    return one


def struct_reads(reads: Iterable[tuple[int, str, str]]) -> tuple[str, list[str], list[tuple[int, str, str]]]:
    """(offset, struct code, name) reads as one Struct from offset 0: (its format, the
    names it binds in order, the reads overlapping an earlier one, each to be read alone)."""
    fmt, names, over, at = "<", [], [], 0
    for off, code, name in sorted(reads):
        if off < at:
            over.append((off, code, name))
            continue
        if off > at:
            fmt += f"{off - at}x"
        fmt += code
        at = off + struct.calcsize("<" + code)
        names.append(name)
    return fmt, names, over


def tracepoint_decoder(ev: Any, sfmt: str, names: list[str], over: list[tuple[int, str, str]],
                       uses_raw: bool, need: int, corrupt: str, pid: bool = False) -> tuple[list[str], dict[str, Any]]:
    """Body lines binding a tracepoint sample's ``t``, ``cpu``, ``tid`` (and ``pid`` with
    ``pid``: -1 where not sampled), ``rs`` (its payload's
    size), ``raw`` (where ``uses_raw``, or a read overlaps) and the payload reads (``sfmt``
    into ``names`` from payload offset 0, then each of ``over``), and the names they need.
    A payload that runs past its sample, or short of ``need`` bytes, raises its fault at its
    offset: ``corrupt`` and "the payload runs past its sample" / "a field runs past the payload"."""
    from scripthost.engine.source import record_fault
    env: dict[str, Any] = {"struct": struct, "fault": record_fault, "parse": ev.parse, "NEED": need,
                           "SHORT": corrupt + "a field runs past the payload"}
    lead = ["size", "pid", "tid", "time", "cpu", "raw_size"] if pid else ["size", "tid", "time", "cpu", "raw_size"]
    fast = ev.fixed_struct(lead, extra=sfmt)
    if fast is not None:
        raw_off = ev.fixed_layout["raw"][0]
        env.update(S=fast, lead=ev.lead_reader(), PAST=corrupt + "the payload runs past its sample")
        bound = ["size", "pid", "tid", "t", "cpu", "rs"] if pid else ["size", "tid", "t", "cpu", "rs"]
        lines = ["    pos = item[1]", "    buf = item[2]", "    try:",
                 f"        {', '.join(bound + names)} = S.unpack_from(buf, pos)",
                 "    except struct.error:",  # the fields run past the input read so far
                 "        size, tid, t, cpu, rs = lead(buf, pos)",
                 *(["        pid = -1"] if pid else []),
                 f"    if rs > size - {raw_off}:",
                 "        raise fault(PAST, buf, pos)"]
        if over or uses_raw:
            lines.append(f"    raw = buf[pos + {raw_off}:pos + {raw_off} + rs]")
        lines += ["    if rs < NEED:", "        raise fault(SHORT, buf, pos)"]
    else:
        env["S"] = struct.Struct(sfmt)
        lines = ["    smp = parse(item[2], item[1])",
                 f"    t, cpu, pid, tid, raw = smp[{S_TIME}], smp[{S_CPU}], smp[{S_PID}], smp[{S_TID}], smp[{S_RAW}]",
                 "    rs = len(raw) if raw is not None else -1",
                 "    if rs < NEED:", "        raise fault(SHORT, item[2], item[1])",
                 f"    {', '.join(names)}{',' if len(names) == 1 else ''} = S.unpack_from(raw, 0)"]
    lines += [f"    {var} = struct.unpack_from('<{code}', raw, {off})[0]" for off, code, var in over]
    return lines, env
