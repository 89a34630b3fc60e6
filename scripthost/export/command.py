"""`scripthost export`: a recording's events as datasets, one per event type.

    scripthost export -i perf.data -o DIR [--format parquet|arrow|csv|jsonl]
                      [-e EVENT]... [--pid P] [--tid T] [-C CPUS] [--time RANGE] [--part-rows N]

Streams: each batch of the core's is gathered into columns and written, so memory
holds a few batches, never the recording.  A progress line goes to stderr when it
is a terminal.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Any, Callable, NoReturn, Optional

from scripthost.errors import UsageError

__all__ = ["export_main"]

#: rows per table handed to the writer: a Parquet row group
EXPORT_BATCH_ROWS = 1 << 16
USAGE = "scripthost export -i INPUT -o DIR [--format parquet|arrow|csv|jsonl] [options]"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"export: {message} (usage: {USAGE})")


def _parser() -> argparse.ArgumentParser:
    from scripthost.export.writers import FORMATS
    p = _Parser(prog="scripthost export", usage=USAGE, description=(
        "Write each event type of a recording as a dataset: DIR/EVENT/part-NNNN.EXT, "
        "typed from the tracepoint format, parts in time order."))
    p.add_argument("-i", "--input", help="perf.data file or '-' for a pipe-mode stream (default: perf.data, "
                   "or stdin when it is a pipe)")
    p.add_argument("-o", "--output", required=True, help="a new (or empty) directory")
    p.add_argument("-f", "--format", default="parquet", choices=list(FORMATS))
    p.add_argument("-e", "--event", action="append", help="only this event (perf's name); repeatable")
    p.add_argument("--part-rows", type=int, default=1 << 20, help="rows per part file (default 1048576)")
    p.add_argument("--pid", help="as perf script --pid")
    p.add_argument("--tid", help="as perf script --tid")
    p.add_argument("-C", "--cpu", help="as perf script -C/--cpu")
    p.add_argument("--time", help="as perf script --time")
    return p


def _progress(session: Any, total: Optional[int]) -> Optional[Callable[[int], None]]:
    """A progress line on stderr when it is a terminal: bytes read of ``total``, events."""
    if not sys.stderr.isatty():
        return None
    last = [0.0]

    def show(events: int) -> None:
        now = time.monotonic()
        if now - last[0] < 0.2:
            return
        last[0] = now
        src = session.rec.source
        done = src.offset + src.pos
        pct = f"{min(100, 100 * done // total):3d}% " if total else ""
        sys.stderr.write(f"\rexport: {pct}{done >> 20} MiB, {events} events")
        sys.stderr.flush()
    return show


def _check_events(session: Any, wanted: Optional[list[str]]) -> None:
    unknown = set(wanted or ()) - {session.evsel_name(ev) for ev in session.evsels}
    if unknown and session.evsels:
        raise UsageError(f"export: no event {', '.join(sorted(unknown))} in the recording "
                         f"(it has {', '.join(session.evsel_name(ev) for ev in session.evsels)})")


def export_main(argv: list[str]) -> int:
    """The command: without -i the input is perf's default (`default_input`)."""
    opts = _parser().parse_args(argv)
    if opts.part_rows < 1:
        raise UsageError("export: --part-rows must be at least 1")
    from scripthost.engine.filters import parse_filters
    from scripthost.engine.session import Session
    from scripthost.engine.source import default_input
    from scripthost.export.columns import ColumnBuilder
    from scripthost.export.writers import DatasetWriter
    inp = opts.input or default_input()
    filters = parse_filters(time=opts.time, cpu=opts.cpu, pid=opts.pid, tid=opts.tid)
    session = Session(inp)
    if filters is not None:
        session.set_filter(filters)
    _check_events(session, opts.event)  # a file's events are known now, a pipe's at its end
    out = DatasetWriter(opts.output, opts.format, opts.part_rows)
    total = None
    if inp != "-":
        try:
            total = os.stat(inp).st_size
        except OSError:
            pass
    progress = _progress(session, total)
    builder = ColumnBuilder(out, events=set(opts.event) if opts.event else None, batch_rows=EXPORT_BATCH_ROWS,
                            progress=progress)
    try:
        session.run(builder)
    except BaseException:
        try:
            out.close()
        except Exception:
            pass  # the reading fault is the news
        raise
    finally:
        if progress is not None:
            sys.stderr.write("\n")
    out.close()
    _check_events(session, opts.event)
    for name, rows in sorted(out.rows.items()):
        sys.stderr.write(f"{name}: {rows} rows\n")
    return 0
