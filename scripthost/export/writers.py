"""Datasets on disk: one directory per event type, its rows in numbered parts in time
order (DIR/EVENT/part-0000.EXT, part-0001.EXT, ...), each part at most ``part_rows``
rows, so that DuckDB (``read_parquet('DIR/EVENT/*.parquet')``) and Dask
(``dd.read_parquet('DIR/EVENT')``) read the parts in parallel, and a reader that
wants a time range skips the parts outside it (Parquet keeps each column's min/max).
"""

from __future__ import annotations

import json
import queue
import threading
from pathlib import Path
from typing import Any, Callable, Optional

from scripthost.errors import ScripthostError
from scripthost.export.deps import require
from scripthost.export.schema import EventLayout, table_name

__all__ = ["FORMATS", "DatasetWriter"]

pa = require("pyarrow", "export")


def _parquet(path: Path, schema: Any) -> Any:
    import pyarrow.parquet as pq
    return pq.ParquetWriter(path, schema, compression="lz4")  # as small as snappy here, faster


def _arrow(path: Path, schema: Any) -> Any:
    return pa.ipc.new_file(str(path), schema)


class _CsvWriter:
    """CSV through pyarrow, lists written as JSON arrays and binary as hex (CSV has neither)."""

    def __init__(self, path: Path, schema: Any) -> None:
        import pyarrow.csv as pcsv
        self._flat = [i for i, f in enumerate(schema) if _needs_text(f.type)]
        self._schema = pa.schema([pa.field(f.name, pa.string()) if i in self._flat else f
                                  for i, f in enumerate(schema)])
        self._w = pcsv.CSVWriter(str(path), self._schema)

    def write_table(self, table: Any) -> None:
        for i in self._flat:
            table = table.set_column(i, self._schema.field(i), pa.array(
                [_text(v) for v in table.column(i).to_pylist()], pa.string()))
        self._w.write_table(table)

    def close(self) -> None:
        self._w.close()


class _JsonLinesWriter:
    """One JSON object per line and row; binary as hex."""

    def __init__(self, path: Path, schema: Any) -> None:
        self._f = open(path, "w", encoding="utf-8")
        self._bin = [f.name for f in schema if pa.types.is_fixed_size_binary(f.type) or pa.types.is_binary(f.type)]

    def write_table(self, table: Any) -> None:
        lines = []
        for row in table.to_pylist():
            for k in self._bin:
                row[k] = row[k].hex()
            lines.append(json.dumps(row, separators=(",", ":")))
        self._f.write("\n".join(lines) + "\n")

    def close(self) -> None:
        self._f.close()


def _needs_text(t: Any) -> bool:
    return pa.types.is_list(t) or pa.types.is_fixed_size_list(t) or pa.types.is_fixed_size_binary(t)


def _text(v: Any) -> Optional[str]:
    if v is None:
        return None
    return v.hex() if isinstance(v, bytes) else json.dumps(v, separators=(",", ":"))


#: format -> (file extension, opener(path, schema) of a writer with write_table/close)
FORMATS: dict[str, tuple[str, Callable[[Path, Any], Any]]] = {
    "parquet": ("parquet", _parquet),
    "arrow": ("arrow", _arrow),
    "csv": ("csv", _CsvWriter),
    "jsonl": ("jsonl", _JsonLinesWriter),
}


class _Part:
    __slots__ = ("writer", "rows", "number")

    def __init__(self, writer: Any, number: int) -> None:
        self.writer = writer
        self.rows = 0
        self.number = number


class DatasetWriter:
    """Writes each event type's tables (ColumnBuilder's sink) into its parts, in a thread
    of its own (the encoders let go of the GIL: the next batches are gathered meanwhile);
    at most two tables wait for it."""

    def __init__(self, root: str, fmt: str, part_rows: int = 1 << 20) -> None:
        if fmt not in FORMATS:
            raise ScripthostError(f"unknown format {fmt!r}: give one of {', '.join(FORMATS)}")
        self.root = Path(root)
        if self.root.exists() and (not self.root.is_dir() or any(self.root.iterdir())):
            raise ScripthostError(f"{root}: exists and is not an empty directory; give a new one")
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise ScripthostError(f"cannot create {root}: {e.strerror}") from None
        self.ext, self._open = FORMATS[fmt]
        self.part_rows = part_rows
        self._parts: dict[str, _Part] = {}
        #: rows written per event name
        self.rows: dict[str, int] = {}
        self._queue: "queue.Queue[Optional[tuple[EventLayout, Any]]]" = queue.Queue(maxsize=2)
        self._error: Optional[BaseException] = None
        self._thread = threading.Thread(target=self._drain, name="scripthost-export", daemon=True)
        self._thread.start()

    def __call__(self, layout: EventLayout, table: Any) -> None:
        if self._error is not None:
            self._raise()
        self._queue.put((layout, table))

    def _drain(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                return
            if self._error is None:
                try:
                    self._write(*job)
                except BaseException as e:  # raised in the reading thread
                    self._error = e

    def _raise(self) -> None:
        err, self._error = self._error, None
        if isinstance(err, OSError):
            raise ScripthostError(f"cannot write {self.root}: {err.strerror or err}") from None
        assert err is not None
        raise err

    def _write(self, layout: EventLayout, table: Any) -> None:
        name = layout.name
        offset = 0
        while offset < table.num_rows:
            part = self._parts.get(name)
            if part is None or part.rows >= self.part_rows:
                part = self._next_part(name, layout, part)
            take = min(self.part_rows - part.rows, table.num_rows - offset)
            part.writer.write_table(table.slice(offset, take))
            part.rows += take
            offset += take
        self.rows[name] = self.rows.get(name, 0) + table.num_rows

    def _next_part(self, name: str, layout: EventLayout, old: Optional[_Part]) -> _Part:
        number = 0
        if old is not None:
            old.writer.close()
            number = old.number + 1
        d = self.root / table_name(name)
        d.mkdir(exist_ok=True)
        path = d / f"part-{number:04d}.{self.ext}"
        try:
            part = _Part(self._open(path, layout.arrow_schema()), number)
        except OSError as e:
            raise ScripthostError(f"cannot write {path}: {e.strerror or e}") from None
        self._parts[name] = part
        return part

    def close(self) -> None:
        """Write what is queued and close every part; a write's fault is raised here."""
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()
        for part in self._parts.values():
            part.writer.close()
        self._parts.clear()
        if self._error is not None:
            self._raise()

