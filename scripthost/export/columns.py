"""Tables built column by column from the native core's batches.

`ColumnBuilder` is a session consumer.  Samples of an event whose fields lie at
fixed offsets reach it as the core's arrays (per event: its chunk's slot, its
position and its type, see `_core.Framer.set_planner`); each batch is gathered
with numpy: the records' leading bytes into one (n, window) array by a single
fancy index, every fixed column a slice of it, strings and dynamic arrays by one
gather of their byte ranges, and Arrow arrays made from the buffers.  No Python
object is made per event.  Tracepoints whose payload has no fixed offset (a
callchain or a group read before it) are rebuilt one by one with the payload
right after the fixed fields, then gathered the same way.  Tables leave as
Arrow tables of about ``batch_rows`` rows, in time order, to a sink.
"""

from __future__ import annotations

from typing import Any, Callable, Optional

from scripthost.engine.attrs import Evsel
from scripthost.engine.layouts import U16, U32
from scripthost.engine.session import Consumer, Session
from scripthost.engine.source import record_fault
from scripthost.export.deps import require
from scripthost.export.schema import BIN, COMM, INT, LIST, LIST_DYN, STR, STR_DYN, EventLayout, event_layout

__all__ = ["ColumnBuilder", "Sink", "empty_table"]

np = require("numpy", "building tables")
pa = require("pyarrow", "building tables")
from numpy.lib.stride_tricks import sliding_window_view  # noqa: E402

#: sink(layout, table): a table of one event type's next rows
Sink = Callable[[EventLayout, Any], None]
_U4 = np.dtype("<u4")
#: events gathered at a time: enough that numpy's per-call costs vanish, few enough
#: that the chunks they lie in and their rows stay a few MiB
_GATHER = 1 << 15
_RAW_SIZE = " raw_size"  # the record dtype's field for RAW's size (no column has a space)


class _Table:
    """One event type's rows gathered but not yet handed on."""

    __slots__ = ("layout", "schema", "dtype", "batches", "rows", "rebuilt", "evsel")

    def __init__(self, layout: EventLayout, evsel: Evsel) -> None:
        self.layout = layout
        self.schema = layout.arrow_schema()
        self.dtype = _record_dtype(layout)
        self.batches: list[Any] = []
        self.rows = 0
        self.rebuilt: list[bytes] = []  # records rebuilt with the payload after the fixed fields
        self.evsel = evsel


class ColumnBuilder(Consumer):
    """Builds one Arrow table per event type; ``events``: the event names to keep (None: all)."""

    def __init__(self, sink: Sink, events: Optional[set[str]] = None, batch_rows: int = 1 << 18,
                 progress: Optional[Callable[[int], None]] = None) -> None:
        self._sink = sink
        self._events = events
        self._batch_rows = batch_rows
        self._progress = progress
        self._tables: list[_Table] = []
        self._chunks: dict[int, bytes] = {}
        self._session: Optional[Session] = None
        self.events = 0
        #: every event type's layout by name, as first seen
        self.layouts: dict[str, EventLayout] = {}

    # -- the session's side ------------------------------------------------------------

    def begin(self, session: Session) -> None:
        self._session = session

    def _name(self, ev: Evsel) -> Optional[str]:
        assert self._session is not None
        name = self._session.evsel_name(ev)
        return name if self._events is None or name in self._events else None

    def _add(self, ev: Evsel, name: str, raw_off: Optional[int]) -> _Table:
        t = _Table(event_layout(ev, name, raw_off), ev)
        self.layouts.setdefault(name, t.layout)
        self._tables.append(t)
        return t

    def plan(self, ev: Evsel) -> Any:
        name = self._name(ev)
        if name is None:
            return "drop"
        lay = ev.fixed_layout
        if ev.is_tracepoint and ev.tp_format is not None and "raw" not in lay:
            return None  # the payload moves: `handler` rebuilds each record
        self._add(ev, name, lay["raw"][0] if ev.is_tracepoint and "raw" in lay else None)
        return len(self._tables) - 1

    def handler(self, ev: Evsel) -> Optional[Callable[[tuple], Any]]:
        """Tracepoints whose payload follows a callchain or a group read: each record
        rebuilt as its fixed fields, RAW's size and payload."""
        name = self._name(ev)
        if name is None:
            return None
        cut = ev.fixed_end
        t = self._add(ev, name, cut + 4)
        parse, rebuilt = ev.parse, t.rebuilt

        def rebuild(item: tuple) -> None:
            buf, pos = item[2], item[1]
            raw = parse(buf, pos)[6] or b""
            size = (cut + 4 + len(raw) + 7) & ~7
            rec = bytearray(buf[pos:pos + cut])
            rec[6:8] = U16.pack(size)
            rec += U32.pack(len(raw)) + raw
            rebuilt.append(bytes(rec.ljust(size, b"\0")))
        return rebuild

    def publish_chunk(self, slot: int, chunk: bytes) -> None:
        self._chunks[slot] = chunk

    def run_arrays(self, n: int, slots: bytes, positions: bytes, types: bytes) -> None:
        slot_of = np.frombuffer(slots, "<u2")
        pos = np.frombuffer(positions, _U4).astype(np.int64)
        type_of = np.frombuffer(types, "<u2")
        for lo in range(0, n, _GATHER):  # a round can be large: memory holds one slice at a time
            self._run_slice(slot_of[lo:lo + _GATHER], pos[lo:lo + _GATHER], type_of[lo:lo + _GATHER])
        self.events += n
        if self._progress is not None:
            self._progress(self.events)

    def _run_slice(self, slot_of: Any, pos: Any, type_of: Any) -> None:
        one_type = type_of[0] == type_of[-1] and (type_of == type_of[0]).all()
        for ty in ((int(type_of[0]),) if one_type else np.unique(type_of).tolist()):
            sel = None if one_type else type_of == ty
            s_of = slot_of if sel is None else slot_of[sel]
            p = pos if sel is None else pos[sel]
            if s_of[0] == s_of[-1] and (s_of == s_of[0]).all():
                chunk = self._chunks[int(s_of[0])]
                self._gather(self._tables[ty], np.frombuffer(chunk, np.uint8), p, _origin(chunk, p))
            else:  # events of several chunks, in time order: their chunks end to end
                used = np.unique(s_of)
                sizes = np.array([len(self._chunks[x]) for x in used.tolist()], np.int64)
                base = np.zeros(int(used[-1]) + 1, np.int64)
                base[used] = np.cumsum(sizes) - sizes
                arr = np.concatenate([np.frombuffer(self._chunks[x], np.uint8) for x in used.tolist()])
                self._gather(self._tables[ty], arr, p + base[s_of], self._origins(s_of, p))

    def delivered(self) -> None:
        for t in self._tables:
            if t.rebuilt:
                chunk = b"".join(t.rebuilt)
                sizes = [len(r) for r in t.rebuilt]
                t.rebuilt.clear()
                pos = np.zeros(len(sizes), np.int64)
                np.cumsum(sizes[:-1], out=pos[1:])
                self._gather(t, np.frombuffer(chunk, np.uint8), pos, _origin(chunk, pos))
                self.events += len(sizes)

    def end(self, session: Session) -> None:
        self.delivered()
        for t in self._tables:
            self._emit(t)

    # -- gathering -----------------------------------------------------------------------

    def _origins(self, slot_of: Any, pos: Any) -> Callable[[int], tuple[bytes, int]]:
        chunks = dict(self._chunks)
        return lambda i: (chunks[int(slot_of[i])], int(pos[i]))

    def _gather(self, t: _Table, arr: Any, pos: Any, origin: Callable[[int], tuple[bytes, int]]) -> None:
        """Append the columns of the records at ``arr[pos]``; ``origin(i)``: the input
        chunk and position of the i-th (for the fault of a corrupt one)."""
        lay = t.layout
        sizes = arr[pos + 6].astype(np.int64) | arr[pos + 7].astype(np.int64) << 8
        _check(sizes < lay.window, "corrupt sample: its fields run past its record", origin)
        rows = sliding_window_view(arr, lay.window)[pos].view(t.dtype).ravel()
        rs = None
        if lay.raw_size_off:
            rs = rows[_RAW_SIZE].astype(np.int64)
            what = f"corrupt tracepoint data for {lay.name.replace(':', '__')}: "
            _check(rs > sizes - lay.raw_off, what + "the payload runs past its sample", origin)
            _check(rs < lay.need, what + "a field runs past the payload", origin)
        cols = [self._column(c, rows, arr, pos, rs, lay.raw_off) for c in lay.columns]
        t.batches.append(pa.RecordBatch.from_arrays(cols, schema=t.schema))
        t.rows += len(pos)
        if t.rows >= self._batch_rows:
            self._emit(t)

    def _column(self, c: Any, rows: Any, arr: Any, pos: Any, rs: Any, raw_off: int) -> Any:
        n = len(pos)
        col = np.ascontiguousarray(rows[c.name])
        if c.kind == INT:
            return _array(col)
        if c.kind == COMM:
            tids = col
            comms = self._session.comms if self._session is not None else {}
            if tids[0] == tids[-1] and (tids == tids[0]).all():  # one thread: no sort
                one = (comms.get(int(tids[0])) or f":{tids[0]}").encode("utf-8", "replace")
                return _strings(np.frombuffer(one * n, np.uint8), np.arange(n + 1, dtype=np.int64) * len(one))
            uniq, inv = np.unique(tids, return_inverse=True)
            names = [(comms.get(tid) or f":{tid}").encode("utf-8", "replace") for tid in uniq.tolist()]
            sizes = np.fromiter(map(len, names), np.int64, len(names))
            joined = np.frombuffer(b"".join(names) or b"\0", np.uint8)
            offs, data = _var_gather(joined, (np.cumsum(sizes) - sizes)[inv], sizes[inv])
            return _strings(data, offs)
        if c.kind == BIN:
            return pa.FixedSizeBinaryArray.from_buffers(pa.binary(c.size), n, [None, pa.py_buffer(col)])
        if c.kind == STR:
            data = col.ravel()
            offs = np.arange(0, (n + 1) * c.size, c.size, dtype=np.int64)
            return _strings(*_cut_at_nul(data, offs))
        if c.kind == LIST:
            values = col.ravel()
            return pa.FixedSizeListArray.from_arrays(_array(values), c.size // values.itemsize)
        # a __data_loc/__rel_loc field: its locator's offset and length, cut at the payload's end
        loc = col.astype(np.int64)
        start = (loc & 0xFFFF) + c.base
        length = np.minimum(loc >> 16, np.maximum(rs - start, 0))
        if c.kind == LIST_DYN:
            size = np.dtype(c.dtype).itemsize
            length -= length % size
        offs, data = _var_gather(arr, pos + raw_off + start, length)
        if c.kind == STR_DYN:
            return _strings(*_cut_at_nul(data, offs))
        values = _array(data.view(c.dtype))
        return pa.ListArray.from_arrays(_array((offs // np.dtype(c.dtype).itemsize).astype(np.int32)), values)

    def _emit(self, t: _Table) -> None:
        if not t.batches:
            return
        table = pa.Table.from_batches(t.batches, schema=t.schema)
        t.batches = []
        t.rows = 0
        self._sink(t.layout, table)


def _record_dtype(layout: EventLayout) -> Any:
    """The numpy record of ``layout``'s window: each column's bytes as a field (a
    locator's as u32, a string's and a binary's as bytes, an array's as its elements)."""
    names, formats, offsets = [], [], []
    for c in layout.columns:
        names.append(c.name)
        offsets.append(c.offset)
        if c.kind in (STR_DYN, LIST_DYN):
            formats.append("<u4")
        elif c.kind == COMM:
            formats.append("<i4")
        elif c.kind in (STR, BIN):
            formats.append(("u1", (c.size,)))
        elif c.kind == LIST:
            formats.append((c.dtype, (c.size // np.dtype(c.dtype).itemsize,)))
        else:
            formats.append(c.dtype)
    if layout.raw_size_off:
        names.append(_RAW_SIZE)
        formats.append("<u4")
        offsets.append(layout.raw_size_off)
    return np.dtype({"names": names, "formats": formats, "offsets": offsets, "itemsize": layout.window})


def _array(values: Any) -> Any:
    """An Arrow array over a contiguous numpy array's buffer (pa.array would import pandas)."""
    return pa.Array.from_buffers(pa.from_numpy_dtype(values.dtype), len(values), [None, pa.py_buffer(values)])


def _origin(chunk: bytes, pos: Any) -> Callable[[int], tuple[bytes, int]]:
    return lambda i: (chunk, int(pos[i]))


def _check(bad: Any, message: str, origin: Callable[[int], tuple[bytes, int]]) -> None:
    if bad.any():
        raise record_fault(message, *origin(int(np.argmax(bad))))


def _var_gather(arr: Any, starts: Any, lengths: Any) -> tuple[Any, Any]:
    """(offsets, bytes) of the ranges arr[start:start + length], one after the other."""
    offs = np.zeros(len(lengths) + 1, np.int64)
    np.cumsum(lengths, out=offs[1:])
    total = int(offs[-1])
    if not total:
        return offs, np.zeros(0, np.uint8)
    idx = np.repeat(starts - offs[:-1], lengths) + np.arange(total, dtype=np.int64)
    return offs, arr[idx]


def _cut_at_nul(data: Any, offs: Any) -> tuple[Any, Any]:
    """Each string of ``data`` (bounded by ``offs``) cut at its first NUL, as C reads it."""
    nuls = np.flatnonzero(data == 0)
    if not len(nuls):
        return data, offs
    starts, lengths = offs[:-1], np.diff(offs)
    k = np.searchsorted(nuls, starts)
    first = np.where(k < len(nuls), nuls[np.minimum(k, len(nuls) - 1)], len(data))
    kept = np.minimum(first - starts, lengths)
    if (kept == lengths).all():
        return data, offs
    keep = np.arange(len(data)) - np.repeat(starts, lengths) < np.repeat(kept, lengths)
    new = np.zeros(len(offs), np.int64)
    np.cumsum(kept, out=new[1:])
    return data[keep], new


def _strings(data: Any, offs: Any) -> Any:
    """A string array from UTF-8 bytes and offsets; bytes that are not UTF-8 replaced."""
    n = len(offs) - 1
    a = pa.StringArray.from_buffers(n, pa.py_buffer(offs.astype(np.int32)), pa.py_buffer(data))
    try:
        a.validate(full=True)
        return a
    except pa.ArrowInvalid:
        raw = data.tobytes()
        return pa.array([raw[offs[i]:offs[i + 1]].decode("utf-8", "replace") for i in range(n)], pa.string())


def empty_table(layout: EventLayout) -> Any:
    """A table of no rows with ``layout``'s schema."""
    return layout.arrow_schema().empty_table()
