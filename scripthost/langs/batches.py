"""Events handed to another language in batches, read where they lie.

The session's queue items are ``(time, pos, chunk, evsel)``: each sample is at
``pos`` in an input chunk (a bytes object).  A runtime that batches queues the
items, then gives the other side each chunk once, under a small-integer slot,
and per batch three arrays: event type, slot and position of every event, all
built by C-level maps (no per-event Python code).
"""

from __future__ import annotations

from array import array
from operator import itemgetter
from typing import Callable, Hashable

__all__ = ["ChunkSlots", "Batch"]

_POS, _BUF, _EV = itemgetter(1), itemgetter(2), itemgetter(3)


class ChunkSlots:
    """Slot numbers for input chunks the other side holds (or points at).

    ``publish(slot, chunk)`` tells the other side; a slot is reused only for
    chunks no event of the current batch lies in, oldest first.
    """

    def __init__(self, publish: Callable[[int, bytes | None], None], keep: int) -> None:
        self._publish = publish
        self._keep = keep
        self._slot_of: dict[int, int] = {}   # id(chunk) -> slot
        self._chunk: dict[int, bytes] = {}   # slot -> chunk (our reference keeps its id unique)

    def slot(self, chunk: bytes, in_use: Hashable) -> int:
        s = self._slot_of.get(id(chunk))
        if s is not None and self._chunk[s] is chunk:
            return s
        if len(self._chunk) >= self._keep:
            for old in [k for k, c in self._chunk.items() if id(c) not in in_use][: self._keep // 2]:
                del self._slot_of[id(self._chunk.pop(old))]
                self._publish(old, None)
        s = next(i for i in range(1 << 16) if i not in self._chunk)
        self._slot_of[id(chunk)] = s
        self._chunk[s] = chunk
        self._publish(s, chunk)
        return s

    def slots(self, items: list[tuple]) -> tuple[array | None, int]:
        """(slot per item, None) for items in several chunks, else (None, the one slot)."""
        chunks = list(map(_BUF, items))
        first = chunks[0]
        if chunks.count(first) == len(chunks):
            return None, self.slot(first, {id(first)})
        ids = list(map(id, chunks))
        distinct = dict(zip(ids, chunks))
        for c in distinct.values():
            self.slot(c, distinct)
        return array("H", map(self._slot_of.__getitem__, ids)), 0


class Batch:
    """One batch's arrays: positions (u32), event type indices (u16), slots (u16)."""

    __slots__ = ("n", "positions", "types", "one_type", "slots", "one_slot")

    def __init__(self, items: list[tuple], type_of: dict, chunks: ChunkSlots) -> None:
        self.n = len(items)
        self.positions = array("I", map(_POS, items))
        evs = list(map(_EV, items))
        if evs.count(evs[0]) == self.n:
            self.types, self.one_type = None, type_of[evs[0]]
        else:
            self.types, self.one_type = array("H", map(type_of.__getitem__, evs)), 0
        self.slots, self.one_slot = chunks.slots(items)
