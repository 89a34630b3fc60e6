"""`perf script -D/--dump-raw-trace`: perf 6.1's raw dump.  For each record, where perf
handles it (tool records as they are read, kernel records and samples as they are
delivered in time order): its input offset ("@pipe" offsets count from the end of the
pipe header) and size, a hex dump of its bytes, its cpu and time (of its sample_id), and
perf's description of it; for a sample, its decoded header line, callchain, thread and
dso, then the line the default output prints for it.  Record layouts are layouts.py's."""

from __future__ import annotations

import struct
from typing import Any, Callable, Optional

from scripthost.engine.attrs import Evsel
from scripthost.engine.layouts import (
    CPU_MAP_LIST_NR, CPU_MAP_MASK_HEAD, CPU_MAP_RANGE, CPU_MAP_TYPE, EVENT_HEADER, EVENT_UPDATE_HEAD,
    ID_INDEX_ENTRY, MISC_CPUMODE_MASK, PIPE_HEADER, RECORD_NAMES, THREAD_MAP_ENTRY, U64_COUNT, CpuMapType,
    EventUpdateType, RecordType as R, SampleType,
)
from scripthost.engine.output import DefaultPrinter
from scripthost.engine.session import Consumer, Session
from scripthost.engine.sideband import describe, trailer_fields
from scripthost.engine.source import offset_of

__all__ = ["RawDump", "hex_dump", "c_hex"]

_ROW = 16
#: what perf's sample parse leaves in the fields a record's sample_id lacks
_NO_CPU = 0xFFFFFFFF
_NO_TIME = 0xFFFFFFFFFFFFFFFF
_SCALE = struct.Struct("<d")
#: the cpumodes (misc & 7) perf looks a map up in: host kernel, host user
_HOST_MODES = (1, 2)
_HEADER_PREFIX = "HEADER_"
#: what perf's stub handler says of a record perf script has no handler for
_UNHANDLED = ": unhandled!\n"


def c_hex(v: int) -> str:
    """C's "%#x": 0 without the 0x."""
    return f"{v:#x}" if v else "0"


def hex_dump(rec: bytes) -> str:
    """perf's "raw event" block of a record's bytes, its blank line after."""
    rows = [".\n", f". ... raw event: size {len(rec)} bytes\n"]
    for at in range(0, len(rec), _ROW):
        row = rec[at:at + _ROW]
        hexes = "".join(f" {b:02x}" for b in row) + "   " * (_ROW - len(row))
        text = "".join(chr(b) if 0x20 <= b < 0x7F else "." for b in row)
        rows.append(f".  {at:04x}: {hexes}  {text:<{_ROW}}\n")
    rows.append("\n")
    return "".join(rows)


def _name(rtype: int) -> str:
    name = RECORD_NAMES.get(rtype, "")
    return name[len(_HEADER_PREFIX):] if name.startswith(_HEADER_PREFIX) else name


def _cpu_list(cpus: list[int]) -> str:
    """perf's cpu map text: runs as first-last, joined by commas."""
    out: list[str] = []
    i = 0
    while i < len(cpus):
        j = i
        while j + 1 < len(cpus) and cpus[j + 1] == cpus[j] + 1:
            j += 1
        out.append(str(cpus[i]) if i == j else f"{cpus[i]}-{cpus[j]}")
        i = j + 1
    return ",".join(out)


def _cpu_map(body: bytes) -> str:
    if len(body) < CPU_MAP_TYPE.size:
        return ""
    kind, = CPU_MAP_TYPE.unpack_from(body, 0)
    at = CPU_MAP_TYPE.size
    cpus: list[int] = []
    if kind == CpuMapType.CPUS and len(body) >= at + CPU_MAP_LIST_NR.size:
        nr, = CPU_MAP_LIST_NR.unpack_from(body, at)
        at += CPU_MAP_LIST_NR.size
        cpus = list(struct.unpack_from(f"<{min(nr, (len(body) - at) // 2)}H", body, at))
    elif kind == CpuMapType.MASK and len(body) >= at + CPU_MAP_MASK_HEAD.size:
        nr, long_size = CPU_MAP_MASK_HEAD.unpack_from(body, at)
        at += CPU_MAP_MASK_HEAD.size
        code = "I" if long_size == 4 else "Q"
        n = min(nr, (len(body) - at) // struct.calcsize(code))
        for k, word in enumerate(struct.unpack_from(f"<{n}{code}", body, at)):
            cpus += [k * long_size * 8 + b for b in range(long_size * 8) if word >> b & 1]
    elif kind == CpuMapType.RANGE and len(body) >= at + CPU_MAP_RANGE.size:
        any_cpu, _, start, end = CPU_MAP_RANGE.unpack_from(body, at)
        cpus = ([-1] if any_cpu else []) + list(range(start, end + 1))
    return _cpu_list(cpus)


def _event_update(body: bytes) -> str:
    if len(body) < EVENT_UPDATE_HEAD.size:
        return ""
    kind, eid = EVENT_UPDATE_HEAD.unpack_from(body, 0)
    data = body[EVENT_UPDATE_HEAD.size:]
    text = f"\n... id:    {eid}\n"
    word = data.split(b"\0", 1)[0].decode("utf-8", "replace")
    if kind == EventUpdateType.NAME:
        return text + f"... name:  {word}\n"
    if kind == EventUpdateType.UNIT:
        return text + f"... unit:  {word}\n"
    if kind == EventUpdateType.SCALE and len(data) >= _SCALE.size:
        return text + f"... scale: {_SCALE.unpack_from(data, 0)[0]:f}\n"
    if kind == EventUpdateType.CPUS:
        return text + f"... {_cpu_map(data)}\n"
    return text + "... unknown type\n"


def _id_index(body: bytes) -> str:
    if len(body) < U64_COUNT.size:
        return ""
    nr, = U64_COUNT.unpack_from(body, 0)
    out = [f" nr: {nr}\n"]
    for at in range(U64_COUNT.size, len(body) - ID_INDEX_ENTRY.size + 1, ID_INDEX_ENTRY.size)[:nr]:
        eid, idx, cpu, tid = ID_INDEX_ENTRY.unpack_from(body, at)
        out.append(f" ... id: {eid}  idx: {idx}  cpu: {cpu}  tid: {tid}\n")
    return "".join(out)


def _thread_map(body: bytes) -> str:
    if len(body) < U64_COUNT.size:
        return ""
    nr, = U64_COUNT.unpack_from(body, 0)
    pids = [str(THREAD_MAP_ENTRY.unpack_from(body, at)[0])
            for at in range(U64_COUNT.size, len(body) - THREAD_MAP_ENTRY.size + 1, THREAD_MAP_ENTRY.size)[:nr]]
    return f" nr: {nr} thread{'s' if nr > 1 else ''}: {', '.join(pids)}\n"


#: the text after "PERF_RECORD_<NAME>" of the tool records (by body); others: none
_TOOL_TEXT: dict[int, Callable[[bytes], str]] = {
    R.ID_INDEX: _id_index,
    R.THREAD_MAP: _thread_map,
    R.CPU_MAP: lambda body: f": {_cpu_map(body)}\n",
    R.EVENT_UPDATE: _event_update,
    R.FINISHED_ROUND: lambda body: "\n",
    R.FINISHED_INIT: lambda body: _UNHANDLED,
}


class RawDump(Consumer):
    """The raw dump around ``printer``'s lines (its stream is the dump's)."""

    def __init__(self, printer: DefaultPrinter, input_name: str) -> None:
        self.printer = printer
        self.out = printer.out
        self.input_name = input_name
        self.kernel_records: dict[int, tuple[int, bytes]] = {}  # id(body) -> (offset, record)

    def begin(self, session: Session) -> None:
        self.session = session
        self.where, self.base = ("pipe", PIPE_HEADER.size) if session.pipe else (self.input_name, 0)
        session.take_rounds()
        session.on_record = self._read
        self.printer.begin(session)

    def _read(self, offset: int, rec: bytes, item: Optional[tuple]) -> None:
        if item is None:  # a tool record: perf dumps it as it reads it
            rtype = EVENT_HEADER.unpack_from(rec, 0)[0]
            self._head(offset, rec, self._stamp(0, 0, False))
            self.out.write(_TOOL_TEXT.get(rtype, lambda body: "")(rec[EVENT_HEADER.size:]))
        else:
            self.kernel_records[id(item[3])] = (offset, rec)

    def _stamp(self, cpu: int, time: int, sample: bool) -> str:
        """perf's "cpu time " before a record's offset, by the evlist's sample types."""
        evsels = self.session.evsels
        if not sample and not (evsels and evsels[0].sample_id_all):
            return "-1 -1 "
        combined = 0
        for ev in evsels:
            combined |= ev.sample_type
        return ((f"{cpu} " if combined & SampleType.CPU else "")
                + (f"{time} " if combined & SampleType.TIME else ""))

    def _head(self, offset: int, rec: bytes, stamp: str) -> None:
        rtype, _, size = EVENT_HEADER.unpack_from(rec, 0)
        at = c_hex(offset - self.base)
        self.out.write(f"\n{at}@{self.where} [{size:#x}]: event: {rtype}\n{hex_dump(rec)}"
                       f"{stamp}{at} [{size:#x}]: PERF_RECORD_{_name(rtype)}")

    def record(self, rtype: int, misc: int, body: bytes, time: int) -> None:
        got = self.kernel_records.pop(id(body), None)
        if got is not None:
            offset, rec = got
            ev = self.session.evsel_of_trailer(body)
            fields = trailer_fields(ev.sample_type, body) if ev is not None and ev.sample_id_all else {}
            self._head(offset, rec, self._stamp(fields.get("cpu", _NO_CPU), fields.get("time", _NO_TIME), False))
            text = describe(rtype, misc, body) if rtype in _DESCRIBED else None
            text = (text[0][len("PERF_RECORD_" + _name(rtype)):] if text is not None
                    else _UNHANDLED if rtype in _STUBBED else "\n")
            if rtype == R.EXIT:  # perf describes an EXIT as it handles it: after its --show line
                self.printer.record(rtype, misc, body, time)
                self.out.write(text)
                return
            self.out.write(text)
        self.printer.record(rtype, misc, body, time)

    def handler(self, evsel: Evsel) -> Optional[Callable[[tuple], Any]]:
        line = self.printer.handler(evsel)

        def dumped(item: tuple) -> None:
            if self._sample(item) and line is not None:
                line(item)
        return dumped

    def _sample(self, item: tuple) -> bool:
        """Dump a sample as perf does, every one, the filters' (the session's filter_parts)
        applied where perf applies them: --time and -C before its thread and dso lines,
        --pid/--tid after them; whether its line is printed."""
        _, pos, buf, ev = item
        size = EVENT_HEADER.unpack_from(buf, pos)[2]
        rec = buf[pos:pos + size]
        f = ev.sample_fields(buf, pos)
        misc = rec[4] | rec[5] << 8
        offset = offset_of(buf, pos)
        self._head(offset if offset is not None else pos, rec,
                   self._stamp(f.get("cpu", _NO_CPU), f.get("time", _NO_TIME), True))
        pid, tid = f.get("pid", -1), f.get("tid", -1)
        ip = f.get("ip", 0)
        w = self.out.write
        w(f"(IP, {misc:#x}): {pid}/{tid}: {c_hex(ip)} period: {f.get('period', ev.attr['sample_period'])} "
          f"addr: {c_hex(f.get('addr', 0))}\n")
        chain = f.get("callchain")
        if chain is not None:
            w(f"... FP chain: nr:{len(chain)}\n" + "".join(f"..... {i:2d}: {a:016x}\n" for i, a in enumerate(chain)))
        s = self.session
        ranges, cpus, pids, tids = s.filter_parts
        t = f.get("time")
        if ranges and t is not None and not any(a <= t and (not b or t <= b) for a, b in ranges):
            return False
        if cpus and "cpu" in f and f["cpu"] not in cpus:
            return False
        w(f" ... thread: {s.comm(tid)}:{tid}\n")
        cpumode = misc & MISC_CPUMODE_MASK
        loc = s.machine.resolve(pid, cpumode, ip)
        # perf's map level: host kernel or user, else the hypervisor's (no map)
        dso = loc.map.dso.name if loc.map is not None else "<not found>" if cpumode in _HOST_MODES else "[hypervisor]"
        w(f" ...... dso: {dso}\n")
        return ("pid" not in f) or ((not pids or f["pid"] in pids) and (not tids or f["tid"] in tids))

    def lost(self, kind: str, count: int) -> None:
        self.printer.lost(kind, count)

    def end(self, session: Session) -> None:
        self.printer.end(session)


#: kernel records perf script leaves to perf's stub handler
_STUBBED = frozenset((R.THROTTLE, R.UNTHROTTLE))
#: the kernel records sideband.describe knows
_DESCRIBED = frozenset((R.COMM, R.FORK, R.EXIT, R.MMAP, R.MMAP2, R.SWITCH, R.SWITCH_CPU_WIDE, R.NAMESPACES,
                        R.LOST, R.CGROUP, R.KSYMBOL, R.BPF_EVENT))
