"""perf script's default output: one line per sample, laid out as perf 6.1 lays
it out (comm, tid, [cpu], secs.usecs, event name, rendered print_fmt)."""

from __future__ import annotations

import struct
from typing import Any, Callable, Optional, TextIO

from scripthost.engine.attrs import S_CALLCHAIN, S_CPU, S_IP, S_PERIOD, S_PID, S_RAW, S_TID, S_TIME, Evsel
from scripthost.errors import ScripthostError
from scripthost.engine.codegen import compile_handler
from scripthost.engine.fields import DUMMY, FieldSelection, pipe_fields, sampled_fields
from scripthost.engine.fields_line import fields_handler
from scripthost.engine.layouts import PIPE_HEADER, AttrType, Feature, RecordType as R, SampleType
from scripthost.engine.line_plans import line_spec, where_text
from scripthost.engine.session import Consumer, Session
from scripthost.engine.sideband import ROUND_LINE, SHOWN_BY, describe, trailer_fields

__all__ = ["DefaultPrinter"]

_STACKS_KEPT = 1 << 16  # stack texts kept, at most
_COMMS_KEPT = 1 << 16  # padded comms kept, at most
# the sample fields a callchain line shows, by their names in Evsel.fixed_layout
_LEAD_FIELDS = {"pid": "pid", "tid": "tid", "time": "t", "cpu": "cpu", "period": "period"}
#: event types whose period perf shows even when it was not sampled (the attr's fixed one)
_PERIOD_SHOWN = (AttrType.HARDWARE, AttrType.SOFTWARE, AttrType.BREAKPOINT)


class _Lead(struct.Struct):
    """Reads a sample with a callchain up to its length: the record size, the fixed
    fields a line shows (``names``, in order), then the callchain's length "n"."""

    names: list[str]


def _chain_lead(ev: Evsel) -> Optional[_Lead]:
    """The lead Struct of ``ev``'s samples, so that a stack can be keyed by its raw
    bytes; None where the callchain is not at a fixed offset (READ sampled) or the
    samples carry no pid."""
    st = ev.sample_type
    if st & SampleType.READ or not st & SampleType.TID or not st & SampleType.CALLCHAIN:
        return None
    fmt, names, pos = ["<6xH"], ["size"], 8
    for field, (off, code) in ev.fixed_layout.items():
        if field in _LEAD_FIELDS:
            fmt.append(f"{off - pos}x{code}" if off > pos else code)
            names.append(_LEAD_FIELDS[field])
            pos = off + struct.calcsize("<" + code)
    chain_off = ev.fixed_end  # no READ: the callchain follows the fixed fields
    fmt.append(f"{chain_off - pos}xQ" if chain_off > pos else "Q")
    lead = _Lead("".join(fmt))
    lead.names = names + ["n"]
    return lead


class _Padded(dict):
    """comm -> the comm column perf prints ("%16s"): padded to 16 bytes, not characters."""

    def __missing__(self, comm: str) -> str:
        n = len(comm.encode("utf-8", "surrogateescape"))
        text = " " * (16 - n) + comm if n < 16 else comm
        if len(self) > _COMMS_KEPT:
            self.clear()
        self[comm] = text
        return text


def _comm_source(pad: bool) -> list[str]:
    """Generated lines binding ``c``, the comm of ``tid`` as its column shows it (padded)."""
    if not pad:
        return ["    c = comms.get(tid)", "    if c is None:", "        c = ':%d' % tid"]
    return ["    c = comms.get(tid)", "    c = padded[c] if c is not None else '%16s' % (':%d' % tid)"]


def _where(loc: Any) -> str:
    """perf's "symbol+0xoffset (dso)" of a resolved address ("[unknown] (dso)" without a symbol)."""
    if loc.sym is not None:
        return "%s+0x%x (%s)" % (loc.sym.name, loc.addr - loc.sym.start, loc.dso_name)
    return "[unknown] (%s)" % loc.dso_name


def _frame(loc: Any) -> str:
    """A callchain line's text after its tab: the address, then where it is."""
    return "%16x %s" % (loc.addr, _where(loc))


class DefaultPrinter(Consumer):
    """Prints every sample like `perf script` with no options."""

    def __init__(self, out: TextIO, *, nanoseconds: bool = False, hide_call_graph: bool = False,
                 clock: Optional[Callable[[int], int]] = None, show: frozenset[str] = frozenset(),
                 fields: Optional[FieldSelection] = None) -> None:
        self.out = out
        # --show-*-events: the side-band record types printed (see sideband.py)
        self._shown = {t for dest in show for t in SHOWN_BY.get(dest, ())}
        self.fields = fields  # -F: the columns each event type prints
        self.ns = nanoseconds
        self.hide_call_graph = hide_call_graph  # -G: lines as if no callchain was recorded
        # --reltime/--deltatime (see timestamps.py): every line goes through the general
        # handlers, which pass each time through it
        self._clock = clock
        # perf prints "%5lu.%09llu" with --ns, else the "%12s" of "secs.usecs", which is
        # "%5d.%06d" for any non-negative time; the fraction is t % 10**9 // _time_div
        self._time_fmt = "%5d.%09d" if nanoseconds else "%5d.%06d"
        self._time_div = 1 if nanoseconds else 1000
        self.session: Optional[Session] = None
        self._formats: dict[int, Any] = {}
        self._stacks: dict[tuple, str] = {}
        self._stacks_of = [0]  # the machine generation the kept stacks belong to
        self._padded = _Padded()

    def begin(self, session: Session) -> None:
        self.session = session
        if self.fields is not None and session.pipe:  # perf sets each type's fields as its attr arrives
            self._pipe_chosen: dict[int, frozenset] = {}
            session.on_attr = self._attr_arrived
        elif self.fields is not None:  # perf checks the first event of each type, by type, before any sample
            firsts: dict[int, Evsel] = {}
            for ev in session.evsels:
                if (ev.type, ev.config) != DUMMY:
                    firsts.setdefault(ev.type, ev)
            for t in sorted(firsts):
                self._chosen(firsts[t])

    def _attr_arrived(self, ev: Evsel, offset: int, size: int) -> None:
        """-F from a pipe: the fields of ``ev``'s type as perf sets them when its attr
        arrives; a field its samples lack fails the record, perf's way."""
        try:
            chosen = pipe_fields(self.fields, self.session.evsels, self.session.evsel_name(ev),
                                 not self.hide_call_graph)
        except ScripthostError as e:
            at = offset - PIPE_HEADER.size
            e.args = (f"{e.args[0]}\n{'%#x' % at if at else '0'} [{size:#x}]: failed to process type: 64",)
            raise
        if chosen is not None:
            self._pipe_chosen[ev.type] = chosen

    def _stack_text(self, key: tuple) -> str:
        """The lines of the stack ``key`` (pid, cpumode, callchain[, "sym"]), then a blank
        line: each frame's symbol+offset and dso, or (with "sym") its symbol alone.
        Stacks recur: each one's text is kept while the address spaces stay as they are."""
        m = self.session.machine
        stacks = self._stacks
        if len(stacks) > _STACKS_KEPT or m.generation != self._stacks_of[0]:
            stacks.clear()
            self._stacks_of[0] = m.generation
        text = stacks.get(key)
        if text is None:
            chain = key[2]
            if isinstance(chain, bytes):
                chain = struct.unpack("<%dQ" % (len(chain) // 8), chain)
            locs = m.printed_chain(key[0], key[1], chain)
            name = (lambda loc: loc.sym_name) if len(key) > 3 else _where
            text = stacks[key] = "".join(["\t%16x %s\n" % (loc.addr, name(loc)) for loc in locs]) + "\n"
        return text

    def _tracepoint_ips(self) -> Optional[str]:
        """Whether perf shows tracepoints' ips (a callchain, or the ip on the line).  From a
        file: when a tracepoint was recorded with callchains, with symbol+offset and dso
        ("full").  From a pipe, perf decides at each event's attr, as it arrives: when a
        tracepoint's comes with or after one with callchains, the symbol alone ("sym")."""
        s = self.session
        assert s is not None
        if self.hide_call_graph:
            return None
        chains = False
        for e in s.evsels:
            chains = chains or bool(e.sample_type & SampleType.CALLCHAIN)
            if e.is_tracepoint and chains and (s.pipe or e.sample_type & SampleType.CALLCHAIN):
                return "sym" if s.pipe else "full"
        return None

    def _width(self) -> int:
        s = self.session
        assert s is not None
        return max((len(s.evsel_name(e)) for e in s.evsels), default=0)

    def _renderer(self, ev: Evsel) -> Callable[[bytes], str]:
        from scripthost.engine.printfmt import PrintFormat
        fmt = ev.tp_format
        if fmt is None:
            return lambda raw: ""
        pf = self._formats.get(fmt.id)
        if pf is None:
            tracing = self.session.tracing
            pf = self._formats[fmt.id] = PrintFormat(fmt, self.session.ksyms,
                                                     tracing.printk if tracing is not None else None)
        return pf.render

    def handler(self, ev: Evsel) -> Optional[Callable[[tuple], Any]]:
        s = self.session
        assert s is not None
        name = s.evsel_name(ev).rjust(self._width())
        comms = s.comms
        write = self.out.write
        st = ev.sample_type
        cpu_col = bool(st & SampleType.CPU)
        time_col = bool(st & SampleType.TIME)
        chosen = self._chosen(ev)
        if chosen is not None:
            return fields_handler(self, ev, name, chosen)
        if not ev.is_tracepoint:
            return self._sample_handler(ev, name)
        render = self._renderer(ev)
        ips = self._tracepoint_ips()
        fused = self._fused(ev, name) if ips is None and self._clock is None else None
        if fused is not None:
            return fused
        fast = ev.fixed_struct(["size", "tid", "time", "cpu", "raw_size"])
        div = self._time_div
        if fast is not None and ips is None and self._clock is None:
            raw_off = ev.fixed_layout["raw"][0]
            line = self._line_head(name) + "%s\n"
            lead = ev.lead_reader()
            padded = self._padded

            def h(item: tuple) -> None:
                pos = item[1]
                buf = item[2]
                size, tid, t, cpu, rs = lead(buf, pos)
                if rs > size - raw_off:
                    ev.payload_fault(buf, pos)
                c = comms.get(tid)
                write(line % (padded[c] if c is not None else "%16s" % (":%d" % tid), tid, cpu, t // 1000000000,
                              t % 1000000000 // div, render(buf[pos + raw_off:pos + raw_off + rs])))
            return h
        parse = ev.parse
        # with callchains perf leaves the comm unpadded and prints the stack after the
        # line; events without them then get their ip and symbol on the line
        chain = bool(st & SampleType.CALLCHAIN) and ips is not None
        who = "%s %5d "
        padded = self._padded
        when = self._time_fmt + ": "
        stack_text = self._stack_text
        resolve = self.session.machine.resolve
        clock = self._clock

        def h_general(item: tuple) -> None:
            buf = item[2]
            smp = parse(buf, item[1])
            tid = smp[S_TID]
            c = comms.get(tid)
            if chain:  # the comm unpadded
                c = c if c is not None else ":%d" % tid
            else:
                c = padded[c] if c is not None else "%16s" % (":%d" % tid)
            parts = [who % (c, tid)]
            if cpu_col:
                parts.append("[%03d] " % smp[S_CPU])
            if time_col:
                t = smp[S_TIME] if clock is None else clock(smp[S_TIME])
                parts.append(when % (t // 1000000000, t % 1000000000 // div))
            parts.append("%s: %s" % (name, render(smp[S_RAW] or b"")))
            cpumode = buf[item[1] + 4] & 7
            if chain:
                parts.append("\n")
                parts.append(stack_text((smp[S_PID], cpumode, smp[S_CALLCHAIN]) if ips == "full" else (smp[S_PID], cpumode, smp[S_CALLCHAIN], ips)))
            elif ips is not None:
                loc = resolve(smp[S_PID], cpumode, smp[S_IP])
                parts.append(" %16x %s\n" % (smp[S_IP], loc.sym_name if ips == "sym" else _where(loc)))
            else:
                parts.append("\n")
            write("".join(parts))
        return h_general

    def _chosen(self, ev: Evsel) -> Optional[frozenset]:
        """The fields -F has ``ev`` print; None for perf's default output."""
        if self.fields is None:
            return None
        if self.session.pipe:
            return self._pipe_chosen.get(ev.type)
        return sampled_fields(self.fields, ev.type, ev.sample_type, self.session.evsel_name(ev),
                              clock_data=Feature.CLOCK_DATA in self.session.features)

    def _sample_handler(self, ev: Evsel, name: str) -> Callable[[tuple], Any]:
        """A sampled event (cpu-clock, page-faults...): the header, then the ip's
        symbol on the same line or the callchain, one frame a line.  Generated per
        event, with only the columns its samples have."""
        st = ev.sample_type
        chain = bool(st & SampleType.CALLCHAIN) and not self.hide_call_graph
        # with a lead, the stack is keyed by its bytes and the sample is never
        # unpacked into a tuple: a recurring stack costs one slice and one lookup
        lead = _chain_lead(ev) if chain else None
        head = "%s %5d "
        vals = ["c", "tid"]
        if st & SampleType.CPU:
            head += "[%03d] "
            vals.append(f"smp[{S_CPU}]" if lead is None else "cpu")
        if st & SampleType.TIME:
            head += self._time_fmt + ": "
            vals += ["t // 1000000000", f"t % 1000000000 // {self._time_div}"]
        if st & SampleType.PERIOD or ev.type in _PERIOD_SHOWN:
            head += "%10d "
            if lead is None:
                vals.append(f"smp[{S_PERIOD}]")
            else:
                vals.append("period" if st & SampleType.PERIOD else str(ev.attr["sample_period"]))
        head += name.replace("%", "%%") + ": "
        if lead is not None:
            body = ["    buf = item[2]", "    pos = item[1]", "    try:",
                    f"        {', '.join(lead.names)} = LEAD.unpack_from(buf, pos)",
                    "    except struct.error:",
                    "        parse(buf, pos)",  # raises the stream error perf's way
                    "        raise",
                    f"    cc = pos + {lead.size}", "    e = cc + 8 * n",
                    "    if e > pos + size:",
                    "        parse(buf, pos)",  # the chain runs past the record: raises
                    "    key = (pid, buf[pos + 4] & 7, buf[cc:e])"]
        else:
            body = ["    buf = item[2]", "    pos = item[1]", "    smp = parse(buf, pos)", f"    tid = smp[{S_TID}]",
                    f"    t = smp[{S_TIME}]"]
            if chain:
                body.append(f"    key = (smp[{S_PID}], buf[pos + 4] & 7, smp[{S_CALLCHAIN}])")
        if st & SampleType.TIME and self._clock is not None:
            body.append("    t = clock(t)")
        body += _comm_source(not chain)
        if chain:
            body += ["    text = stacks.get(key)",
                     "    if text is None or machine.generation != stacks_of[0]:",
                     "        text = stack_text(key)",
                     f"    write(HEAD % ({', '.join(vals)}) + text)"]
            head += "\n"
        else:
            body += [f"    loc = resolve(smp[{S_PID}], buf[pos + 4] & 7, smp[{S_IP}])",
                     f"    write(HEAD % ({', '.join(vals)}) + ' %16x %s\\n' % (smp[{S_IP}], where(loc)))"]
        m = self.session.machine
        env = {"parse": ev.parse, "comms": self.session.comms, "machine": m, "resolve": m.resolve,
               "stacks": self._stacks, "stacks_of": self._stacks_of, "stack_text": self._stack_text,
               "where": _where, "write": self.out.write, "HEAD": head, "LEAD": lead, "struct": struct,
               "padded": self._padded, "clock": self._clock}
        return compile_handler(body, env, f"<sample line {name}>")

    def _line_head(self, name: str, comm: str = "%s") -> str:
        """The %-format of a tracepoint line's columns: comm (already padded, see
        `_Padded`, unless ``comm`` pads it), tid, cpu, time, event name."""
        return f"{comm} %5d [%03d] {self._time_fmt}: " + name.replace("%", "%%") + ": "

    def plan(self, ev: Evsel) -> Optional[tuple]:
        """The native core formats a line itself (see `_core.Framer.set_planner` and
        line_plans.py) when it is one %-format of the columns, of tracepoint fields read at
        fixed offsets, or of a sample's ip or callchain; the line's Python handler takes the
        events it cannot make."""
        s = self.session
        if s is None or self._clock is not None or self._chosen(ev) is not None:
            return None
        if not ev.is_tracepoint:
            return self._sample_plan(ev)
        if ev.tp_format is None or self._tracepoint_ips() is not None:
            return None
        lay = ev.fixed_layout
        if not all(k in lay for k in ("tid", "time", "cpu", "raw_size")):
            return None
        self._renderer(ev)
        pf = self._formats.get(ev.tp_format.id)
        if pf is None or pf.failed or pf.compiled is None:
            return None
        comp = pf.compiled
        reads = comp.reads()
        if comp.uses_raw or not all(v in reads for v in comp.values):
            return None
        # the core pads the comm to 16 bytes itself, as perf does (lines.c)
        line = self._line_head(s.evsel_name(ev).rjust(self._width()), "%16s") + comp.pyfmt + "\n"
        return line_spec(ev, line, "ctCsf" + "r" * len(comp.values), s.comms, self.handler(ev),
                         time_div=self._time_div, reads=[reads[v] for v in comp.values])

    def _sample_plan(self, ev: Evsel) -> Optional[tuple]:
        """The core's plan of a sampled event's lines, `_sample_handler`'s columns: the
        header, then the ip's symbol on the line or the callchain, one frame a line."""
        st = ev.sample_type
        chain = bool(st & SampleType.CALLCHAIN) and not self.hide_call_graph
        if not st & SampleType.TID or (chain and st & SampleType.READ) or not (chain or st & SampleType.IP):
            return None
        if chain and not self.session.machine.config.whole_chains:
            return None  # the core prints every frame: --max-stack/--stop-bt cut in Python
        line, cols = ("%s %5d " if chain else "%16s %5d "), "ct"
        if st & SampleType.CPU:
            line, cols = line + "[%03d] ", cols + "C"
        if st & SampleType.TIME:
            line, cols = line + self._time_fmt + ": ", cols + "sf"
        if st & SampleType.PERIOD or ev.type in (0, 1, 5):  # as _sample_handler
            line, cols = line + "%10d ", cols + "p"
        line += self.session.evsel_name(ev).rjust(self._width()).replace("%", "%%") + ": "
        line, cols = (line + "\n%s", cols + "S") if chain else (line + " %16x %s\n", cols + "iw")
        m = self.session.machine
        # a frame shows the resolved address (Location.addr), the line the sample's ip
        text = where_text(m, _frame if chain else _where)
        return line_spec(ev, line, cols, self.session.comms, self.handler(ev), time_div=self._time_div,
                         where=text, machine=m)

    def _fused(self, ev: Evsel, name: str) -> Optional[Callable[[tuple], Any]]:
        """One generated function per event: a single Struct reads the sample's
        tid/time/cpu and the tracepoint fields, and one ``%`` formats the line."""
        self._renderer(ev)
        pf = self._formats.get(ev.tp_format.id) if ev.tp_format is not None else None
        if pf is None or pf.failed or pf.compiled is None:
            return None
        comp = pf.compiled
        rfmt, names, over = comp.struct_reads()
        s = ev.fixed_struct(["size", "tid", "time", "cpu", "raw_size"], extra=rfmt)
        if s is None:
            return None
        raw_off = ev.fixed_layout["raw"][0]
        env = dict(comp.env)
        env.update(S=s, lead=ev.lead_reader(), fault=ev.payload_fault, comms=self.session.comms,
                   padded=self._padded, write=self.out.write, struct=struct, _render=pf.render, _failed=pf.render_failed)
        line = self._line_head(name) + comp.pyfmt + "\n"
        targets = ", ".join(["size", "tid", "t", "cpu", "rs"] + names)
        src = ["    pos = item[1]", "    buf = item[2]", "    try:",
               f"        {targets} = S.unpack_from(buf, pos)",
               "    except struct.error:",  # the fields run past the input read so far: see below
               "        size, tid, t, cpu, rs = lead(buf, pos)",
               f"    if rs > size - {raw_off}:",
               "        fault(buf, pos)"]
        if comp.uses_raw or over:
            src.append(f"    raw = buf[pos + {raw_off}:pos + {raw_off} + rs]")
        src += _comm_source(True)
        frac = f"t % 1000000000 // {self._time_div}"
        vals = ", ".join(["c", "tid", "cpu", "t // 1000000000", frac] + comp.values)
        # a payload without the fields its format reads, or whose bytes contradict the
        # format (corrupt input), renders like perf's unparsable events
        failed = (f"write({line[:line.index(': ' + comp.pyfmt)]!r} % (c, tid, cpu, t // 1000000000, "
                  f"{frac}) + ': ' + _failed(buf[pos + {raw_off}:pos + {raw_off} + rs]) + '\\n')")
        src += [f"    if rs < {comp.need}:", f"        {failed}", "    else:", "        try:",
                *(f"            {var} = struct.unpack_from('<{code}', raw, {off})[0]" for off, code, var in over),
                f"            write({line!r} % ({vals},))",
                "        except (TypeError, ValueError, OverflowError, IndexError, struct.error):",
                f"            {failed}"]
        return compile_handler(src, env, f"<line {ev.tp_format.full_name}>")

    def record(self, rtype: int, misc: int, body: bytes, time: int) -> None:
        """A side-band record's line, when its --show-*-events option was given: the
        columns of its sample_id (perf's thread: the record's own, for most types), then
        perf's description of the record."""
        if rtype not in self._shown:
            return
        if rtype == R.FINISHED_ROUND:
            self.out.write(ROUND_LINE)
            return
        text = describe(rtype, misc, body)
        if text is None:
            return
        s = self.session
        ev = s.evsel_of_trailer(body)
        fields = trailer_fields(ev.sample_type, body) if ev is not None and ev.sample_id_all else {}
        tid = fields.get("tid", -1)
        subject = text[1] if text[1] >= 0 else tid
        comm = s.comms.get(subject)
        st = ev.sample_type if ev is not None else 0
        chain = bool(st & SampleType.CALLCHAIN) and not self.hide_call_graph
        parts = [(comm or ":%d" % subject if chain else
                  self._padded[comm] if comm is not None else "%16s" % (":%d" % subject)), " %5d " % tid]
        if st & SampleType.CPU or (ev is not None and ev.is_tracepoint):
            parts.append("[%03d] " % fields.get("cpu", -1))
        if st & SampleType.TIME:
            t = fields.get("time", 0)
            if self._clock is not None:
                t = self._clock(t)
            parts.append(self._time_fmt % (t // 1000000000, t % 1000000000 // self._time_div) + ": ")
        parts.append(text[0])
        self.out.write("".join(parts))

    def end(self, session: Session) -> None:
        self.out.flush()
