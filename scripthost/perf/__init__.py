"""A `perf` module shaped as mainline perf's Python session API (perf v6.19 on: Ian
Rogers' "perf python: Add python session abstraction wrapping perf's session"), over
scripthost's engine, for scripts written against it:

    import perf
    def sample(s):
        print(s.evsel, s.sample_time, s.sample_pid, s.id)
    perf.session(perf.data("perf.data"), sample=sample).process_events()

Opt-in only: `python -m scripthost.perf script.py [args]` puts this module on the path
as ``perf`` for that script; nothing is shadowed by a plain ``import scripthost``.
docs/api.md lists what is matched.
"""

from __future__ import annotations

import os
from typing import Any, Callable, Optional

from scripthost.engine.attrs import Evsel
from scripthost.engine.layouts import RecordType
from scripthost.engine.session import Consumer, Session
from scripthost.events import Event, event_decoder

__all__ = ["data", "session", "evsel", "sample_event"]

#: sample_* attributes read from the full sample record on demand (perf's sample dict names)
_FROM_RECORD = {"sample_ip": "ip", "sample_addr": "addr", "sample_id": "id",
                "sample_stream_id": "stream_id", "sample_period": "period"}


class data:  # noqa: N801 - mainline's name
    """A perf.data file to read (mainline: ``perf.data(path)``)."""

    def __init__(self, path: str = "perf.data") -> None:
        self.path = os.fspath(path)

    def __repr__(self) -> str:
        return f"data({self.path!r})"


class evsel:  # noqa: N801 - mainline's name
    """An event selector; ``str()`` is ``evsel(NAME)`` as mainline prints it."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __str__(self) -> str:
        return f"evsel({self.name})"

    __repr__ = __str__


class sample_event:  # noqa: N801 - mainline's name
    """One sample: sample_ip, sample_pid, sample_tid, sample_time, sample_addr, sample_id,
    sample_stream_id, sample_period, sample_cpu, type, evsel, and a tracepoint's fields
    as attributes by name."""

    __slots__ = ("_event", "evsel")
    type = int(RecordType.SAMPLE)  # an int, as mainline's T_UINT member

    def __init__(self, event: Event, ev: evsel) -> None:
        self._event = event
        self.evsel = ev

    sample_pid = property(lambda self: self._event.pid)
    sample_tid = property(lambda self: self._event.tid)
    sample_time = property(lambda self: self._event.time)
    sample_cpu = property(lambda self: self._event.cpu)

    def __getattr__(self, name: str) -> Any:
        key = _FROM_RECORD.get(name)
        if key is not None:
            return self._event.sample.get(key, 0)
        try:
            return self._event.field(name)
        except KeyError:
            raise AttributeError(f"sample of {self.evsel.name} has no attribute {name!r}") from None


class _Callbacks(Consumer):
    def __init__(self, sample: Optional[Callable[[sample_event], Any]]) -> None:
        self._sample = sample
        self._session: Optional[Session] = None

    def begin(self, session: Session) -> None:
        self._session = session

    def handler(self, ev: Evsel) -> Any:
        if self._sample is None or self._session is None:
            return None
        name = self._session.evsel_name(ev)
        wrapper, call = evsel(name), self._sample
        return event_decoder(ev, name, self._session, lambda e: call(sample_event(e, wrapper)))


class session:  # noqa: N801 - mainline's name
    """A pass over ``data`` calling ``sample(event)`` for every sample, in perf's order."""

    def __init__(self, data: data, sample: Optional[Callable[[sample_event], Any]] = None) -> None:
        self._data = data
        self._sample = sample

    def process_events(self) -> int:
        """Read the whole file; 0 when done (a fault raises scripthost's one-line error)."""
        Session(self._data.path).run(_Callbacks(self._sample))
        return 0
