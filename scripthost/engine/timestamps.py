"""The default output's relative timestamps: perf script's --reltime and --deltatime.

perf shows, with --reltime, each sample's time less the first printed sample's, and with
--deltatime, less the previous printed sample's (the first one shows 0); both count over all
events together, in the order the samples are printed."""

from __future__ import annotations

from typing import Callable, Optional

__all__ = ["relative_clock"]


def relative_clock(reltime: bool, deltatime: bool) -> Optional[Callable[[int], int]]:
    """The function mapping a sample's time to the one printed, or None for absolute times."""
    if not (reltime or deltatime):
        return None
    base: list[Optional[int]] = [None]

    def clock(t: int) -> int:
        b = base[0]
        if b is None:
            b = base[0] = t
        if deltatime and not reltime:
            base[0] = t
        return t - b
    return clock
