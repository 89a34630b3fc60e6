"""`perf script --per-event-dump`: each event's sample lines go to a file of its own,
named by perf's rule "<input>.<event name>.dump" ("(null)" for a pipe, whose tracepoints
are still "unknown tracepoint" when perf opens their files), side-band lines still to
stdout; at the end perf's "Wrote" line for each event, in the header's order, on stdout.
perf gives the size its file has on disk before its stdio buffer (one block) is flushed."""

from __future__ import annotations

import os
from typing import Any, Callable, Optional, TextIO

from scripthost.engine.attrs import Evsel
from scripthost.engine.output import DefaultPrinter
from scripthost.engine.session import Consumer, Session
from scripthost.errors import ScripthostError

__all__ = ["PerEventDump", "dump_path"]

#: the input's name in a pipe's file names (perf formats its missing path with %s)
PIPE_INPUT_NAME = "(null)"
#: what perf calls a tracepoint whose format it has not read yet
UNKNOWN_TRACEPOINT = "unknown tracepoint"


def dump_path(session: Session, ev: Evsel, input_name: str) -> str:
    """perf's file name for ``ev``'s samples."""
    if session.pipe:
        name = UNKNOWN_TRACEPOINT if ev.is_tracepoint else session.evsel_name(ev)
        return f"{PIPE_INPUT_NAME}.{name}.dump"
    return f"{input_name}.{session.evsel_name(ev)}.dump"


class PerEventDump(Consumer):
    """The default output split by event: ``make(out)`` builds a printer writing to ``out``;
    ``printer`` (stdout's) prints the side-band records."""

    def __init__(self, printer: DefaultPrinter, make: Callable[[TextIO], DefaultPrinter],
                 input_name: str) -> None:
        self.printer = printer
        self.make = make
        self.input_name = input_name
        self.files: dict[Evsel, tuple[TextIO, list[int]]] = {}

    def _file(self, ev: Evsel) -> tuple[TextIO, list[int]]:
        got = self.files.get(ev)
        if got is None:
            path = dump_path(self.session, ev, self.input_name)
            try:
                f = open(path, "w", encoding="utf-8", errors="surrogateescape")
            except OSError as e:
                raise ScripthostError(f"cannot write {path}: {e.strerror} (run where files can be "
                                      "written, or without --per-event-dump)") from None
            got = self.files[ev] = (f, [0])
        return got

    def begin(self, session: Session) -> None:
        self.session = session
        self.printer.begin(session)

    def handler(self, evsel: Evsel) -> Optional[Callable[[tuple], Any]]:
        f, count = self._file(evsel)
        printer = self.make(f)
        printer.session = self.session
        h = printer.handler(evsel)
        if h is None:
            return None

        def counted(item: tuple) -> None:
            h(item)
            count[0] += 1
        return counted

    def record(self, rtype: int, misc: int, body: bytes, time: int) -> None:
        self.printer.record(rtype, misc, body, time)

    def end(self, session: Session) -> None:
        out = self.printer.out
        for ev in session.evsels:
            f, count = self._file(ev)
            f.flush()
            written = f.tell()
            block = os.fstat(f.fileno()).st_blksize or 1
            f.close()
            on_disk = (written - 1) // block * block if written else 0  # what perf's fstat sees
            out.write(f"[ perf script: Wrote {on_disk / 1024.0 / 1024.0:.3f} MB "
                      f"{dump_path(session, ev, self.input_name)} ({count[0]} samples) ]\n")
        self.printer.end(session)
