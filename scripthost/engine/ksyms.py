"""Kernel symbols for %pS/%ps: perf resolves kernel addresses against the
host's /proc/kallsyms (perf's tracing data carries none), so do we: its function
symbols, each running to the next (the lines are read by `symbols.kallsyms_entries`)."""

from __future__ import annotations

from bisect import bisect_right
from typing import Optional

from scripthost.engine.symbols import kallsyms_entries

__all__ = ["KernelSymbols"]

#: the kallsyms types of functions (text, weak)
_TEXT_TYPES = "tTwW"


class KernelSymbols:
    """Sorted function symbols with bisect lookup; loaded on first use."""

    def __init__(self, text: Optional[bytes] = None, path: str = "/proc/kallsyms") -> None:
        self._text = text
        self._path = path
        self._starts: Optional[list[int]] = None
        self._names: list[str] = []

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
        syms = sorted((addr, name) for addr, kind, name in kallsyms_entries(text)
                      if addr and kind in _TEXT_TYPES)
        self._starts = [a for a, _ in syms]
        self._names = [n for _, n in syms]

    def lookup(self, addr: int) -> Optional[tuple[str, int]]:
        """(name, offset) of the function containing ``addr``, or None."""
        if self._starts is None:
            self._load()
        i = bisect_right(self._starts, addr) - 1
        if i < 0:
            return None
        return self._names[i], addr - self._starts[i]
