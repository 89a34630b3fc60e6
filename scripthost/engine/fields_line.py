"""The line of one sample under -F, in perf 6.1's order and widths: comm, tid/pid,
cpu, misc, tod, time, period, event, flags, the tracepoint's fields, addr, data_src,
weight, ins_lat, the ip (or the callchain, a frame a line) with its symbol, offset and
dso as asked, then iregs, uregs, phys_addr and the page sizes."""

from __future__ import annotations

from typing import Any, Callable

from scripthost.engine.attrs import S_CALLCHAIN, S_CPU, S_IP, S_PERIOD, S_PID, S_RAW, S_TID, S_TIME, Evsel
from scripthost.engine.field_columns import (ADDR_SYMBOL_CONFIGS, EXTRA_AFTER_IP, EXTRA_BEFORE_IP, FLAGS_TEXT,
                                             clock_data, misc_text, tod_text)
from scripthost.engine.layouts import Feature, SampleType

__all__ = ["fields_handler"]

_KERNEL_START = 1 << 63  # perf's host kernel/user split of an address without a map in its mode


def fields_handler(printer: Any, ev: Evsel, name: str, chosen: frozenset) -> Callable[[tuple], Any]:
    """The handler writing ``ev``'s samples as the -F fields ``chosen`` of the
    DefaultPrinter ``printer``."""
    session = printer.session
    has = chosen.__contains__
    chain = has("ip") and bool(ev.sample_type & SampleType.CALLCHAIN) and not printer.hide_call_graph
    render = printer._renderer(ev) if has("trace") and ev.is_tracepoint else None
    comms, write, parse = session.comms, printer.out.write, ev.parse
    resolve, machine, padded = session.machine.resolve, session.machine, printer._padded
    when, div = printer._time_fmt + ": ", printer._time_div
    st, attr = ev.sample_type, ev.attr
    before = [row for row in EXTRA_BEFORE_IP if has(row[0])]
    after = [row for row in EXTRA_AFTER_IP if has(row[0])]
    clock = clock_data(session.features.get(Feature.CLOCK_DATA)) if has("tod") else None
    addr_syms = ev.type == 1 and ev.config in ADDR_SYMBOL_CONFIGS
    if chosen == {"flags"}:  # perf prints nothing at all for flags alone
        chosen = frozenset()

    def frame(loc: Any, addr: int) -> str:
        text = "%16x" % addr
        if has("sym"):
            text += " " + loc.sym_name
            if has("symoff") and loc.sym is not None:
                text += "+0x%x" % (loc.addr - loc.sym.start)
        if has("dso"):
            text += " (%s)" % loc.dso_name
        return text

    def addr_text(pid: int, cpumode: int, addr: int) -> str:
        if not addr_syms:
            return "%16x" % addr
        loc = resolve(pid, cpumode, addr)
        if loc.map is None:  # perf looks the address up in the mode its value belongs to
            mode = 1 if addr >= _KERNEL_START else 2
            if mode != cpumode:
                loc = resolve(pid, mode, addr)
        return frame(loc, addr)

    def h(item: tuple) -> None:
        if not chosen:
            return
        buf, pos = item[2], item[1]
        smp = parse(buf, pos)
        tid = smp[S_TID]
        cpumode = buf[pos + 4] & 7
        f = ev.sample_fields(buf, pos) if before or after or has("addr") else None
        parts = []
        if has("comm"):
            c = comms.get(tid)
            c = c if c is not None else ":%d" % tid
            parts.append(c + " " if chain else padded[c] + " ")
        if has("pid") and has("tid"):
            parts.append("%5d/%-5d " % (smp[S_PID], tid))
        elif has("pid") or has("tid"):
            parts.append("%5d " % (smp[S_PID] if has("pid") else tid))
        if has("cpu"):
            parts.append("[%03d] " % smp[S_CPU])
        if has("misc"):
            parts.append(misc_text(buf[pos + 4]))
        if has("tod"):  # from a pipe without CLOCK_DATA perf says so on each line
            parts.append(tod_text(clock, smp[S_TIME], div == 1) if clock is not None else "disabled ")
        if has("time"):
            parts.append(when % (smp[S_TIME] // 1000000000, smp[S_TIME] % 1000000000 // div))
        if has("period"):
            parts.append("%10d " % smp[S_PERIOD])
        if has("event"):
            parts.append(name + ": ")
        if has("flags"):
            parts.append(FLAGS_TEXT)
        if render is not None:
            parts.append(render(smp[S_RAW] or b""))
        if has("addr"):
            parts.append(addr_text(smp[S_PID], cpumode, f.get("addr", 0)))
        for _field, text in before:
            parts.append(text(f, st, attr))
        if chain:
            locs = machine.printed_chain(smp[S_PID], cpumode, smp[S_CALLCHAIN])
            parts.append("\n" + "".join(["\t" + frame(loc, loc.addr) + "\n" for loc in locs]))
        elif has("ip"):
            parts.append(" " + frame(resolve(smp[S_PID], cpumode, smp[S_IP]), smp[S_IP]))
        for _field, text in after:
            parts.append(text(f, st, attr))
        parts.append("\n")
        write("".join(parts))
    return h
