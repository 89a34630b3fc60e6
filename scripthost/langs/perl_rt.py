"""Perl scripts through a subprocess bridge to the system `perl`.

One perl process per run loads the script (scripthost/langs/perl/bridge.pl);
events cross a pipe of their own (perl's stdin, stdout and stderr are ours, so
a script can read the user's terminal) as length-prefixed binary batches (nothing is quoted
into Perl source, so every byte of a comm or string arrives intact) and the
bridge decodes the raw tracepoint data with unpack templates built once per
event.  perl's stdout and stderr are ours, so its output order is its own.

A script that defines `process_event` gets, as under perf, a call for every
sample after the tracepoint handler (if any): the record, the attr, perf's
struct perf_sample and the raw data, as byte strings.  Its samples then all go
packed, with those two strings added.
"""

from __future__ import annotations

import errno
import fcntl
import os
import signal
import shutil
import struct
import subprocess
from pathlib import Path
from typing import Any, Callable, Optional

from scripthost.engine.attrs import S_CPU, S_RAW, S_TID, S_TIME, Evsel
from scripthost.engine.codegen import compile_handler
from scripthost.engine.layouts import SampleType, named_tid
from scripthost.engine.read_groups import original_record
from scripthost.engine.session import Session
from scripthost.errors import ScriptError, ScripthostError
from scripthost.langs import perf_sample
from scripthost.exec_paths import exec_path, own_exec_path
from scripthost.langs.base import Runtime
from scripthost.outfault import OutputFault

__all__ = ["PerlRuntime"]

BRIDGE = Path(__file__).resolve().parent / "perl" / "bridge.pl"
BATCH = 1 << 17
PIPE_SIZE = 1 << 20
_F_SETPIPE_SZ = 1031
_U32 = struct.Struct("<I").unpack_from
_EVENT = struct.Struct("<HIQiI")  # id, cpu, time, tid (signed: perf shows tid -1 as ":-1"), raw length
# frame kinds 0 and 1, samples without a fixed layout: _EVENT, the raw data and (kind 1)
# the callchain; kinds 2 and 3 add the record and its perf_sample for process_event.
# The bridge's template and the places of cpu, time, tid, raw, callchain, record,
# perf_sample and common_pid (0: none) among the values it gives (the id is first)
_PACKED = ("S< L< Q< l< L</a", 5, (1, 2, 3, 4, 0, 0, 0, 0))
_PACKED_CALLCHAIN = ("S< L< Q< l< L</a L</a", 6, (1, 2, 3, 4, 5, 0, 0, 0))
_GENERIC = ("S< L< Q< l< L</a L</a L</a", 7, (1, 2, 3, 4, 0, 5, 6, 0))
_GENERIC_CALLCHAIN = ("S< L< Q< l< L</a L</a L</a L</a", 8, (1, 2, 3, 4, 5, 6, 7, 0))
# a sliced sample's RAW data, common_pid (RAW offset 4) read first: skip the RAW size and
# 4 bytes, read it, step back 12 to the size (the core checks RAW holds >= 8 bytes)
_RAW_WITH_PID = "x8 l< X12 L</a"
_KINDS = (_PACKED, _PACKED_CALLCHAIN, _GENERIC, _GENERIC_CALLCHAIN)
_CC_IP = struct.Struct("<QB")
_CC_SYM = struct.Struct("<QQB")


def _s(text: str | bytes) -> bytes:
    b = text.encode("utf-8", "surrogateescape") if isinstance(text, str) else text
    return struct.pack("<H", len(b)) + b


def _field_kind(f: Any) -> str:
    if f.is_string and f.is_dynamic:
        return "d"
    if f.is_string and f.is_relative:
        return "r"
    if f.is_string and f.is_array:
        return "s"
    if f.size in (1, 2, 4, 8) and not (f.is_array and not f.is_dynamic and not f.is_relative):
        return "n"
    return "z"


class PerlRuntime(Runtime):
    """Runs a Perl trace script in a `perl` child process."""

    language = "perl"

    def __init__(self, script: str, args: list[str]) -> None:
        super().__init__(script, args)
        self.proc: Optional[subprocess.Popen] = None
        self._control_r: Optional[Any] = None  # the bridge's control pipe: "ok", "out ERRNO"
        self._out: Any = None  # the events pipe's writing end
        self.events = bytearray(b"E\0")
        self.session: Optional[Session] = None
        self._ids: dict[Evsel, int] = {}
        self._kinds: dict[str, int] = {k[0]: i for i, k in enumerate(_KINDS)}
        # evsel -> (frame kind, event id bytes, slice start, raw_size offset)
        # for samples sent as a slice of themselves
        self._slices: dict[Evsel, tuple] = {}
        self._handlers: dict[Evsel, Optional[Callable[[tuple], Any]]] = {}
        self.has_process_event = False

    def helper_pids(self) -> list[int]:
        return [self.proc.pid] if self.proc is not None else []

    # -- life cycle ------------------------------------------------------------------

    def load(self) -> None:
        perl = shutil.which("perl")
        if perl is None:
            raise ScripthostError("perl is not installed: install it (e.g. `apt-get install perl`) "
                                  "to run Perl trace scripts")
        if not os.path.exists(self.script):
            raise ScripthostError(f"cannot open perl script {self.script!r}: no such file "
                                  "(`scripthost trace -l` lists installed scripts)")
        ctx = own_exec_path() / "scripts" / "perl" / "Perf-Trace-Util" / "lib" / "Perf" / "Trace" / "Context.pm"
        env = dict(os.environ, PERF_EXEC_PATH=exec_path())
        r, w = os.pipe()
        events_r, events_w = os.pipe()
        try:
            self.proc = subprocess.Popen([perl, str(BRIDGE), str(ctx), str(w), str(events_r), self.script,
                                          *self.args], pass_fds=(w, events_r), env=env)
        except BaseException:
            os.close(events_w)
            raise
        finally:
            os.close(w)
            os.close(events_r)
        self._out = os.fdopen(events_w, "wb")
        try:  # a deep pipe, so neither side waits on the other for each batch
            fcntl.fcntl(events_w, _F_SETPIPE_SZ, PIPE_SIZE)
        except OSError:
            pass
        self._control_r = os.fdopen(r, "rb", buffering=0)
        line = self._control_r.readline().split()
        if line[:1] == [b"old"]:
            self.proc.wait()
            self.proc = None
            version = line[1].decode() if len(line) > 1 else "?"
            raise ScripthostError(f"perl {version} is too old for Perl trace scripts (5.10 or newer is "
                                  "needed): install a newer perl")
        if not line or line[0] != b"ok":
            rc = self.proc.wait()
            self.proc = None
            raise ScriptError(f"error running perl script {self.script}", rc if rc > 0 else 255)
        self.interval_ns = int(float(line[1]) * 1e9) if float(line[1]) > 0 else 0
        self.has_process_event = line[2] == b"1"

    def _emit(self, frame: bytes | bytearray) -> None:
        try:
            self._out.write(struct.pack("<I", len(frame)))
            self._out.write(frame)
        except (BrokenPipeError, OSError):
            self._died()

    def _send_events(self, kind: int = -1) -> None:
        """Send the events queued, starting a frame of ``kind`` (default: the same kind)."""
        if len(self.events) > 2:
            self._emit(self.events)
        self.events = bytearray(b"E" + bytes((self.events[1] if kind < 0 else kind,)))

    def _control(self, rec: bytes, flush: bool = False) -> None:
        """A control record, after every event queued before it."""
        if self.proc is None:
            return
        self._send_events()
        self._emit(rec)
        if flush:
            try:
                self._out.flush()
            except (BrokenPipeError, OSError):
                self._died()

    def _close_events(self) -> None:
        """End the events pipe: the bridge sees its end after the last frame."""
        out, self._out = self._out, None
        if out is not None:
            try:
                out.close()
            except (BrokenPipeError, OSError):
                pass

    def _died(self) -> None:
        assert self.proc is not None
        rc = self.proc.wait()
        self.proc = None
        fault = self._output_fault(rc)
        if fault is not None:
            raise fault
        raise ScriptError(f"the perl script {self.script} stopped (exit status {rc}); "
                          "its own message is above", rc if rc > 0 else 1)

    def close(self) -> None:
        if self._control_r is not None:
            self._control_r.close()
            self._control_r = None
        p = self.proc
        if p is None:
            return
        self.proc = None
        self._close_events()
        try:
            p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()

    # -- Consumer hooks --------------------------------------------------------------

    def begin(self, session: Session) -> None:
        self.session = session
        for kind, layout in enumerate(_KINDS[:4 if self.has_process_event else 2]):
            self._control(_kind_record(kind, *layout))
        for tid, comm in session.comms.items():
            self._control(b"C" + struct.pack("<i", tid) + _s(comm))
        self._control(b"B", flush=True)

    def plan(self, ev: Evsel) -> Optional[tuple]:
        """Samples the bridge reads as slices of themselves are copied into frames by the
        native core (`run_frames`); the rest go through their handler."""
        self.handler(ev)  # defines the event for the bridge
        how = self._slices.get(ev)
        if how is None:
            return None
        kind, ident, start, rs_off = how
        return ("slice", kind, ident, start, rs_off)

    #: a frame of events is sent once it holds this many bytes
    frame_limit = BATCH

    def run_frames(self, kind: int, payload: bytes) -> None:
        """One frame of sliced events from the native core, after the events queued here."""
        self._send_events()
        self._emit(b"E" + bytes((kind,)) + payload)

    def record(self, rtype: int, misc: int, body: bytes, time: int) -> None:
        tid = named_tid(rtype, body) if self.session is not None else None
        if tid is not None:
            self._control(b"C" + struct.pack("<i", tid) + _s(self.session.comms.get(tid, "")))

    def lost(self, kind: str, count: int) -> None:
        self._control(b"L" + _s(kind) + struct.pack("<Q", count))

    def tick(self, now_ns: int) -> None:
        self._control(b"T", flush=True)

    def end(self, session: Session) -> None:
        self._control(b"X", flush=True)
        p = self.proc
        if p is not None:
            self._close_events()
            rc = p.wait()
            self.proc = None
            fault = self._output_fault(rc)
            if fault is not None:
                raise fault
            if rc != 0:
                raise ScriptError(f"the perl script {self.script} exited with status {rc}", rc)

    def _output_fault(self, rc: int) -> Optional[OutputFault]:
        """The bridge's report that our stdout did not take the script's output, if any."""
        if rc == -signal.SIGPIPE:  # the bridge writes no other pipe that can lose its reader
            return OutputFault(OSError(errno.EPIPE, os.strerror(errno.EPIPE)))
        if rc == 0:
            return None
        os.set_blocking(self._control_r.fileno(), False)  # a child of the script may hold it
        try:
            words = (self._control_r.read() or b"").split()
        except OSError:
            return None
        if words[:1] == [b"out"] and len(words) > 1 and words[1].isdigit():
            code = int(words[1])
            return OutputFault(OSError(code, os.strerror(code)))
        return None

    def handler(self, ev: Evsel) -> Optional[Callable[[tuple], Any]]:
        """``ev``'s handler, defining the event for the bridge the first time it is asked."""
        if ev not in self._handlers:
            self._handlers[ev] = self._define(ev)
        return self._handlers[ev]

    def _define(self, ev: Evsel) -> Optional[Callable[[tuple], Any]]:
        fmt = ev.tp_format if ev.is_tracepoint else None
        if fmt is None and not self.has_process_event:
            return None
        pid = self._ids[ev] = len(self._ids)
        if self.has_process_event:
            self._control(b"A" + struct.pack("<H", pid) + _s(ev.attr_struct)
                          + struct.pack("<HB", perf_sample.SIZE, bool(ev.sample_type & SampleType.RAW)))
        if fmt is None:
            return self._event_encoder(ev, pid, False)
        name = f"{fmt.system}::{fmt.name}"
        rec = bytearray(b"D" + struct.pack("<H", pid) + _s(name) + struct.pack("<H", len(fmt.fields)))
        for f in fmt.fields:
            rec += _s(f.name) + _field_kind(f).encode() + struct.pack("<HHB", f.offset, f.size, int(f.signed))
        offs = []
        for cname in ("common_preempt_count", "common_flags", "common_lock_depth"):
            cf = fmt.field(cname)
            offs.append(cf.offset if cf is not None else -1)
        rec += struct.pack("<hhh", *offs)
        ctl = bytearray(rec)
        self._walk(fmt, name, ctl)
        self._control(bytes(ctl))
        if not self.has_process_event:
            self._slice_layout(ev, pid)
        return self._event_encoder(ev, pid, True)

    def _slice_layout(self, ev: Evsel, pid: int) -> None:
        """Send ``ev``'s samples as slices when tid, time, cpu and the raw data sit at fixed
        offsets (they are in this order in every sample layout): a frame kind per layout."""
        lay = ev.fixed_layout
        if any(name not in lay for name in ("tid", "time", "cpu", "raw_size", "raw")):
            return
        start = lay["tid"][0]
        gaps, at = [], start
        for name, code in (("tid", "l<"), ("time", "Q<"), ("cpu", "L<"), ("raw_size", _RAW_WITH_PID)):
            off = lay[name][0]
            gaps.append(f"x{off - at} {code}" if off > at else code)
            at = off + (8 if code == "Q<" else 4)
        template = "S< " + " ".join(gaps)
        kind = self._kinds.get(template)
        if kind is None:
            kind = self._kinds[template] = len(self._kinds)
            self._control(_kind_record(kind, template, 6, (3, 2, 1, 5, 0, 0, 0, 4)))
        self._slices[ev] = (kind, pid, start, lay["raw_size"][0])

    def _walk(self, fmt: Any, name: str, buf: bytearray) -> None:
        from scripthost.engine.printfmt import DefineCalls, PrintFormat

        def flag_field(ev: str, field: str, delim: str) -> None:
            buf.extend(b"W\x00" + _s(ev) + _s(field) + struct.pack("<q", 0) + _s(delim))

        def flag_value(ev: str, field: str, value: int, text: str) -> None:
            buf.extend(b"W\x01" + _s(ev) + _s(field) + struct.pack("<q", _i64(value)) + _s(text))

        def sym_field(ev: str, field: str) -> None:
            buf.extend(b"W\x02" + _s(ev) + _s(field) + struct.pack("<q", 0) + _s(""))

        def sym_value(ev: str, field: str, value: int, text: str) -> None:
            buf.extend(b"W\x03" + _s(ev) + _s(field) + struct.pack("<q", _i64(value)) + _s(text))
        self.defines.walk(PrintFormat(fmt, None).args, name, DefineCalls(flag_field, flag_value, sym_field, sym_value))

    def _event_encoder(self, ev: Evsel, pid: int, tracepoint: bool) -> Callable[[tuple], Any]:
        """Samples packed: id, cpu, time, tid, raw data, the callchain when a tracepoint
        has one, and the record and its perf_sample when the script has process_event."""
        kind = bool(tracepoint and ev.sample_type & SampleType.CALLCHAIN) + 2 * self.has_process_event
        body = ["    smp = parse(item[2], item[1])", f"    raw = smp[{S_RAW}] or b''",
                f"    if rt.events[1] != {kind}:", f"        rt._send_events({kind})",
                "    out = rt.events", f"    out += head({pid}, smp[{S_CPU}] & 0xFFFFFFFF, smp[{S_TIME}], smp[{S_TID}], len(raw))", "    out += raw"]
        if kind & 1:
            body.append("    out += rt._callchain(item)")
        if kind & 2:
            body.append("    out += generic(smp, item)")
        body += ["    if len(out) >= BATCH:", "        rt._send_events()"]
        env = {"rt": self, "head": _EVENT.pack, "parse": ev.parse, "BATCH": BATCH,
               "generic": _generic_args}
        return compile_handler(body, env, "<scripthost perl encoder>")

    def _callchain(self, item: tuple) -> bytes:
        """The sample's callchain for the bridge: u32 length, u16 entries, each u64 ip,
        u8 what follows (1: sym start, end, binding, name; 2: dso name; 3: both)."""
        assert self.session is not None
        out = bytearray()
        locs = self.session.callchain(item)
        for loc in locs:
            sym, m = loc.sym, loc.map
            out += _CC_IP.pack(loc.ip, (sym is not None) | (m is not None) << 1)
            if sym is not None:
                out += _CC_SYM.pack(sym.start, sym.end, sym.binding) + _s(sym.name)
            if m is not None:
                out += _s(m.dso.name)
        return struct.pack("<IH", len(out) + 2, len(locs)) + out


def _generic_args(smp: tuple, item: tuple) -> bytes:
    """process_event's record and perf_sample (its trailing zeros left to the bridge)
    for a sample item (``smp`` its tuple), each u32 length + bytes."""
    record = original_record(item)
    sample = perf_sample.perf_sample_bytes(item[3], smp, item[2], item[1])
    return struct.pack("<I", len(record)) + record + struct.pack("<I", len(sample)) + sample


def _kind_record(kind: int, template: str, stride: int, at: tuple) -> bytes:
    """'K': frame ``kind`` holds events laid out as ``template`` (after the event id);
    ``at``: the places of cpu, time, tid, raw, callchain, record, perf_sample and
    common_pid (0: none) among the ``stride`` values it gives."""
    return b"K" + bytes((kind,)) + _s(template) + bytes((stride, *at))


def _i64(v: int) -> int:
    v &= (1 << 64) - 1
    return v - (1 << 64) if v >> 63 else v
