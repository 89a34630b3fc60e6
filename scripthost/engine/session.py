"""The session: frames records, keeps thread state, orders events by time with
perf's FINISHED_ROUND rule, counts lost events, and hands each event to a
`Consumer` (the default printer or a script runtime).

Ordering follows perf 6.1's ordered-events queue: records of the kernel with a
timestamp are queued; user records (type >= 64) and records with time 0 are
handled on arrival.  At each FINISHED_ROUND the queue is sorted (stable, so
equal times keep arrival order) and everything up to the largest timestamp seen
by the end of the previous round is delivered.  Memory stays bounded by two
rounds of events plus one input chunk.

Rounds are settled in bulk, once per input chunk (and before anything that is
delivered on arrival): when no round brings an event older than the limit of
the round before it, perf's round-by-round deliveries are exactly one stable
sort of them all; otherwise the rounds are replayed one by one.
"""

from __future__ import annotations

import gc
import os
import struct
import sys
from bisect import bisect_right
from contextlib import contextmanager
from operator import itemgetter
from typing import Any, Callable, Iterator, Optional

from scripthost.engine._core import Framer
from scripthost.engine.attrs import S_CALLCHAIN, S_PID, Evsel
from scripthost.engine.filters import CPU_ERROR_STATUS, NO_SAMPLE_TIME, TIME_ERROR_STATUS, SampleFilter, check_cpus
from scripthost.engine.machine import Location, Machine
from scripthost.engine.layouts import (
    EVENT_HEADER, AttrType, Feature, HARDWARE_EVENTS, HEADER_LAST_FEATURE, SOFTWARE_EVENTS, KNOWN_RECORD_TYPES,
    MISC_MMAP_BUILD_ID, MISC_MMAP_DATA, MISC_PROC_MAP_PARSE_TIMEOUT, PROT_EXEC, RecordType as R, S32, U32, U64, named_tid,
)
from scripthost.engine.read_groups import ReadSplitter, reads_counters
from scripthost.engine.reader import Recording, open_recording
from scripthost.engine.source import Input
from scripthost.errors import CorruptInput, TruncatedInput, UnsupportedInput, ScripthostError, StreamError

__all__ = ["Consumer", "Session", "SessionStats"]

_time_key = itemgetter(0)
# what Framer.frame stopped at
_END, _OTHER, _BAD_SIZE, _SHORT_SAMPLE, _NO_EVSEL = range(5)
_evsel_of = itemgetter(3)  # of a sample's queue item; other items hold None last
# Allocations between the cyclic collector's young-generation passes while events flow.
# Every queued event is a tuple the collector tracks, so at Python's default (700) it walks
# the queue again and again: 1,212 + 110 + 10 passes and 3.6% of all instructions in a
# one-process run of syscall-counts.py over 1.3M events (callgrind), 29 + 2 + 0 at 50,000.
_GC_YOUNG = 50_000
_PIDS = struct.Struct("<ii")
_MMAP = struct.Struct("<iiQQQ")


class Consumer:
    """What a session drives.  Every method has a do-nothing default."""

    #: seconds of stream time between `tick` calls; 0 turns the hook off
    interval_ns: int = 0

    def begin(self, session: "Session") -> None:
        """Before the first event is delivered (perf runs trace_begin here)."""

    def handler(self, evsel: Evsel) -> Optional[Callable[[tuple], Any]]:
        """Asked once per evsel at its first sample: a callable taking the queue item
        ``(time, pos, buf, evsel)`` (``evsel.parse(buf, pos)`` gives the sample tuple), or None."""
        return None

    def plan(self, evsel: Evsel) -> Optional[tuple | int]:
        """Optionally, asked once per evsel at its first sample instead of `handler`, a
        route for its samples that builds no queue items (see `_core.Framer.set_planner`):
        a handler the native core calls itself with the arguments it builds; an int, the
        event type under which the samples reach `run_arrays` (a consumer with
        `run_arrays` and `publish_chunk`); ``("slice", kind, id, start, RAW size offset)``,
        the samples copied into frames for `run_frames` (a consumer with `run_frames` and
        `frame_limit`); or None, queue items as usual.  Routes are not
        used while samples read counters, with `interval_ns`, or a batch handler."""
        return None

    def lost(self, kind: str, count: int) -> None:
        """A LOST ("events") or LOST_SAMPLES ("samples") record was delivered."""

    def tick(self, now_ns: int) -> None:
        """The periodic hook, every `interval_ns` of stream time."""

    def record(self, rtype: int, misc: int, body: bytes, time: int) -> None:
        """A non-sample kernel record was delivered in time order (after the session's own bookkeeping)."""

    def run_handler(self, evsel: Evsel) -> Optional[Callable[[list], Any]]:
        """Optionally, a callable taking a list of queue items all of ``evsel``, in time
        order: what the handler does to each, in one call.  Asked once per evsel, when
        its handler has no ``run`` attribute (handlers from engine.codegen have one)."""
        return None

    def batch_handler(self, session: "Session") -> Optional[Callable[[list], Any]]:
        """Optionally, a callable taking each delivered batch whole, in time order:
        sample items of any evsel mixed with other records, which it must hand to
        `Session.deliver_record` in their place.  Asked once, at `begin`; it takes
        over from `handler` and `run_handler` (it may call `Session.handler_of`)."""
        return None

    def delivered(self) -> None:
        """A batch of events went to the handlers (a consumer that queues them hands them on here)."""

    def end(self, session: "Session") -> None:
        """After the last event and the end-of-run warnings (perf runs trace_end here)."""


class SessionStats:
    __slots__ = ("records", "samples", "lost_chunks", "lost_events", "lost_samples",
                 "out_of_order", "unknown_ids", "unknown_records", "proc_map_timeouts")

    def __init__(self) -> None:
        self.records = 0
        self.samples = 0
        self.lost_chunks = 0
        self.lost_events = 0
        self.lost_samples = 0
        self.out_of_order = 0
        self.unknown_ids = 0
        self.unknown_records = 0
        self.proc_map_timeouts = 0


class _Handlers(dict):
    """evsel -> handler, asking the consumer once per evsel; with a ``select`` (see
    `Session.set_select`) each handler sees only the samples it accepts."""

    def __init__(self, consumer: Consumer, select: Optional[Callable[[Evsel], Callable[[tuple], bool]]]) -> None:
        super().__init__()
        self._consumer = consumer
        self._select = select

    def __missing__(self, evsel: Evsel) -> Any:
        h = self._consumer.handler(evsel)
        if h is not None and self._select is not None:
            h = _selected(h, self._select(evsel))
        self[evsel] = h
        return h


def _selected(h: Callable[[tuple], Any], accepts: Callable[[tuple], bool]) -> Callable[[tuple], Any]:
    def selected(item: tuple) -> None:
        if accepts(item):
            h(item)
    return selected


class _RunHandlers(dict):
    """evsel -> run handler (or None), asking the consumer once per evsel."""

    def __init__(self, consumer: Consumer, handlers: _Handlers, selecting: bool) -> None:
        super().__init__()
        self._consumer = consumer
        self._handlers = handlers
        self._selecting = selecting

    def __missing__(self, evsel: Evsel) -> Any:
        h = self._handlers[evsel]
        if h is None or self._selecting:
            return None  # a selecting handler takes one sample at a time
        run = getattr(h, "run", None) or self._consumer.run_handler(evsel)
        self[evsel] = run
        return run


class Session:
    """One pass over a recording."""

    def __init__(self, inp: Input | Recording, *, ksyms: Any = None) -> None:
        self.rec = inp if isinstance(inp, Recording) else open_recording(inp)
        self.pipe = self.rec.pipe
        self.evsels: list[Evsel] = []
        self.id2evsel: dict[int, Evsel] = {}
        self.features: dict[int, bytes] = dict(self.rec.features)
        #: where each feature's payload starts in the input (for its faults)
        self.feature_offsets: dict[int, int] = dict(self.rec.feature_offsets)
        self.tracing = None
        if ksyms is None and not self.rec.pipe:
            # perf 6.1 resolves %pS/%ps against the host's kallsyms for perf.data files
            # only; from a pipe it prints the addresses
            from scripthost.engine.ksyms import KernelSymbols
            ksyms = KernelSymbols.host()
        self.ksyms = ksyms
        self.comms: dict[int, str] = {0: "swapper"}
        #: start of the kernel image map ([kernel.kallsyms]_text MMAP), once seen
        self.stats = SessionStats()
        self.stopped = False
        #: evsel -> the test its samples pass to be delivered, in delivery order (see set_select)
        self._select: Optional[Callable[[Evsel], Callable[[tuple], bool]]] = None
        #: called with (feature id, payload, offset) as a pipe's HEADER_FEATURE arrives
        self.on_feature: Optional[Callable[[int, bytes, int], None]] = None
        #: called with (input offset, record bytes, its queue item or None for a user record)
        #: as each record but a sample is read, before the session acts on it (see take_rounds)
        self.on_record: Optional[Callable[[int, bytes, Optional[tuple]], None]] = None
        self._unordered = False
        #: what set_filter asked for: time ranges (start, end; end 0 open), cpus, pids, tids
        self.filter_parts: tuple[list, list, list, list] = ([], [], [], [])
        #: called with (evsel, record offset, record size) as a pipe's HEADER_ATTR arrives
        self.on_attr: Optional[Callable[[Evsel, int, int], None]] = None

        #: the native core: framing, ordering, and the handlers it calls itself
        self._framer = Framer(R.SAMPLE, R.FINISHED_ROUND)
        #: splits samples that read counters, once an event samples them
        self._read_groups: Optional[ReadSplitter] = None
        self._names_by_id: dict[int, str] = {}
        for attr, ids, at in self.rec.attrs:
            self._add_evsel(attr, ids, at)
        if Feature.EVENT_DESC in self.features:
            self._apply_event_desc(self.features[Feature.EVENT_DESC], self.feature_offsets.get(Feature.EVENT_DESC))
        if Feature.TRACING_DATA in self.features:
            self._set_tracing(self.features[Feature.TRACING_DATA], None, self.rec.data_offset)
        #: maps and symbols for sample addresses (symbols load on first use)
        self.machine = Machine(self.build_ids())

    # -- header state ---------------------------------------------------------------

    def _add_evsel(self, attr: bytes, ids: list[int], at: int) -> Evsel:
        ev = Evsel(len(self.evsels), bytes(attr), ids, at)
        self.evsels.append(ev)
        for i in ids:
            self.id2evsel[i] = ev
        if reads_counters(ev) and self._read_groups is None:
            self._read_groups = ReadSplitter(self.id2evsel, self.stats)
            self._framer.set_planner(None)  # each sample is split into one event per counter first
        if ids and ids[0] in self._names_by_id:
            ev.name = self._names_by_id[ids[0]]
        if self.tracing is not None and ev.is_tracepoint:
            ev.tp_format = self.tracing.formats.get(ev.config)
        return ev

    def _apply_event_desc(self, payload: bytes, at: Optional[int]) -> None:
        """Evsel names from the EVENT_DESC feature (perf's names, e.g. "dummy:HG"); ``at``:
        where the payload starts in the input."""
        from scripthost.engine.features import event_desc
        for _attr, name, ids, _at in event_desc(payload, at):
            for eid in ids:
                self._names_by_id[eid] = name
                ev = self.id2evsel.get(eid)
                if ev is not None:
                    ev.name = name

    def _set_tracing(self, blob: bytes, declared: Optional[int], offset: int) -> None:
        from scripthost.engine.tracedata import parse_tracing_data
        from scripthost.engine.printfmt import perf_warning
        self.tracing = parse_tracing_data(blob, declared, offset)
        # what perf says of the formats it cannot use, as it reads them (before any event)
        warnings = [w for w in map(perf_warning, self.tracing.formats.values()) if w is not None]
        if warnings:
            sys.stderr.write("libtraceevent: No such file or directory\n" + "".join(w + "\n" for w in warnings))
            sys.stderr.flush()
        for ev in self.evsels:
            if ev.is_tracepoint:
                ev.tp_format = self.tracing.formats.get(ev.config)

    def evsel_name(self, ev: Evsel) -> str:
        """perf's name for an evsel: EVENT_DESC/EVENT_UPDATE, else sys:event, else a generic name."""
        if ev.name:
            return ev.name
        if ev.is_tracepoint:
            return ev.tp_format.full_name if ev.tp_format is not None else "unknown tracepoint"
        if ev.type == AttrType.SOFTWARE and ev.config < len(SOFTWARE_EVENTS):
            return SOFTWARE_EVENTS[ev.config]
        if ev.type == AttrType.HARDWARE and ev.config < len(HARDWARE_EVENTS):
            return HARDWARE_EVENTS[ev.config]
        return f"raw {ev.type}:{ev.config:#x}"

    def comm(self, tid: int) -> str:
        c = self.comms.get(tid)
        return c if c is not None else f":{tid}"

    def build_ids(self) -> dict[str, str]:
        """Recorded build ids by file name (the file's BUILD_ID section)."""
        out = {}
        raw = self.features.get(Feature.BUILD_ID, b"")
        pos = 0
        while pos + 8 <= len(raw):
            _, misc, size = EVENT_HEADER.unpack_from(raw, pos)
            if size < 36 or pos + size > len(raw):
                break
            name = raw[pos + 36:pos + size].split(b"\0", 1)[0].decode("utf-8", "surrogateescape")
            n = raw[pos + 32] if misc & (1 << 15) else 20
            out[name] = raw[pos + 12:pos + 12 + min(n, 20)].hex()
            pos += size
        return out

    def kernel_build_id(self) -> str:
        """The recorded build id of [kernel.kallsyms], or ""."""
        return self.build_ids().get("[kernel.kallsyms]", "")

    @property
    def arch(self) -> str:
        raw = self.features.get(Feature.ARCH)
        if raw and len(raw) > 4:
            return raw[4:].split(b"\0", 1)[0].decode("ascii", "replace")
        return os.uname().machine

    def _id_offset(self) -> Optional[int]:
        """Byte offset (from the record start) of the id that picks a sample's evsel; None
        when there is none to read (one evsel: every sample is its)."""
        layout = self.evsels[0].fixed_layout if self.evsels else {}
        if "identifier" in layout:
            return layout["identifier"][0]
        if "id" in layout and len(self.evsels) > 1:
            return layout["id"][0]
        return None

    # -- the main loop ---------------------------------------------------------------

    def run(self, consumer: Consumer) -> None:
        """Read the whole input, delivering events to ``consumer``.

        A stream fault still delivers every event decoded before it and runs
        ``consumer.end`` before the StreamError propagates.
        """
        with _young_collections_spaced():
            self._run(consumer)

    def _run(self, consumer: Consumer) -> None:
        handlers = _Handlers(consumer, self._select)
        self._handlers = handlers
        self._runs = _RunHandlers(consumer, handlers, self._select is not None)
        self._consumer = consumer
        self._batch: Optional[Callable[[list], Any]] = None
        self._next_tick = 0
        self._counted = (0, 0, 0)  # the framer's counters already in self.stats
        self._delivery_fault = False
        self._set_layout()
        consumer.begin(self)
        self._batch = consumer.batch_handler(self) if self._select is None else None
        if self._batch is None and not consumer.interval_ns and self._read_groups is None:
            arrays = getattr(consumer, "run_arrays", None)
            frames = getattr(consumer, "run_frames", None)
            self._framer.set_planner(self._route, arrays, consumer.publish_chunk if arrays else None,
                                     frames, getattr(consumer, "frame_limit", 1 << 17),
                                     StreamError if frames else None,
                                     getattr(getattr(consumer, "out", None), "write", None))
        error: Optional[BaseException] = None
        try:
            self._read_loop()
        except StreamError as e:
            error = e
        except KeyboardInterrupt:
            self.stopped = True
            try:
                self._settle()  # what perf had delivered by now
            except KeyboardInterrupt:
                pass
            except StreamError as e:
                error = e
            self._framer.clear()
        if not self.stopped and not self._delivery_fault:
            try:
                self._flush()
            except StreamError as e:
                error = error or e
            except KeyboardInterrupt:
                self.stopped = True
        self.stats.out_of_order = self._framer.out_of_order
        self.print_warnings(sys.stderr)
        consumer.end(self)
        if error is not None:
            raise error

    def _route(self, ev: Evsel) -> Any:
        """The native core's route for ``ev``'s samples: the consumer's plan, else queue
        items when it has a handler, else none at all."""
        if type(self._consumer).plan is not Consumer.plan and self._select is None:
            route = self._consumer.plan(ev)
            if route is not None:
                return route
        return None if self._handlers[ev] is not None else "drop"

    def set_unordered(self) -> None:
        """Deliver every record in input order, FINISHED_ROUND records included (to the
        consumer's `record`), as perf script does with --show-round-events (it turns its
        ordered-events queue off): no sorting, no out-of-order count."""
        self._framer.set_unordered()
        self._unordered = True

    def take_rounds(self) -> None:
        """FINISHED_ROUND records through Python too (for `on_record`), ordering unchanged."""
        self._framer.take_rounds()

    def stop(self) -> None:
        """Ask the read loop to end (drops what is still queued, like perf on SIGINT)."""
        self.stopped = True

    def set_filter(self, flt: "SampleFilter", *, in_core: bool = True) -> None:
        """Keep only the samples ``flt`` accepts (perf script's --time/-C/--pid/--tid);
        percentages are of the span between the header's first and last sample times.
        perf checks both against the file's header before reading: a pipe has none yet.
        Not ``in_core``: every sample is delivered, and `filter_parts` (time ranges, cpus,
        pids, tids) tell the consumer what to drop."""
        header = {} if self.pipe else self.features
        span = header.get(Feature.SAMPLE_TIME, b"")
        if flt.fractions and len(span) < 16:
            raise ScripthostError(NO_SAMPLE_TIME, exit_code=TIME_ERROR_STATUS)
        first, last = struct.unpack_from("<QQ", span) if len(span) >= 16 else (0, 0)
        if flt.cpus:
            firsts = {}
            for ev in self.evsels:
                firsts.setdefault(ev.type, ev)
            if any(not ev.cpu_off for ev in firsts.values()):
                raise ScripthostError("File does not contain CPU events. Remove -C option to proceed.",
                                      exit_code=CPU_ERROR_STATUS)
            nrcpus = header.get(Feature.NRCPUS, b"")
            check_cpus(flt.cpus, struct.unpack_from("<II", nrcpus)[1] if len(nrcpus) >= 8 else 0)
        self.filter_parts = (flt.ranges(first, last), flt.cpus, flt.pids, flt.tids)
        if in_core:
            self._framer.set_filter(*self.filter_parts)

    def set_select(self, select: Callable[[Evsel], Callable[[tuple], bool]]) -> None:
        """Deliver only the samples that ``select(evsel)`` accepts, tested as they are
        delivered (in time order, so against the comms and maps at their time): the
        filters that need the thread's comm or the ip's symbol (-c, -S, --dsos).  The
        consumer's native plans and run handlers are then not used."""
        self._select = select

    def _set_layout(self) -> None:
        """Tell the framer where each evsel's samples hold their id and time."""
        id_pos = self._id_offset()
        self._framer.set_layout(-1 if id_pos is None else id_pos,  # the core's "no id": -1
                                [(ev, ev.time_off, ev.min_size, ev.pid_off, ev.cpu_off)
                                 for ev in self.evsels],
                                [(i, ev.index) for i, ev in self.id2evsel.items()])

    def _read_loop(self) -> None:
        src = self.rec.source
        data_end = self.rec.data_end
        framer = self._framer
        frame = framer.frame
        try:
            while not self.stopped:
                buf = src.buf
                end = len(buf)
                if data_end is not None:
                    end = min(end, data_end - src.offset)
                pos, status = frame(buf, src.pos, end)
                src.pos = pos
                if status == _OTHER:
                    rtype, misc, size = EVENT_HEADER.unpack_from(buf, pos)
                    src.pos = pos + size
                    self._other(rtype, misc, buf, pos, size)
                    if rtype == R.HEADER_ATTR:
                        self._set_layout()
                    continue
                if status != _END:
                    self._frame_fault(status, buf, pos)
                at = src.offset + pos
                if data_end is not None and at >= data_end:
                    return
                left = len(buf) - pos
                need = EVENT_HEADER.unpack_from(buf, pos)[2] if left >= 8 else 8
                if data_end is not None and at + need > data_end:
                    raise CorruptInput(f"corrupt record: {need} bytes run past the data section end", at)
                if framer.pending and left < need:
                    self._settle()  # before waiting on the input: live output stays current
                if not src.fill(need):
                    if src.pos >= len(src.buf):
                        return
                    raise TruncatedInput(f"truncated input: a {need}-byte record cut short "
                                      f"after {len(src.buf) - src.pos} bytes", at)
        finally:
            records, samples, unknown = framer.records, framer.samples, framer.unknown_ids
            st = self.stats
            st.records += records - self._counted[0]
            st.samples += samples - self._counted[1]
            st.unknown_ids += unknown - self._counted[2]
            self._counted = (records, samples, unknown)

    def _frame_fault(self, status: int, buf: bytes, pos: int) -> None:
        """The StreamError for a record the framer stopped at."""
        at = self.rec.source.offset + pos
        rtype, _, size = EVENT_HEADER.unpack_from(buf, pos)
        if status == _BAD_SIZE:
            raise CorruptInput(f"corrupt record: type {rtype} claims size {size}", at)
        if status == _NO_EVSEL:
            raise CorruptInput("corrupt stream: sample before any event attribute", at)
        id_pos = self._id_offset()
        if id_pos is None:
            ev: Optional[Evsel] = self.evsels[0]
        else:
            ev = self.id2evsel.get(U64.unpack_from(buf, pos + id_pos)[0]) if size >= id_pos + 8 else None
        need = ev.min_size if ev is not None else id_pos + 8
        raise CorruptInput(f"corrupt sample: {size} bytes, its fields need {need}", at)

    def _other(self, rtype: int, misc: int, buf: bytes, pos: int, size: int) -> None:
        """Every record but SAMPLE and FINISHED_ROUND."""
        if rtype >= 64:
            self._settle()
            if self.on_record is not None:
                self.on_record(self.rec.source.offset + pos, buf[pos:pos + size], None)
            self._user_record(rtype, misc, buf, pos, size)
            return
        if rtype not in KNOWN_RECORD_TYPES:
            self.stats.unknown_records += 1
            return
        ev = self._trailer_evsel(buf, pos + size)
        t = ev.trailer_time_of(buf, pos + size) if ev is not None else 0
        item = (t, rtype, misc, buf[pos + 8:pos + size], None)
        if self.on_record is not None:
            self.on_record(self.rec.source.offset + pos, buf[pos:pos + size], item)
        if t == 0 or t == 0xFFFFFFFFFFFFFFFF:
            self._settle(record=item)
        else:
            self._framer.push(t, item)

    def evsel_of_trailer(self, body: bytes) -> Optional[Evsel]:
        """The evsel a non-sample record's body (its sample_id_all trailer) belongs to."""
        return self._trailer_evsel(body, len(body))

    def _trailer_evsel(self, buf: bytes, end: int) -> Optional[Evsel]:
        if not self.evsels:
            return None
        first = self.evsels[0]
        if not first.sample_id_all:
            return None
        from scripthost.engine.layouts import SampleType as ST
        if first.sample_type & ST.IDENTIFIER:
            return self.id2evsel.get(U64.unpack_from(buf, end - 8)[0], first)
        return first

    def _user_record(self, rtype: int, misc: int, buf: bytes, pos: int, size: int) -> None:
        src = self.rec.source
        off = src.offset + pos
        if rtype == R.HEADER_ATTR:
            if size < 8 + 64:
                raise CorruptInput(f"corrupt HEADER_ATTR record of size {size}", off)
            asize = U32.unpack_from(buf, pos + 12)[0]
            if asize < 64 or 8 + asize > size:
                raise CorruptInput(f"corrupt HEADER_ATTR: attr size {asize} in a {size}-byte record", off)
            ids = [U64.unpack_from(buf, p)[0] for p in range(pos + 8 + asize, pos + size - 7, 8)]
            ev = self._add_evsel(buf[pos + 8:pos + 8 + asize], ids, off + 8)
            if self.on_attr is not None:
                self.on_attr(ev, off, size)
        elif rtype == R.HEADER_TRACING_DATA:
            if size < 12:
                raise CorruptInput("corrupt HEADER_TRACING_DATA record", off)
            declared = U32.unpack_from(buf, pos + 8)[0]
            blob = src.read_exact(declared)
            if blob is None:
                raise TruncatedInput("truncated input: tracing data cut short", src.tell())
            self._set_tracing(blob, declared, off + size)
        elif rtype == R.HEADER_FEATURE:
            if size < 16:
                raise CorruptInput("corrupt HEADER_FEATURE record", off)
            fid = U64.unpack_from(buf, pos + 8)[0]
            if fid < HEADER_LAST_FEATURE:
                payload = buf[pos + 16:pos + size]
                self.features[fid] = payload
                self.feature_offsets[fid] = off + 16
                if fid == Feature.EVENT_DESC:
                    self._apply_event_desc(payload, off + 16)
                if self.on_feature is not None:
                    self.on_feature(fid, payload, off + 16)
        elif rtype == R.EVENT_UPDATE:
            if size >= 24 and U64.unpack_from(buf, pos + 8)[0] == 2:
                eid = U64.unpack_from(buf, pos + 16)[0]
                name = buf[pos + 24:pos + size].split(b"\0", 1)[0].decode("utf-8", "replace")
                self._names_by_id[eid] = name
                ev = self.id2evsel.get(eid)
                if ev is not None:
                    ev.name = name
        elif rtype == R.FINISHED_ROUND:  # reaches here unordered, or after take_rounds
            if self._unordered:
                self.deliver_record((0, rtype, misc, b"", None))
            else:
                self._framer.round()
                self._settle()  # perf flushes at the round
        elif rtype == R.AUXTRACE:
            if size >= 16:
                skip = U64.unpack_from(buf, pos + 8)[0]
                if src.read_exact(skip) is None:
                    raise TruncatedInput("truncated input: AUXTRACE data cut short", src.tell())
        elif rtype == R.COMPRESSED:
            raise UnsupportedInput("compressed (perf record -z) data is not supported; record without -z", off)
        elif rtype not in KNOWN_RECORD_TYPES:
            self.stats.unknown_records += 1

    # -- delivery --------------------------------------------------------------------

    def _settle(self, final: bool = False, record: Optional[tuple] = None) -> None:
        """Deliver what perf delivers at each FINISHED_ROUND read so far (``final``: all
        that is queued, at the end of the input), then ``record``, a record delivered on
        arrival.  A fault in a delivered event ends the deliveries (as perf's): all that
        is still queued comes after it."""
        try:
            if final or self._framer.pending:
                self._framer.settle(self._deliver, final)
            if record is not None:
                self.deliver_record(record)
        except StreamError:
            self._delivery_fault = True
            raise

    def _flush(self) -> None:
        """Deliver everything still queued (the end of the input)."""
        self._settle(True)

    def _deliver(self, batch: list[tuple], one_evsel: bool = False) -> None:
        """Deliver a batch in time order (``one_evsel``: its items are all samples of one evsel)."""
        consumer = self._consumer
        if self._read_groups is not None:
            batch = self._read_groups.split(batch)
            one_evsel = False
        interval = consumer.interval_ns
        if batch and interval:
            self._deliver_ticked(batch, interval, one_evsel)
        elif batch:
            self._deliver_items(batch, one_evsel)
        consumer.delivered()

    def _deliver_items(self, items: list[tuple], one_evsel: bool = False) -> None:
        if self._batch is not None:
            self._batch(items)
            return
        ev = items[0][-1]
        if ev is not None:
            run = self._runs[ev]
            if run is not None and (one_evsel or list(map(_evsel_of, items)).count(ev) == len(items)):
                run(items)  # every item a sample of one evsel: one call for them all
                return
        handlers = self._handlers
        other = self.deliver_record
        for item in items:
            if len(item) == 4:
                h = handlers[item[3]]
                if h is not None:
                    h(item)
            else:
                other(item)

    def _deliver_ticked(self, batch: list[tuple], interval: int, one_evsel: bool) -> None:
        """Delivery with the periodic hook: split the batch at each tick boundary."""
        start = 0
        if not self._next_tick:
            self._next_tick = batch[0][0] + interval
        while start < len(batch):
            cut = bisect_right(batch, self._next_tick - 1, lo=start, key=_time_key)
            if cut > start:
                self._deliver_items(batch[start:cut], one_evsel)
            start = cut
            if start < len(batch):
                self._consumer.tick(self._next_tick)
                self._next_tick += interval

    def callchain(self, item: tuple) -> tuple[Location, ...]:
        """A sample item's callchain resolved against the maps at its time, as perf's
        scripts get it (context markers left out)."""
        smp = item[3].parse(item[2], item[1])
        cpumode = item[2][item[1] + 4] & 7  # the record's misc
        return self.machine.callchain(smp[S_PID], cpumode, smp[S_CALLCHAIN])

    def handler_of(self, evsel: Evsel) -> Optional[Callable[[tuple], Any]]:
        """The consumer's handler for ``evsel`` (asked for at its first use)."""
        return self._handlers[evsel]

    def deliver_record(self, item: tuple) -> None:
        """Deliver a queue item that is not a sample: the session's bookkeeping
        (comms, maps, lost counts), then the consumer's `record` and `lost` hooks."""
        t, rtype, misc, body, _ = item
        tid = named_tid(rtype, body)
        if tid is not None:
            if rtype == R.COMM:
                self.comms[tid] = body[8:].split(b"\0", 1)[0].decode("utf-8", "surrogateescape")
            else:  # FORK: the child takes its parent's comm
                parent = self.comms.get(S32.unpack_from(body, 12)[0])
                if parent is not None:
                    self.comms[tid] = parent
                else:
                    self.comms.pop(tid, None)
        if rtype == R.MMAP or rtype == R.MMAP2 or rtype == R.FORK:
            if misc & MISC_PROC_MAP_PARSE_TIMEOUT and rtype != R.FORK:
                self.stats.proc_map_timeouts += 1
            self._apply_map_record(rtype, misc, body)
        if rtype == R.LOST:
            if len(body) >= 16:
                n = U64.unpack_from(body, 8)[0]
                self.stats.lost_chunks += 1
                self.stats.lost_events += n
                self._consumer.lost("events", n)
        elif rtype == R.LOST_SAMPLES:
            if len(body) >= 8:
                n = U64.unpack_from(body, 0)[0]
                self.stats.lost_samples += n
                self._consumer.lost("samples", n)
        self._consumer.record(rtype, misc, body, t)

    def _apply_map_record(self, rtype: int, misc: int, body: bytes) -> None:
        m = self.machine
        if rtype == R.FORK:
            if len(body) >= 16:
                pid, ppid = _PIDS.unpack_from(body, 0)
                m.fork(pid, ppid)
            return
        if rtype == R.MMAP:
            if len(body) < 32:
                return
            pid, _, start, length, pgoff = _MMAP.unpack_from(body, 0)
            name, bid = body[32:], ""
            executable = not misc & MISC_MMAP_DATA
        else:
            if len(body) < 64:
                return
            pid, _, start, length, pgoff = _MMAP.unpack_from(body, 0)
            name = body[64:]
            bid = body[36:36 + min(body[32], 20)].hex() if misc & MISC_MMAP_BUILD_ID else ""
            executable = bool(body[56] & PROT_EXEC)
        name = name.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")
        m.mmap(pid, start, length, pgoff, name, (misc & 7) == 1, bid, executable)

    # -- end of run ------------------------------------------------------------------

    def print_warnings(self, out: Any) -> None:
        """perf's end-of-run warnings, in perf's words."""
        s = self.stats
        if s.lost_chunks:
            out.write(f"Warning:\nProcessed {s.records} events and lost {s.lost_chunks} chunks!\n\n"
                      "Check IO/CPU overload!\n\n")
        if s.lost_samples:
            total = s.samples + s.lost_samples
            if s.lost_samples * 100 > total * 5:
                out.write(f"Warning:\nProcessed {total} samples and lost "
                          f"{s.lost_samples * 100.0 / total:3.2f}%!\n\n")
        if s.unknown_ids:
            out.write(f"Warning:\n{s.unknown_ids} samples with id not present in the header\n")
        if s.out_of_order:
            out.write(f"Warning:\n{s.out_of_order} out of order events recorded.\n")
        if s.proc_map_timeouts:
            out.write(f"Warning:\n{s.proc_map_timeouts} map information files for pre-existing threads were\n"
                      "not processed, if there are samples for addresses they\n"
                      "will not be resolved, you may find out which are these\n"
                      "threads by running with -v and redirecting the output\n"
                      "to a file.\nThe time limit to process proc map is too short?\n"
                      "Increase it by --proc-map-timeout\n")
        out.flush()


@contextmanager
def _young_collections_spaced() -> Iterator[None]:
    """Run with the collector's first threshold at least _GC_YOUNG (restored after): a
    script's cyclic garbage still goes, only in fewer, larger passes."""
    saved = gc.get_threshold()
    if 0 < saved[0] < _GC_YOUNG:
        gc.set_threshold(_GC_YOUNG, *saved[1:])
    try:
        yield
    finally:
        gc.set_threshold(*saved)
