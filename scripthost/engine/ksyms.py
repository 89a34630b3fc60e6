"""Kernel symbols for %pS/%ps: perf resolves kernel addresses against the
host's /proc/kallsyms (perf's tracing data carries none), so do we."""

from __future__ import annotations

from bisect import bisect_right
from typing import Optional

__all__ = ["KernelSymbols"]

_TEXT_TYPES = frozenset("tTwW")
#: what perf loads from kallsyms for the kernel map (text, weak, data, bss)
MAP_TYPES = frozenset("tTwWdDbB")


class KernelSymbols:
    """Sorted function symbols with bisect lookup; loaded on first use."""

    def __init__(self, text: Optional[bytes] = None, path: str = "/proc/kallsyms",
                 types: frozenset = _TEXT_TYPES) -> None:
        self._text = text
        self._path = path
        self._types = types
        self._starts: Optional[list[int]] = None
        self._names: list[str] = []

    @classmethod
    def from_kallsyms(cls, text: bytes) -> "KernelSymbols":
        return cls(text=text)

    @classmethod
    def host(cls) -> "KernelSymbols":
        return cls()

    def _load(self) -> None:
        text = self._text
        if text is None:
            try:
                with open(self._path, "rb") as f:
                    text = f.read()
            except OSError:
                text = b""
        syms = []
        for line in text.splitlines():
            parts = line.split()
            if len(parts) < 3 or parts[1].decode()[:1] not in self._types:
                continue
            if len(parts) > 3:
                continue  # a module's symbol: not part of the kernel image map
            try:
                addr = int(parts[0], 16)
            except ValueError:
                continue
            if addr:
                syms.append((addr, parts[2].decode("utf-8", "replace")))
        syms.sort()
        self._starts = [a for a, _ in syms]
        self._names = [n for _, n in syms]

    def map_end(self) -> int:
        """perf's end of the kernel map: the last symbol rounded up to a page, plus a page."""
        if self._starts is None:
            self._load()
        if not self._starts:
            return 0
        return (self._starts[-1] + 4095) // 4096 * 4096 + 4096

    def lookup(self, addr: int) -> Optional[tuple[str, int]]:
        """(name, offset) of the function containing ``addr``, or None."""
        if self._starts is None:
            self._load()
        i = bisect_right(self._starts, addr) - 1
        if i < 0:
            return None
        return self._names[i], addr - self._starts[i]
