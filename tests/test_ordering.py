"""Event order against perf's FINISHED_ROUND rule, written out here as the ground truth.

perf queues timed records; at each FINISHED_ROUND it sorts the queue (stably) and
delivers every record up to the largest time seen by the end of the previous round.
The native core settles the rounds read so far in one call; these streams (per-CPU
buffers read in turns, with late events mixed in, cut into chunks at random
places) check that the result is perf's, order and out-of-order count alike.
"""

from __future__ import annotations

import random
import shutil
import struct
from bisect import bisect_right

import pytest

from conftest import perf, scripthost
from scripthost.collect.perf_event import pack_attr
from scripthost.engine import source
from scripthost.engine.layouts import FILE_HEADER, PERF_MAGIC, PIPE_HEADER, RecordType as R, SampleType as ST
from scripthost.engine.session import Consumer, Session

_WITH_ID = struct.Struct("<IHHQiiQ")  # header, identifier, pid, tid, time
_NO_ID = struct.Struct("<IHHiiQ")      # header, pid, tid, time
_ROUND = struct.pack("<IHH", R.FINISHED_ROUND, 0, 8)


def _stream(events: list, with_id: bool = True) -> bytes:
    """A pipe-mode stream: one software event; items are times or "round"; the
    arrival index is the sample's tid."""
    st = (ST.IDENTIFIER if with_id else 0) | ST.TID | ST.TIME
    attr = pack_attr(type=1, config=0, sample_period=1, sample_type=st)
    out = [PIPE_HEADER.pack(PERF_MAGIC, PIPE_HEADER.size),
           struct.pack("<IHH", R.HEADER_ATTR, 0, 8 + len(attr) + 8) + attr + struct.pack("<Q", 7)]
    for n, t in enumerate(events):
        if t == "round":
            out.append(_ROUND)
        elif with_id:
            out.append(_WITH_ID.pack(9, 0, _WITH_ID.size, 7, 1, n, t))
        else:
            out.append(_NO_ID.pack(9, 0, _NO_ID.size, 1, n, t))
    return b"".join(out)


def _file(events: list, with_id: bool = True) -> bytes:
    """The same events as a perf.data file (attrs section, data section, no features)."""
    pipe = _stream(events, with_id)
    at = PIPE_HEADER.size
    size = struct.unpack_from("<H", pipe, at + 6)[0]
    attr = pipe[at + 8:at + size - 8]
    ids = pipe[at + size - 8:at + size]
    data = pipe[at + size:]
    attrs_off = FILE_HEADER.size
    ids_off = attrs_off + len(attr) + 16
    data_off = ids_off + len(ids)
    header = FILE_HEADER.pack(PERF_MAGIC, FILE_HEADER.size, len(attr) + 16, attrs_off, len(attr) + 16,
                              data_off, len(data), 0, 0, 0, 0, 0, 0)
    return header + attr + struct.pack("<QQ", ids_off, len(ids)) + ids + data


def _perf_order(events: list) -> tuple[list[int], int]:
    """perf's delivery order (as arrival indices) and its out-of-order count: an event counts
    when it arrives earlier than the last one delivered by then; a round's next limit is the
    queue's largest time, which restarts with the first event into an empty queue."""
    queue: list[tuple[int, int]] = []
    out: list[int] = []
    next_flush = last = ooo = top = 0
    for n, t in enumerate(events):
        if t != "round":
            ooo += t < last
            if not queue or t >= top:
                top = t
            queue.insert(bisect_right(queue, t, key=_time), (t, n))
            continue
        if next_flush:
            k = bisect_right(queue, next_flush, key=_time)
            if k:
                out.extend(n for _, n in queue[:k])
                last = queue[k - 1][0]
                del queue[:k]
        next_flush = top
    out.extend(n for _, n in queue)
    return out, ooo


def _time(entry: tuple[int, int]) -> int:
    return entry[0]


class _Recorder(Consumer):
    def __init__(self) -> None:
        self.order: list[int] = []

    def handler(self, evsel):  # noqa: ANN001, ANN201
        tid_at = evsel.fixed_layout["tid"][0]
        return lambda item: self.order.append(struct.unpack_from("<i", item[2], item[1] + tid_at)[0])


def _cpu_rounds(rng: random.Random, ncpu: int, rounds: int, late: float) -> list:
    """Per-CPU buffers read in turns each round, some events arriving late."""
    clock = [1000 * (c + 1) for c in range(ncpu)]
    events: list = []
    for _ in range(rounds):
        for c in range(ncpu):
            for _ in range(rng.randint(0, 12)):
                clock[c] += rng.randint(0, 40)
                t = clock[c]
                if rng.random() < late:
                    t = max(1, t - rng.randint(0, 3000))
                events.append(t)
        events.append("round")
    return events


@pytest.mark.parametrize("with_id", [True, False], ids=["identifier", "no-id"])
@pytest.mark.parametrize("seed", range(40))
def test_order_and_out_of_order_count_are_perfs(seed: int, with_id: bool) -> None:
    rng = random.Random(seed)
    events = _cpu_rounds(rng, rng.randint(1, 4), rng.randint(1, 300), [0.0, 0.002, 0.05][seed % 3])
    data = _stream(events, with_id)
    cuts = sorted(rng.sample(range(1, len(data)), min(len(data) - 1, rng.randint(0, 60))))
    chunks = [data[a:b] for a, b in zip([0] + cuts, cuts + [len(data)])]
    session = Session(iter(chunks))
    rec = _Recorder()
    session.run(rec)
    expected, ooo = _perf_order(events)
    assert rec.order == expected
    assert session.stats.out_of_order == ooo


def test_equal_times_keep_arrival_order_across_rounds() -> None:
    events = [5, 5, "round", 5, 3, "round", 5, "round", 5, 9, "round", "round"]
    session = Session(_stream(events))
    rec = _Recorder()
    session.run(rec)
    assert (rec.order, session.stats.out_of_order) == _perf_order(events)


@pytest.mark.parametrize("seed", range(12))
def test_file_mode_order(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """perf.data files read in small chunks (chunks are let go of while events from
    them are still queued)."""
    monkeypatch.setattr(source, "CHUNK", 700)
    rng = random.Random(seed)
    events = _cpu_rounds(rng, rng.randint(1, 4), rng.randint(50, 300), [0.0, 0.002, 0.05][seed % 3])
    session = Session(_file(events, seed % 2 == 0))
    rec = _Recorder()
    session.run(rec)
    assert (rec.order, session.stats.out_of_order) == _perf_order(events)


def test_perfs_documented_example() -> None:
    """The example in perf's comment on FINISHED_ROUND (util/session.c): two CPUs, three
    passes; pass n+1 flushes what is below 4 (pass n's largest time), pass n+2 what is
    below 7, the end the rest.  Each pass arrives as its own chunk, so the session settles
    after each and the deliveries show where each flush ended."""
    passes = [[1, 2, 2, 3, 4], [3, 4, 5, 5, 6, 7], [6, 7, 8, 9, 10]]
    events = [t for p in passes for t in p + ["round"]]
    data = _stream(events)
    head = len(_stream([]))
    sample = _WITH_ID.size
    cuts = [head]
    for p in passes:
        cuts.append(cuts[-1] + len(p) * sample + len(_ROUND))
    chunks = [data[a:b] for a, b in zip([0] + cuts, cuts)]

    class Flushes(_Recorder):
        def __init__(self) -> None:
            super().__init__()
            self.flushes: list[list[int]] = []

        def delivered(self) -> None:
            self.flushes.append(self.order[sum(map(len, self.flushes)):])

    rec = Flushes()
    session = Session(iter(chunks))
    session.run(rec)
    assert [[events[n] for n in f] for f in rec.flushes] == [[1, 2, 2, 3, 3, 4, 4], [5, 5, 6, 6, 7, 7], [8, 9, 10]]
    assert session.stats.out_of_order == 0


@pytest.mark.skipif(shutil.which("perf") is None, reason="perf is not installed")
@pytest.mark.parametrize("seed", range(24))
def test_order_and_count_equal_the_real_perfs(seed: int) -> None:
    """The same streams read by the real perf: its order (the tids) and its warning are ours,
    and the model's."""
    rng = random.Random(seed)
    events = _cpu_rounds(rng, rng.randint(1, 4), rng.randint(1, 300), [0.0, 0.002, 0.05][seed % 3])
    stream = _stream(events)
    theirs = perf("script", "-i", "-", "-F", "tid", input=stream)
    ours = scripthost("trace", "-i", "-", "-F", "tid", input=stream)
    assert (ours.stdout, ours.stderr) == (theirs.stdout, theirs.stderr)
    order, ooo = _perf_order(events)
    assert list(map(int, theirs.stdout.split())) == order
    assert (f"Warning:\n{ooo} out of order events recorded.\n" if ooo else "") == theirs.stderr.decode()
