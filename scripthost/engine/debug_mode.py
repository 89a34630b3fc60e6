"""`perf script -d/--debug-mode`: samples are not printed nor handed to a script; each one
is checked against the time of the one before it, perf's line said for each misordered
sample, and the count said at the end.  Everything else (side-band lines, lost events,
trace_begin/trace_end) goes on as without -d."""

from __future__ import annotations

import sys
from typing import Any, Callable, Optional, TextIO

from scripthost.engine.attrs import Evsel
from scripthost.engine.session import Consumer, Session

__all__ = ["DebugMode"]


class DebugMode(Consumer):
    """Wraps the consumer a run would have had, taking its samples over."""

    def __init__(self, inner: Consumer, err: TextIO = sys.stderr) -> None:
        self.inner = inner
        self.interval_ns = inner.interval_ns
        self.err = err
        self.last = 0
        self.misordered = 0

    def _check(self, item: tuple) -> None:
        t = item[0]
        if t < self.last:
            self.err.write(f"Samples misordered, previous: {self.last} this: {t}\n")
            self.misordered += 1
        self.last = t

    def begin(self, session: Session) -> None:
        self.inner.begin(session)

    def handler(self, evsel: Evsel) -> Optional[Callable[[tuple], Any]]:
        return self._check

    def lost(self, kind: str, count: int) -> None:
        self.inner.lost(kind, count)

    def tick(self, now_ns: int) -> None:
        self.inner.tick(now_ns)

    def record(self, rtype: int, misc: int, body: bytes, time: int) -> None:
        self.inner.record(rtype, misc, body, time)

    def delivered(self) -> None:
        self.inner.delivered()

    def end(self, session: Session) -> None:
        self.err.write(f"Misordered timestamps: {self.misordered}\n")
        self.err.flush()
        self.inner.end(session)
