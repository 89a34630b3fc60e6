"""scripthost as a Python library: a thin, typed facade over the engine.

    import scripthost

    with scripthost.open("perf.data") as rec:           # a path, '-', a file object or bytes
        print(rec.header["hostname"], rec.event_names)
        for ev in rec.events(pid=1234, time="10%-20%"):  # perf's order, perf script's filters
            print(ev.name, ev.time, ev.comm, ev.id)       # fields by perf's names
        syscalls = rec.to_arrow(event="raw_syscalls:sys_enter")   # a pyarrow.Table
        df = rec.to_pandas(event="raw_syscalls:sys_enter")

Filters take perf script's values (``pid="1,2"``, ``cpu="0-3"``, ``time="1.5,2"`` or
``"10%/2"``) or Python ones (an int, a list of ints, a ``(start_ns, end_ns)`` pair) and
are applied by the native core, exactly as `scripthost trace --pid/--tid/-C/--time`.
Each call reads the recording once more (a path or bytes); a stream can be read once.
The tables need the ``arrow`` extra (``pip install 'scripthost[arrow]'``).
"""

from __future__ import annotations

import os
import queue
import threading
from typing import Any, BinaryIO, Iterable, Iterator, Optional, Union

from scripthost.engine.attrs import Evsel
from scripthost.engine.filters import parse_filters
from scripthost.engine.layouts import Feature
from scripthost.engine.session import Consumer, Session, SessionStats
from scripthost.errors import ScripthostError, StreamError
from scripthost.events import Event, event_decoder

__all__ = ["open", "Recording", "Event", "ScripthostError", "StreamError", "Source", "Filter"]

#: what `open` reads: a path, '-' (stdin), a binary file object, or the bytes of a recording
Source = Union[str, "os.PathLike[str]", BinaryIO, bytes, bytearray]
#: one filter's value: perf script's text, an int, ints, or for time a (start_ns, end_ns) pair
Filter = Union[str, int, Iterable[int], tuple[int, int], None]

#: events handed from the reading thread at a time
_HANDOFF = 4096
_BATCH, _END, _FAULT = range(3)
#: features whose payload is one perf header string (u32 length, NUL-padded text)
_STRING_FEATURES = {Feature.HOSTNAME, Feature.OSRELEASE, Feature.VERSION, Feature.ARCH,
                    Feature.CPUDESC, Feature.CPUID}
_FEATURE_NAMES = {v: k.lower() for k, v in vars(Feature).items() if k.isupper()}


def open(source: Source) -> "Recording":  # noqa: A001 - the library's verb, as io.open
    """Open a recording (perf.data file or pipe-mode stream) and read its header."""
    return Recording(source)


def _filter_text(value: Filter, what: str) -> Optional[str]:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    if what == "time" and isinstance(value, tuple) and len(value) == 2:
        return ",".join("" if v is None else f"{v // 10**9}.{v % 10**9:09d}" for v in value)
    return ",".join(str(int(v)) for v in value)


class _Abort(Exception):
    """The reader of `Recording.events` went away: the reading thread ends."""


class _EventFeed(Consumer):
    """Makes an Event of every sample and hands them on in lists."""

    def __init__(self, put: Any) -> None:
        self._put = put
        self._buf: list[Event] = []
        self._session: Optional[Session] = None

    def begin(self, session: Session) -> None:
        self._session = session

    def handler(self, ev: Evsel) -> Any:
        assert self._session is not None
        return event_decoder(ev, self._session.evsel_name(ev), self._session, self._buf.append)

    def delivered(self) -> None:
        if len(self._buf) >= _HANDOFF:
            self._hand_on()

    def _hand_on(self) -> None:
        batch = self._buf.copy()
        self._buf.clear()
        self._put((_BATCH, batch))

    def end(self, session: Session) -> None:
        if self._buf:
            self._hand_on()


class Recording:
    """An opened recording.  Use as a context manager, or call `close`."""

    def __init__(self, source: Source) -> None:
        self._source = source
        self._session: Optional[Session] = Session(source)
        self._fresh = True
        #: the counters of the last pass (records, samples, lost events, out of order, ...)
        self.stats: SessionStats = self._session.stats

    # -- the header ----------------------------------------------------------------------

    @property
    def header(self) -> dict[str, Any]:
        """The header's features by perf's names (lower case): strings decoded
        (hostname, osrelease, version, arch, cpudesc, cpuid), nrcpus as (online,
        available), cmdline as a list, the others as their raw payloads.  A pipe's
        features are those read so far."""
        s = self._live()
        out: dict[str, Any] = {}
        for fid, payload in sorted(s.features.items()):
            name = _FEATURE_NAMES.get(fid, f"feature_{fid}")
            if fid in _STRING_FEATURES:
                out[name] = payload[4:].split(b"\0", 1)[0].decode("utf-8", "replace")
            elif fid == Feature.NRCPUS and len(payload) >= 8:
                out[name] = tuple(int.from_bytes(payload[i:i + 4], "little") for i in (0, 4))
            elif fid == Feature.CMDLINE and len(payload) >= 4:
                out[name] = _strings(payload)
            else:
                out[name] = bytes(payload)
        return out

    @property
    def event_names(self) -> list[str]:
        """perf's names of the recording's events, in attr order."""
        s = self._live()
        return [s.evsel_name(ev) for ev in s.evsels]

    # -- passes ----------------------------------------------------------------------------

    def _live(self) -> Session:
        if self._session is None:
            raise ScripthostError("the recording is closed: open it again")
        return self._session

    def _pass(self, pid: Filter, tid: Filter, cpu: Filter, time: Filter) -> Session:
        """A session for one more pass over the input, with the filters set."""
        s = self._live()
        if not self._fresh:
            src = self._source
            if isinstance(src, (bytes, bytearray)) or (isinstance(src, (str, os.PathLike)) and str(src) != "-"):
                s = self._session = Session(src)
            else:
                raise ScripthostError("a stream can be read once: open it again (or save it to a file)")
        self._fresh = False
        self.stats = s.stats
        flt = parse_filters(time=_filter_text(time, "time"), cpu=_filter_text(cpu, "cpu"),
                            pid=_filter_text(pid, "pid"), tid=_filter_text(tid, "tid"))
        if flt is not None:
            s.set_filter(flt)
        return s

    def events(self, *, pid: Filter = None, tid: Filter = None, cpu: Filter = None,
               time: Filter = None, event: Optional[str] = None) -> Iterator[Event]:
        """Every sample as an `Event`, in perf's order, kept by perf script's filters
        (and, with ``event``, of that event alone).  The input is read by a thread a
        few thousand events ahead; leaving the loop early stops it."""
        session = self._pass(pid, tid, cpu, time)
        return _iterate(session, event)

    def tables(self, *, event: Optional[str] = None, pid: Filter = None, tid: Filter = None,
               cpu: Filter = None, time: Filter = None) -> dict[str, Any]:
        """One pyarrow.Table per event type with samples (``event``: that one alone),
        built column by column from the core's batches; see docs/api.md for the columns."""
        from scripthost.export.columns import ColumnBuilder
        import pyarrow as pa
        session = self._pass(pid, tid, cpu, time)
        parts: dict[str, list[Any]] = {}
        builder = ColumnBuilder(lambda layout, table: parts.setdefault(layout.name, []).append(table),
                                events={event} if event is not None else None)
        session.run(builder)
        return {name: pa.concat_tables(parts.get(name) or [layout.arrow_schema().empty_table()])
                for name, layout in builder.layouts.items()}

    def to_arrow(self, event: Optional[str] = None, **filters: Filter) -> Any:
        """The pyarrow.Table of ``event`` (which may be left out when the recording has
        one event); an event with no samples gives an empty table of its schema."""
        names = self.event_names
        if event is None:
            if len(set(names)) != 1:
                raise ScripthostError(f"the recording has {len(names)} events: name one with "
                                      f"event= ({', '.join(names)})")
            event = names[0]
        elif event not in names:
            raise ScripthostError(f"no event {event!r} in the recording (it has {', '.join(names)})")
        tables = self.tables(event=event, **filters)
        if event in tables:
            return tables[event]
        from scripthost.export.schema import event_layout
        ev = next(e for e in self._live().evsels if self._live().evsel_name(e) == event)
        lay = ev.fixed_layout
        raw_off = lay["raw"][0] if "raw" in lay else ev.fixed_end + 4  # as ColumnBuilder reads it
        return event_layout(ev, event, raw_off).arrow_schema().empty_table()

    def to_pandas(self, event: Optional[str] = None, **filters: Filter) -> Any:
        """`to_arrow` as a pandas.DataFrame (the ``arrow`` extra)."""
        from scripthost.export.deps import require
        require("pandas", "to_pandas")
        return self.to_arrow(event, **filters).to_pandas()

    # -- lifetime --------------------------------------------------------------------------

    def close(self) -> None:
        """Let go of the input (a file we opened is closed)."""
        s, self._session = self._session, None
        if s is not None:
            closer = getattr(s.rec.source, "close", None)
            if closer is not None:
                closer()

    def __enter__(self) -> "Recording":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _strings(payload: bytes) -> list[str]:
    """perf's string list: u32 count, then each a u32 length and NUL-padded text."""
    n = int.from_bytes(payload[:4], "little")
    out, p = [], 4
    for _ in range(n):
        if p + 4 > len(payload):
            break
        size = int.from_bytes(payload[p:p + 4], "little")
        out.append(payload[p + 4:p + 4 + size].split(b"\0", 1)[0].decode("utf-8", "replace"))
        p += 4 + size
    return out


def _iterate(session: Session, event: Optional[str]) -> Iterator[Event]:
    """Run ``session`` in a thread, yielding its events as they are handed on."""
    q: "queue.Queue[tuple[int, Any]]" = queue.Queue(maxsize=4)
    stop = threading.Event()

    def put(msg: tuple[int, Any]) -> None:
        while True:
            if stop.is_set():
                raise _Abort()
            try:
                q.put(msg, timeout=0.1)
                return
            except queue.Full:
                continue

    feed = _EventFeed(put)
    if event is not None:
        handler = feed.handler
        feed.handler = lambda ev: handler(ev) if session.evsel_name(ev) == event else None  # type: ignore[method-assign]

    def run() -> None:
        try:
            session.run(feed)
            put((_END, None))
        except _Abort:
            pass
        except BaseException as e:  # handed to the reader, raised there
            try:
                put((_FAULT, e))
            except _Abort:
                pass

    def events() -> Iterator[Event]:
        th = threading.Thread(target=run, name="scripthost-events", daemon=True)
        th.start()
        try:
            while True:
                kind, value = q.get()
                if kind == _BATCH:
                    yield from value
                elif kind == _END:
                    return
                else:
                    raise value.with_traceback(None)
        finally:
            stop.set()
            session.stop()
            th.join()
    return events()
