"""Samples that read counters (PERF_SAMPLE_READ, e.g. `perf record -e '{a,b}:S'`).

perf delivers such a sample once per counter value it carries, each time as a sample
of the event that counter belongs to (found by the value's id), with the period set to
how much that counter grew since its previous value; a counter that did not grow, or
whose id no event has, gives no sample (the latter counted as an unknown id).  Each
copy here is the record itself with its id and period fields rewritten, so every
consumer decodes it as an ordinary sample of the counter's event; the copy's buffer
holds the record as read after it (`original_record`: perf hands that one to Perl's
process_event).
"""

from __future__ import annotations

from typing import Any, Optional

from scripthost.engine.attrs import Evsel
from scripthost.engine.layouts import U16, U64, SampleType
from scripthost.engine.source import record_fault

__all__ = ["ReadSplitter", "reads_counters", "original_record"]

_M64 = (1 << 64) - 1


def reads_counters(ev: Optional[Evsel]) -> bool:
    """Whether ``ev``'s samples carry counter values perf delivers one by one."""
    return ev is not None and bool(ev.sample_type & SampleType.READ)


def original_record(item: tuple) -> bytes:
    """The record a sample item was read as: for a per-counter copy, the sample it was
    made from."""
    pos, buf = item[1], item[2]
    size = U16.unpack_from(buf, pos + 6)[0]
    if reads_counters(item[3]):
        return buf[size:]
    return buf[pos:pos + size]


class ReadSplitter:
    """Turns each READ sample of a batch into one sample per counter that grew."""

    def __init__(self, id2evsel: dict[int, Evsel], stats: Any) -> None:
        self.id2evsel = id2evsel
        self.stats = stats
        self.last: dict[int, int] = {}  # counter id -> its value at its previous sample

    def split(self, items: list[tuple]) -> list[tuple]:
        """``items`` (a delivered batch, in time order) with each READ sample replaced
        by its per-counter copies; every other item kept as it is."""
        out: list[tuple] = []
        for item in items:
            if len(item) == 4 and reads_counters(item[3]):
                self._expand(item, out)
            else:
                out.append(item)
        return out

    def _values(self, ev: Evsel, buf: bytes, pos: int) -> list[tuple[int, int]]:
        """(value, id) of each counter in the sample (id 0 when not recorded)."""
        rl = ev.read_layout
        size = U16.unpack_from(buf, pos + 6)[0]
        p = pos + ev.fixed_end
        has_id = "id" in rl.tail  # the first slot after a value, when recorded
        if rl.group:
            nr = U64.unpack_from(buf, p)[0]
            per = rl.value_size
            p += rl.head_size
            if p + nr * per > pos + size:
                raise record_fault(f"corrupt sample: fields run past its {size} bytes", buf, pos)
            return [(U64.unpack_from(buf, q)[0], U64.unpack_from(buf, q + 8)[0] if has_id else 0)
                    for q in range(p, p + nr * per, per)]
        if p + rl.head_size + 8 * has_id > pos + size:
            raise record_fault(f"corrupt sample: fields run past its {size} bytes", buf, pos)
        return [(U64.unpack_from(buf, p)[0], U64.unpack_from(buf, p + rl.head_size)[0] if has_id else 0)]

    def _expand(self, item: tuple, out: list[tuple]) -> None:
        t, pos, buf, ev = item
        layout = ev.fixed_layout
        size = U16.unpack_from(buf, pos + 6)[0]
        original = buf[pos:pos + size]
        for value, vid in self._values(ev, buf, pos):
            member = self.id2evsel.get(vid)
            if member is None:
                self.stats.unknown_ids += 1
                continue
            period = (value - self.last.get(vid, 0)) & _M64
            self.last[vid] = value
            if not period:
                continue
            if member.sample_type != ev.sample_type or member.read_format != ev.read_format:
                member = ev  # its own decoder would misread the record: keep the sampled event's
            rec = bytearray(buf[pos:pos + size])
            for field in ("identifier", "id"):
                if field in layout:
                    U64.pack_into(rec, layout[field][0], vid)
            if "period" in layout:
                U64.pack_into(rec, layout["period"][0], period)
            out.append((t, 0, bytes(rec) + original, member))
