"""The ordering contract of the native core's queue, as a unit: ``insert`` (Framer.push),
``finish_round`` (framing a FINISHED_ROUND record) and ``finish`` (settle(final=True)).

perf's rule (its comment on FINISHED_ROUND in util/session.c, and its behaviour): at
each round, deliver in time order every queued event up to the largest time seen by
the end of the previous round; equal times keep their arrival order; the end delivers
the rest.  An event delivered earlier than one before it counts as out of order.
"""

from __future__ import annotations

import struct
from typing import Union

from scripthost.engine._core import Framer
from scripthost.engine.layouts import RecordType

_ROUND = struct.pack("<IHH", RecordType.FINISHED_ROUND, 0, 8)

#: the documented example: two CPUs read in three passes, each ended by a round
PASSES = [[1, 2, 2, 3, 4], [3, 4, 5, 5, 6, 7], [6, 7, 8, 9, 10]]


class Queue:
    """The contract's three calls over a Framer; items are (arrival index, time)."""

    def __init__(self) -> None:
        self.framer = Framer(RecordType.SAMPLE, RecordType.FINISHED_ROUND)
        self.flushes: list[list[tuple[int, int]]] = []
        self.arrivals = 0

    def insert(self, t: int) -> None:
        self.framer.push(t, (self.arrivals, t))
        self.arrivals += 1

    def finish_round(self) -> None:
        assert self.framer.frame(_ROUND, 0, len(_ROUND)) == (len(_ROUND), 0)
        self.arrivals += 1  # as in a stream, where the round is a record of its own
        self.framer.settle(self.flushes.append)

    def finish(self) -> None:
        self.framer.settle(self.flushes.append, final=True)


def run(events: list[Union[int, str]]) -> Queue:
    q = Queue()
    for e in events:
        q.finish_round() if e == "round" else q.insert(int(e))
    q.finish()
    return q


def _with_rounds(passes: list[list[int]]) -> list[Union[int, str]]:
    return [e for p in passes for e in [*p, "round"]]


def test_perfs_documented_example() -> None:
    """Pass n+1's round flushes up to 4 (pass n's largest), pass n+2's up to 7, the end the rest."""
    q = run(_with_rounds(PASSES))
    assert [[t for _, t in f] for f in q.flushes] == [[1, 2, 2, 3, 3, 4, 4], [5, 5, 6, 6, 7, 7], [8, 9, 10]]
    assert q.framer.out_of_order == 0 and q.framer.queued == 0


def test_a_late_event_lands_where_perf_puts_it() -> None:
    """The example with a late 2 in the last pass.  perf 6.1 (`perf script` over this as a
    pipe stream, the arrival index as tid) printed arrivals 0 1 2 3 6 4 7 15 8 9 10 13 11 14
    16 17 18 and warned of 1 out-of-order event: the round after pass n+1 flushed both 4s
    (so "up to", not "below"), the 5s waited."""
    q = run(_with_rounds([PASSES[0], PASSES[1], [6, 7, 2, 8, 9, 10]]))
    order = [n for f in q.flushes for n, _ in f]
    assert order == [0, 1, 2, 3, 6, 4, 7, 15, 8, 9, 10, 13, 11, 14, 16, 17, 18]
    assert q.framer.out_of_order == 1


def test_the_first_round_delivers_nothing() -> None:
    q = Queue()
    for t in PASSES[0]:
        q.insert(t)
    q.finish_round()
    assert q.flushes == [] and q.framer.queued == len(PASSES[0])


def test_equal_times_keep_arrival_order() -> None:
    q = run([5, 5, "round", 5, 3, "round", 5, "round", 5, 9, "round", "round"])
    order = [(t, n) for f in q.flushes for n, t in f]
    assert order == sorted(order)  # by time, then by arrival


def test_finish_delivers_everything_once() -> None:
    q = run([9, 3, 7, 1])  # no round at all: perf delivers all at the end, sorted
    assert q.flushes == [[(3, 1), (1, 3), (2, 7), (0, 9)]]
    q.finish()
    assert len(q.flushes) == 1  # nothing is left to deliver twice
