"""perf_sample_dict as perf 6.1 builds it: what Python's `process_event(param_dict)`
(and a handler's optional last argument) gets, and what Lua's `process_event` gets as
a table."""

from __future__ import annotations

from typing import Any, Callable, Optional

from scripthost.engine.attrs import (
    Evsel, S_BUF, S_CALLCHAIN, S_CPU, S_IP, S_PERIOD, S_PID, S_POS, S_RAW, S_TID, S_TIME,
)
from scripthost.engine.layouts import SampleType
from scripthost.engine.symconf import DEFAULT_MAX_STACK
from scripthost.engine.machine import CONTEXT_MAX, CONTEXT_MODE
from scripthost.engine.session import Session

__all__ = ["SampleDicts", "frames"]

_DICT_EXTRAS = (SampleType.ADDR | SampleType.READ | SampleType.WEIGHT | SampleType.WEIGHT_STRUCT
                | SampleType.DATA_SRC | SampleType.TRANSACTION | SampleType.PHYS_ADDR)


class SampleDicts:
    """Builds each sample's dict (keys in perf's order) for one session."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._named: dict[Evsel, tuple[str, bytes]] = {}  # ev_name and attr, per evsel

    def __call__(self, item: tuple) -> dict[str, Any]:
        """The dict for a sample queue item."""
        ev: Evsel = item[3]
        smp = ev.parse(item[2], item[1])
        s = self.session
        cpumode = item[2][item[1] + 4] & 7  # the record's misc
        # the fields below beyond the parsed tuple's (their defaults when not sampled)
        f = ev.sample_fields(smp[S_BUF], smp[S_POS]) if ev.sample_type & _DICT_EXTRAS else {}
        sample = {
            # perf 6.1 passes pid and tid as their u32s (-1 arrives as 4294967295)
            "pid": smp[S_PID] & 0xFFFFFFFF, "tid": smp[S_TID] & 0xFFFFFFFF, "cpu": smp[S_CPU] & 0xFFFFFFFF, "ip": smp[S_IP],
            "time": smp[S_TIME], "period": smp[S_PERIOD], "phys_addr": f.get("phys_addr", 0),
            "addr": f.get("addr", 0), "values": f.get("values") or [(0, 0, 0)],
            "weight": f.get("weight", 0), "transaction": f.get("transaction", 0),
            "datasrc": f.get("data_src", 84410401),
            "datasrc_decode": "|OP N/A|LVL N/A|SNP N/A|TLB N/A|LCK N/A|BLK  N/A",
            "cpumode": cpumode,
        }
        if "time_enabled" in f:
            sample["time_enabled"] = f["time_enabled"]
        if "time_running" in f:
            sample["time_running"] = f["time_running"]
        named = self._named.get(ev)
        if named is None:
            named = self._named[ev] = (s.evsel_name(ev), ev.attr_struct)
        tid = smp[S_TID]
        comm = s.comms.get(tid)
        d: dict[str, Any] = {"ev_name": named[0], "attr": named[1], "sample": sample,
                             "raw_buf": bytes(smp[S_RAW]) if smp[S_RAW] is not None else b"",
                             "comm": comm if comm is not None else f":{tid}"}
        loc = s.machine.resolve(smp[S_PID], cpumode, smp[S_IP])
        m = loc.map
        if m is not None:
            d["dso"] = m.dso.name
            d["dso_bid"] = m.dso.build_id
            d["dso_map_start"] = m.start
            d["dso_map_end"] = m.end
        if loc.sym is not None:
            d["symbol"] = loc.sym.name
            d["symoff"] = loc.addr - loc.sym.start
        d["callchain"] = frames(s.machine.callchain(smp[S_PID], cpumode, smp[S_CALLCHAIN]))
        d["brstack"] = []
        d["brstacksym"] = []
        d["iregs"] = ""
        d["uregs"] = ""
        return d

    def plan(self, ev: Evsel, fn: Callable[[dict], Any], fallback: Callable[[tuple], Any]) -> Optional[tuple]:
        """The native core's plan of ``ev``'s dicts (csrc/sample_dicts.h), handed to
        ``fn``: for samples with a pid and tid and nothing beyond the fields at fixed
        offsets and the callchain; None where this builder alone makes them."""
        st = ev.sample_type
        if ev.is_tracepoint or st & (_DICT_EXTRAS | SampleType.RAW) or not st & SampleType.TID:
            return None
        if st & SampleType.CALLCHAIN and self.session.machine.config.max_stack < DEFAULT_MAX_STACK:
            return None  # the core hands on whole chains; --max-stack cuts scripts' chains here
        lay = ev.fixed_layout
        offsets = tuple(lay[name][0] if name in lay else 0 for name in ("pid", "time", "cpu", "period", "ip"))
        chain = ev.fixed_end if st & SampleType.CALLCHAIN else 0
        period = ev.attr["sample_period"] if not st & SampleType.PERIOD else 0
        s = self.session
        return ("dict", fn, s.evsel_name(ev), ev.attr_struct, s.comms, fallback, ev, offsets + (chain,), period,
                self._facts, s.machine, (CONTEXT_MAX, tuple(CONTEXT_MODE.items())))

    def _facts(self, pid: int, cpumode: int, ip: int) -> tuple:
        """What the core's dicts hold of an address: the dict's items for a sample at it
        (dso..., symbol, symoff, as `__call__` sets them), and its frame's (sym, sym_off, dso)."""
        loc = self.session.machine.resolve(pid, cpumode, ip)
        sym, m = loc.sym, loc.map
        items: list[tuple[str, Any]] = []
        if m is not None:
            items += [("dso", m.dso.name), ("dso_bid", m.dso.build_id), ("dso_map_start", m.start),
                      ("dso_map_end", m.end)]
        if sym is not None:
            items += [("symbol", sym.name), ("symoff", loc.addr - sym.start)]
        frame_sym = (sym.start, sym.end, sym.binding, sym.name) if sym is not None else None
        return (tuple(items), (frame_sym, loc.addr - sym.start if sym is not None else 0,
                               m.dso.name if m is not None else None))


def frames(locs: Any) -> list[dict[str, Any]]:
    """Callchain entries as perf's Python frame dicts (new ones every time: a script may
    change them)."""
    out = []
    for loc in locs:
        sym, m = loc.sym, loc.map
        if sym is not None:
            frame = {"ip": loc.ip, "sym": {"start": sym.start, "end": sym.end, "binding": sym.binding,
                                           "name": sym.name},
                     "sym_off": loc.addr - sym.start}
        else:
            frame = {"ip": loc.ip}
        if m is not None:
            frame["dso"] = m.dso.name
        out.append(frame)
    return out


_DICT_EXTRAS = (SampleType.ADDR | SampleType.READ | SampleType.WEIGHT | SampleType.WEIGHT_STRUCT
                | SampleType.DATA_SRC | SampleType.TRANSACTION | SampleType.PHYS_ADDR)
