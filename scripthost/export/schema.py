"""The columns of an event type's table, as data: where each lies in a sample record
and what Arrow type it becomes.

Sample header fields come first, named as mainline perf's Python session names them
(``sample_time``, ``sample_cpu``, ``sample_pid``, ``sample_tid``, ``sample_ip``,
``sample_period``, ``sample_id``, ``sample_stream_id``, ``sample_addr``), then
``common_comm`` (the thread's name, perf's handlers' argument), then every field of
the tracepoint's format by its own name, typed from the format: integers by their
width and signedness, char arrays as strings (cut at the first NUL), other arrays as
lists of their element type, fields of odd sizes as fixed-size binary.

Offsets are from the record's start: a tracepoint field's is the RAW payload's offset
plus the field's offset in the payload.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any, Optional

from scripthost.engine.attrs import Evsel
from scripthost.engine.tpformat import Field, payload_need

__all__ = ["Column", "EventLayout", "event_layout", "table_name", "INT", "STR", "LIST", "BIN",
           "STR_DYN", "LIST_DYN", "COMM"]

#: column kinds
INT, STR, LIST, BIN, STR_DYN, LIST_DYN, COMM = "int", "str", "list", "bin", "str_dyn", "list_dyn", "comm"

#: the sample header's fixed fields exported, in column order (SAMPLE_FIXED_FIELDS' names)
HEADER_COLUMNS = ("time", "cpu", "pid", "tid", "ip", "period", "id", "stream_id", "addr")
_CODE_DTYPES = {"Q": "<u8", "I": "<u4", "i": "<i4"}
_INT_DTYPES = {(1, False): "u1", (1, True): "i1", (2, False): "<u2", (2, True): "<i2",
               (4, False): "<u4", (4, True): "<i4", (8, False): "<u8", (8, True): "<i8"}


@dataclass(frozen=True)
class Column:
    """One column: its name, kind, offset in the record, and for arrays and strings the
    size in bytes (fixed) or the locator's base (dynamic: ``__rel_loc`` counts from the
    end of the locator), and the numpy dtype of the integers (or list elements)."""

    name: str
    kind: str
    offset: int = 0
    size: int = 0
    dtype: str = ""
    base: int = 0

    @property
    def end(self) -> int:
        """Where the bytes this column reads at a fixed offset end (a locator's 4)."""
        if self.kind in (STR_DYN, LIST_DYN):
            return self.offset + 4
        return self.offset + self.size


@dataclass(frozen=True)
class EventLayout:
    """How to read one event type's records into columns."""

    name: str
    columns: tuple[Column, ...]
    #: bytes of every record read at fixed offsets (the record window)
    window: int
    #: RAW's size field and payload offsets (0: no payload read)
    raw_size_off: int
    raw_off: int
    #: the least payload the fields need (payload_need)
    need: int

    def arrow_schema(self) -> Any:
        import pyarrow as pa
        return pa.schema([pa.field(c.name, arrow_type(c)) for c in self.columns])


def arrow_type(c: Column) -> Any:
    import pyarrow as pa
    if c.kind in (STR, STR_DYN, COMM):
        return pa.string()
    if c.kind == BIN:
        return pa.binary(c.size)
    import numpy as np
    t = pa.from_numpy_dtype(np.dtype(c.dtype))
    if c.kind == LIST:
        return pa.list_(t, c.size // np.dtype(c.dtype).itemsize)
    if c.kind == LIST_DYN:
        return pa.list_(t)
    return t


def table_name(name: str) -> str:
    """A dataset's directory name for an event name (perf's handler spelling, sys__event)."""
    return name.replace(":", "__").replace("/", "_").replace(" ", "_")


def _field_column(f: Field, raw_off: int) -> Column:
    off = raw_off + f.offset
    if f.is_dynamic or f.is_relative:
        base = f.offset + 4 if f.is_relative else 0
        if f.is_string:
            return Column(f.name, STR_DYN, off, 4, base=base)
        elem = f.elem_size if f.elem_size in (1, 2, 4, 8) else 1
        return Column(f.name, LIST_DYN, off, 4, _INT_DTYPES[elem, f.signed], base)
    if f.is_array:
        if f.is_string:
            return Column(f.name, STR, off, f.size)
        elem = f.elem_size if f.elem_size in (1, 2, 4, 8) and f.size % max(f.elem_size, 1) == 0 else 1
        return Column(f.name, LIST, off, f.size, _INT_DTYPES[elem, f.signed and elem > 1])
    if f.size in (1, 2, 4, 8):
        return Column(f.name, INT, off, f.size, _INT_DTYPES[f.size, f.signed])
    return Column(f.name, BIN, off, f.size)


def event_layout(ev: Evsel, name: str, raw_off: Optional[int]) -> EventLayout:
    """The layout of ``ev``'s records, its RAW payload at ``raw_off`` (None: the header
    fields alone; for a tracepoint whose payload has no fixed offset, the caller passes
    the offset of the records it rebuilds with the payload after the fixed fields)."""
    lay = ev.fixed_layout
    cols = []
    for key in HEADER_COLUMNS:
        src = key if key in lay else ("identifier" if key == "id" and "identifier" in lay else None)
        if src is not None:
            off, code = lay[src]
            cols.append(Column("sample_" + key, INT, off, struct.calcsize(code), _CODE_DTYPES[code]))
        if key == "tid" and "tid" in lay:  # the thread's name, read by its tid
            cols.append(Column("common_comm", COMM, lay["tid"][0], 4))
    fmt = ev.tp_format
    raw_size_off = need = 0
    if raw_off is not None and fmt is not None:
        fields = fmt.common_fields + fmt.fields
        cols += [_field_column(f, raw_off) for f in fields]
        raw_size_off = raw_off - 4
        need = payload_need(fields)
    else:
        raw_off = 0
    window = max([8] + [c.end for c in cols] + [raw_size_off + 4 if raw_size_off else 0])
    return EventLayout(name, tuple(cols), window, raw_size_off, raw_off, need)
