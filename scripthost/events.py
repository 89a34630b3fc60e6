"""Event objects of the Python API (`scripthost.api`): typed, read-only, one class per
event type, each made by a decoder generated for its sample layout.

An event is a tuple subclass: ``name``, ``time``, ``cpu``, ``pid``, ``tid`` and
``comm`` are properties; a tracepoint's fields are attributes by perf's names (and
``ev.field(name)`` for a field whose name a property takes, e.g. sched_wakeup's
``pid``), with the values perf's Python scripting passes the handlers: integers by
the field's width and signedness, char arrays as str (bytes once not printable, as
perf), other arrays as their raw bytes.  ``sample`` decodes every sample field by
perf's names, and ``callchain`` resolves the callchain to symbols, both on demand.
"""

from __future__ import annotations

from operator import itemgetter
from typing import Any, Callable

from scripthost.engine.attrs import Evsel
from scripthost.engine.codegen import compile_handler, tracepoint_decoder
from scripthost.engine.layouts import SampleType
from scripthost.engine.tpformat import payload_need

__all__ = ["Event", "event_decoder"]

_GEN = "<scripthost.api event>"
_NAME, _TIME, _CPU, _PID, _TID, _COMM, _ITEM, _SESSION = range(8)
_FIRST_FIELD = 8


class Event(tuple):
    """One sample of a recording, in perf's order.  Read-only."""

    __slots__ = ()
    #: the tracepoint's field names, in format order (common_* first)
    field_names: tuple[str, ...] = ()
    _index: dict[str, int] = {}

    @property
    def name(self) -> str:
        """perf's event name, e.g. ``raw_syscalls:sys_enter``."""
        return tuple.__getitem__(self, _NAME)

    @property
    def time(self) -> int:
        """The sample's time in ns (0 without PERF_SAMPLE_TIME)."""
        return tuple.__getitem__(self, _TIME)

    @property
    def cpu(self) -> int:
        return tuple.__getitem__(self, _CPU)

    @property
    def pid(self) -> int:
        return tuple.__getitem__(self, _PID)

    @property
    def tid(self) -> int:
        return tuple.__getitem__(self, _TID)

    @property
    def comm(self) -> str:
        """The thread's name when the sample was delivered (":TID" when unknown), as perf."""
        return tuple.__getitem__(self, _COMM)

    @property
    def fields(self) -> dict[str, Any]:
        """The tracepoint's fields by name (a new dict)."""
        return dict(zip(self.field_names, tuple.__getitem__(self, slice(_FIRST_FIELD, None))))

    def field(self, name: str) -> Any:
        """A tracepoint field by name; KeyError if the event has none of that name."""
        return tuple.__getitem__(self, self._index[name])

    def __getattr__(self, name: str) -> Any:
        i = type(self)._index.get(name)
        if i is None:
            raise AttributeError(f"{self.name} has no field {name!r}")
        return tuple.__getitem__(self, i)

    @property
    def sample(self) -> dict[str, Any]:
        """Every field of the sample record by perf's names (ip, period, raw, ...)."""
        item = tuple.__getitem__(self, _ITEM)
        return item[3].sample_fields(item[2], item[1])

    @property
    def callchain(self) -> list[dict[str, Any]]:
        """The callchain as perf's scripts get it (``common_callchain``): frames with
        ``ip`` and, where resolved, ``sym`` and ``dso``; [] without one."""
        item = tuple.__getitem__(self, _ITEM)
        if not item[3].sample_type & SampleType.CALLCHAIN:
            return []
        from scripthost.langs.sample_dict import frames
        return frames(tuple.__getitem__(self, _SESSION).callchain(item))

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in self.fields.items())
        return (f"Event({self.name!r}, time={self.time}, cpu={self.cpu}, pid={self.pid}, "
                f"tid={self.tid}, comm={self.comm!r}{', ' if fields else ''}{fields})")

    def __reduce__(self) -> Any:
        raise TypeError("an Event refers to its recording: copy the values you need")


def _event_class(name: str, field_names: list[str]) -> type[Event]:
    cls_name = "".join(p.capitalize() for p in name.replace(":", "_").replace("-", "_").split("_") if p) or "Event"
    index = {n: _FIRST_FIELD + i for i, n in enumerate(field_names)}
    ns: dict[str, Any] = {"__slots__": (), "field_names": tuple(field_names), "_index": index}
    # fields as C-level getters, where no name of Event's takes them (those go by `field`)
    ns.update({n: property(itemgetter(i)) for n, i in index.items() if not hasattr(Event, n)})
    return type(cls_name if cls_name.isidentifier() else "Event", (Event,), ns)


def event_decoder(ev: Evsel, name: str, session: Any, out: Callable[[Event], Any]) -> Callable[[tuple], Any]:
    """A handler for ``ev``'s queue items that passes each as an Event to ``out``."""
    env: dict[str, Any] = {"out": out, "new": tuple.__new__, "NAME": name, "S": session,
                           "comms": session.comms}
    fmt = ev.tp_format if ev.is_tracepoint else None
    if fmt is None:
        env["E"] = _event_class(name, [])
        env["parse"] = ev.parse
        body = ["    smp = parse(item[2], item[1])", "    tid = smp[3]",
                "    c = comms.get(tid)", "    if c is None:", "        c = ':%d' % tid",
                "    out(new(E, (NAME, smp[0], smp[1], smp[2], tid, c, item, S)))"]
        return compile_handler(body, env, _GEN)
    from scripthost.langs.python_rt import field_value_plan
    fields = fmt.common_fields + fmt.fields
    # the plan reads common_pid as _cpid itself: every other field through it, that one as _cpid
    rest = [f for f in fields if f.name != "common_pid"]
    sfmt, names, over, exprs, plan_env = field_value_plan(rest)
    exprs = [f"bytes({e})" if e.startswith(("bytearray(", "_dyn_bytes(")) else e for e in exprs]
    by_name = dict(zip((f.name for f in rest), exprs), common_pid="_cpid")
    exprs = [by_name[f.name] for f in fields]
    lines, decode_env = tracepoint_decoder(
        ev, sfmt, names, over, any("raw" in e for e in exprs), payload_need(fields),
        f"corrupt tracepoint data for {fmt.system}__{fmt.name}: ", pid=bool(ev.pid_off))
    env.update(plan_env, **decode_env)
    env["E"] = _event_class(name, [f.name for f in fields])
    lines += ["    c = comms.get(tid)", "    if c is None:", "        c = ':%d' % tid",
              f"    out(new(E, (NAME, t, cpu, {'pid' if ev.pid_off else '-1'}, tid, c, item, S, {', '.join(exprs)})))"]
    return compile_handler(lines, env, _GEN)

