"""The native core's line plans (csrc/lines.h), as data: the default output's line of
an event type as one %-format, the column each conversion shows, and where the sample's
fields lie.  The core formats such lines itself; `DefaultPrinter.plan` says which."""

from __future__ import annotations

from typing import Any, Callable, Iterable, Optional

from scripthost.engine.attrs import Evsel
from scripthost.engine.layouts import SampleType
from scripthost.engine.machine import CONTEXT_MAX, CONTEXT_MODE, Machine

__all__ = ["line_spec", "where_text"]

# the sample fields a plan reads, by their names in Evsel.fixed_layout, in the plan's order
_OFFSETS = ("pid", "tid", "time", "cpu", "period", "raw_size", "ip")
_CONTEXTS = (CONTEXT_MAX, tuple(CONTEXT_MODE.items()))


def where_text(machine: Machine, where: Callable[[Any], str]) -> Callable[[int, int, int], bytes]:
    """The core's where(pid, cpumode, ip): the resolved address's text, as the output's bytes."""
    resolve = machine.resolve
    return lambda pid, mode, ip: where(resolve(pid, mode, ip)).encode("utf-8", "surrogateescape")


def line_spec(ev: Evsel, line: str, cols: str, comms: dict, fallback: Callable[[tuple], Any], *,
              time_div: int, reads: Iterable[tuple[int, str]] = (),
              where: Optional[Callable[[int, int, int], bytes]] = None,
              machine: Optional[Machine] = None) -> tuple:
    """The plan of ``ev``'s lines: ``line`` a %-format whose conversions show ``cols``
    (one letter each, csrc/lines.h's COL_*), ``reads`` the tracepoint fields' (offset,
    struct code) in the RAW data; ``fallback`` prints the samples the core cannot."""
    lay = ev.fixed_layout
    offsets = tuple(lay[name][0] if name in lay else 0 for name in _OFFSETS)
    st = ev.sample_type
    chain = ev.fixed_end if st & SampleType.CALLCHAIN and not st & SampleType.READ else 0
    period = ev.attr["sample_period"] if not st & SampleType.PERIOD else 0
    return ("line", line, cols, comms, fallback, ev, offsets + (chain,), period, time_div, list(reads),
            where, machine, _CONTEXTS)
