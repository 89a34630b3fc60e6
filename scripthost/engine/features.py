"""The payloads of perf.data header features, read as perf 6.1 writes them: a bounds-
checked cursor over one feature's bytes, and the features the session itself needs
(EVENT_DESC: each evsel's name and ids).  The header printer renders the rest."""

from __future__ import annotations

import struct
from typing import Optional

from scripthost.errors import CorruptInput

__all__ = ["FeatureCursor", "event_desc"]


class FeatureCursor:
    """Reads a feature's payload; ``base``: where it starts in the input (None: unknown)."""

    def __init__(self, data: bytes, what: str, base: Optional[int] = None) -> None:
        self.d, self.p, self.what, self.base = data, 0, what, base

    def fail(self, what: str) -> CorruptInput:
        return CorruptInput(f"corrupt header feature {self.what}: {what}",
                           None if self.base is None else self.base + self.p)

    def u32(self) -> int:
        return self.num("<I")

    def u64(self) -> int:
        return self.num("<Q")

    def num(self, fmt: str) -> int:
        n = struct.calcsize(fmt)
        if self.p + n > len(self.d):
            raise self.fail("runs past its section")
        v = struct.unpack_from(fmt, self.d, self.p)[0]
        self.p += n
        return v

    def str64(self) -> str:
        n = self.u32()
        if n > len(self.d) - self.p:
            raise self.fail("string runs past its section")
        s = self.d[self.p:self.p + n].split(b"\0", 1)[0].decode("utf-8", "replace")
        self.p += n
        return s

    def take(self, n: int) -> bytes:
        if n > len(self.d) - self.p:
            raise self.fail("runs past its section")
        b = self.d[self.p:self.p + n]
        self.p += n
        return b


def event_desc(payload: bytes, base: Optional[int] = None) -> list[tuple[bytes, str, list[int], Optional[int]]]:
    """(attr, name, ids, the attr's input offset) of each event the EVENT_DESC payload
    describes; ``base``: where the payload starts in the input."""
    c = FeatureCursor(payload, "EVENT_DESC", base)
    nr, size = c.u32(), c.u32()
    out = []
    for _ in range(nr):
        at = None if base is None else base + c.p
        attr = c.take(size)
        nids = c.u32()
        name = c.str64()
        if nids > (len(payload) - c.p) // 8:
            raise c.fail(f"{nids} ids run past its section")
        ids = [c.u64() for _ in range(nids)]
        out.append((attr, name, ids, at))
    return out
