"""perf script's sample filters: --time, -C/--cpu, --pid, --tid (parsed in perf 6.1's
words and exit statuses, the data the native framer applies to each sample before it is
queued), and -c/--comms, -S/--symbols (with --addr-range) and --dsos, which need the
thread's comm and the ip's map and symbol at the sample's time and so are tested as each
sample is delivered (`ResolvedFilter`).  Side-band records are never filtered, as with perf."""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Optional

from scripthost.errors import ScripthostError, UsageError

if TYPE_CHECKING:
    from scripthost.engine.attrs import Evsel

__all__ = ["SampleFilter", "ResolvedFilter", "check_cpus", "parse_filters", "parse_resolved_filter", "strlist"]

NSEC = 10**9
#: perf's exit status for a --time it cannot parse (-EINVAL as an exit code)
TIME_ERROR_STATUS = 234
CPU_ERROR_STATUS = 255
NO_SAMPLE_TIME = ("HINT: no first/last sample time found in perf data.\n"
                  "Please use latest perf binary to execute 'perf record'")
_SECONDS = re.compile(r"(\d+)(?:\.(\d{1,9}))?\Z")
_PCT = r"(\d+(?:\.\d+)?)%"
_SLICE = re.compile(_PCT + r"/(\d+)\Z")
_SPAN = re.compile(_PCT + "-" + _PCT + r"\Z")
_LONE = re.compile(_PCT + r"\Z")
#: an -S entry perf also takes as an address: all of it hex (strtoul's base 16)
_HEX_ADDR = re.compile(r"\s*\+?(?:0[xX])?[0-9a-fA-F]+\Z")


@dataclass
class SampleFilter:
    """What to keep: time ranges in ns (absolute, end 0 = open) or as fractions of the
    sample span (resolved against the recording's first and last sample), cpus, pids, tids."""

    times: list[tuple[int, int]] = field(default_factory=list)
    fractions: list[tuple[float, float]] = field(default_factory=list)
    cpus: list[int] = field(default_factory=list)
    pids: list[int] = field(default_factory=list)
    tids: list[int] = field(default_factory=list)

    def ranges(self, first: int, last: int) -> list[tuple[int, int]]:
        """The time ranges in ns, fractions taken of [first, last]."""
        span = last - first
        return self.times + [(first + int(span * a), first + int(span * b)) for a, b in self.fractions]

    @property
    def wanted(self) -> bool:
        return bool(self.times or self.fractions or self.cpus or self.pids or self.tids)


class DropAll(ScripthostError):
    """perf's answer to a pid/tid list it cannot read: the message, no events, status 0."""

    exit_code = 0


def _time_error() -> ScripthostError:
    return ScripthostError("Invalid time string", exit_code=TIME_ERROR_STATUS)


def _ns(text: str) -> int:
    m = _SECONDS.match(text)
    if m is None:
        raise _time_error()
    return int(m.group(1)) * NSEC + int((m.group(2) or "").ljust(9, "0"))


def _fraction(text: str) -> float:
    v = float(text) / 100
    if v > 1:
        raise _time_error()
    return v


def _parse_time(text: str, flt: SampleFilter) -> None:
    if "%" in text:
        for part in text.split(","):
            if m := _SLICE.match(part):
                size, n = _fraction(m.group(1)), int(m.group(2))
                if n < 1 or size * n > 1:
                    raise _time_error()
                flt.fractions.append((size * (n - 1), size * n))
            elif m := _SPAN.match(part):
                a, b = _fraction(m.group(1)), _fraction(m.group(2))
                if a > b:
                    raise _time_error()
                flt.fractions.append((a, b))
            elif m := _LONE.match(part):
                flt.fractions.append((0.0, _fraction(m.group(1))))
            else:
                raise _time_error()
        return
    for part in text.split():
        if part.count(",") != 1:
            raise _time_error()
        a, b = part.split(",")
        start, end = (_ns(a) if a else 0), (_ns(b) if b else 0)
        if end and start > end:
            raise _time_error()
        flt.times.append((start, end))


def _ints(text: str, what: str) -> list[int]:
    out = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        try:
            out.append(int(part))
        except ValueError:
            raise DropAll(f"problems parsing {what} list") from None
    return out


def check_cpus(cpus: list[int], nr_cpus: int) -> None:
    """perf's error for a -C cpu the recording's machine did not have."""
    for c in cpus:
        if c >= nr_cpus:
            raise ScripthostError(f"Requested CPU {c} too large. Consider raising MAX_NR_CPUS",
                                  exit_code=CPU_ERROR_STATUS)


def _cpus(text: str) -> list[int]:
    out: list[int] = []
    for part in text.split(","):
        m = re.fullmatch(r"(\d+)(?:-(\d+))?", part)
        if m is None or (m.group(2) is not None and int(m.group(2)) < int(m.group(1))):
            raise ScripthostError("Invalid cpu_list", exit_code=CPU_ERROR_STATUS)
        lo = int(m.group(1))
        hi = int(m.group(2)) if m.group(2) is not None else lo
        out.extend(range(lo, hi + 1))
    return out


def parse_filters(*, time: Optional[str] = None, cpu: Optional[str] = None, pid: Optional[str] = None,
                  tid: Optional[str] = None) -> Optional[SampleFilter]:
    """The filter the options ask for, or None for none; a bad value raises perf's error."""
    flt = SampleFilter()
    if time:
        _parse_time(time, flt)
    if cpu:
        flt.cpus = _cpus(cpu)
    if pid:
        flt.pids = _ints(pid, "pid")
        if not flt.pids:
            raise DropAll("problems parsing pid list")
    if tid:
        flt.tids = _ints(tid, "tid")
        if not flt.tids:
            raise DropAll("problems parsing tid list")
    return flt if flt.wanted else None


@dataclass(frozen=True)
class ResolvedFilter:
    """-c/--comms, -S/--symbols, --addr-range and --dsos: the comms, symbol names,
    addresses (the -S entries that read as hex) and DSO names a sample must match."""

    comms: Optional[frozenset] = None
    symbols: Optional[frozenset] = None
    addrs: tuple = ()
    addr_range: int = 0
    dsos: Optional[frozenset] = None

    def select(self, resolve: Callable[[int, int, int], Any],
               thread_comms: dict[int, str]) -> Callable[["Evsel"], Callable[[tuple], bool]]:
        """For `Session.set_select`: per evsel, the test of a delivered sample item
        ``(time, pos, buf, evsel)``.  It reads the pid, tid and ip in place and resolves
        the ip (each map caches what its addresses resolved to) only when -S or --dsos
        asks; as perf, the comm is the thread's at the sample's time."""
        comms, symbols, dsos = self.comms, self.symbols, self.dsos
        addrs, span = self.addrs, self.addr_range
        names = thread_comms
        resolving = symbols is not None or dsos is not None

        def for_evsel(ev: "Evsel") -> Callable[[tuple], bool]:
            lay = ev.fixed_layout
            pid_at = lay["pid"][0] if "pid" in lay else -1
            ip_at = lay["ip"][0] if "ip" in lay else -1
            two_ints, one_u64 = struct.Struct("<ii").unpack_from, struct.Struct("<Q").unpack_from

            def accepts(item: tuple) -> bool:
                pos, buf = item[1], item[2]
                pid, tid = two_ints(buf, pos + pid_at) if pid_at >= 0 else (-1, -1)
                if comms is not None:
                    c = names.get(tid)
                    if (c if c is not None else ":%d" % tid) not in comms:
                        return False
                if not resolving:
                    return True
                ip = one_u64(buf, pos + ip_at)[0] if ip_at >= 0 else 0
                loc = resolve(pid, buf[pos + 4] & 7, ip)
                m = loc.map
                if dsos is not None:
                    if m is None:
                        return False
                    name = m.dso.name
                    if name not in dsos and name.rsplit("/", 1)[-1] not in dsos:
                        return False
                if symbols is None:
                    return True
                if loc.sym is not None and loc.sym.name in symbols:
                    return True
                if m is None or not addrs:
                    return False
                if ip in addrs:
                    return True
                return span > 0 and any(a <= ip < a + span for a in addrs)
            return accepts
        return for_evsel


def strlist(text: Optional[str], what: str) -> Optional[frozenset]:
    """A comma-separated list as perf's strlist reads it, or None for no list: every entry
    kept, an empty one too, but not what follows a last comma; an entry given twice is
    perf's "problems parsing WHAT list" (nothing printed, status 0)."""
    if text is None:
        return None
    entries = text.split(",")
    if entries[-1] == "":
        entries.pop()
    kept = frozenset(entries)
    if len(kept) != len(entries):
        raise DropAll(f"problems parsing {what} list")
    return kept


def parse_resolved_filter(*, comms: Optional[str] = None, symbols: Optional[str] = None,
                          dsos: Optional[str] = None, addr_range: Optional[str] = None) -> Optional[ResolvedFilter]:
    """The -c/-S/--dsos filter the options ask for, or None for none."""
    span = 0
    if addr_range is not None:
        try:
            span = int(addr_range, 10)
        except ValueError:
            raise UsageError("option `addr-range' expects a numerical value") from None
    dso_names, comm_names, syms = strlist(dsos, "dso"), strlist(comms, "comm"), strlist(symbols, "symbol")
    if comms is None and syms is None and dsos is None:
        return None
    addrs = tuple(int(s.strip().lstrip("+"), 16) for s in syms if _HEX_ADDR.match(s)) if syms else ()
    return ResolvedFilter(comms=comm_names, symbols=syms, addrs=addrs, addr_range=span, dsos=dso_names)
