"""The reader's inputs and its behaviour on bad input.

The recordings in tests/data/engine were made with the real perf 6.1
(`perf record -e raw_syscalls:sys_enter -e raw_syscalls:sys_exit -e
sched:sched_switch -e sched:sched_wakeup -- sh -c ...`, file and pipe mode), and
the .expected files are what `perf script -i` printed for them.
"""

from __future__ import annotations

import io
import os
import struct
import threading

from hypothesis import HealthCheck, given, settings, strategies as st

from conftest import DATA, scripthost
from scripthost.engine.output import DefaultPrinter
from scripthost.engine.session import Session
from scripthost.errors import ScripthostError

ENGINE = DATA / "engine"
PIPE = (ENGINE / "small.pipe").read_bytes()
FILE = (ENGINE / "small.data").read_bytes()


def _render(inp: object) -> tuple[str, ScripthostError | None]:
    out = io.StringIO()
    err = io.StringIO()
    try:
        s = Session(inp)
        import sys
        old, sys.stderr = sys.stderr, err
        try:
            s.run(DefaultPrinter(out))
        finally:
            sys.stderr = old
    except ScripthostError as e:
        return out.getvalue(), e
    return out.getvalue(), None


def _sample_records_before(stream: bytes, cut: int) -> tuple[int, bool]:
    """Complete SAMPLE records in a pipe stream before byte ``cut``, and whether
    ``cut`` falls on a record boundary (where a cut stream looks complete)."""
    pos, n = 16, 0
    while pos + 8 <= cut:
        rtype, _, size = struct.unpack_from("<IHH", stream, pos)
        if size < 8 or pos + size > cut:
            break
        n += rtype == 9
        nxt = pos + size
        if rtype == 66:
            nxt += struct.unpack_from("<I", stream, pos + 8)[0]
        pos = nxt
    return n, pos == cut


def test_default_output_matches_perf_file_and_pipe() -> None:
    for name in ("small.data", "small.pipe"):
        out, err = _render(str(ENGINE / name))
        assert err is None
        assert out == (ENGINE / f"{name}.expected").read_text()


def test_same_events_from_file_stdin_and_a_slow_pipe() -> None:
    expected = (ENGINE / "small.pipe.expected").read_text()
    assert _render(io.BytesIO(PIPE))[0] == expected
    assert _render(iter(PIPE[i:i + 1] for i in range(len(PIPE))))[0] == expected
    r, w = os.pipe()

    def writer() -> None:
        with os.fdopen(w, "wb", buffering=0) as f:
            for i in range(len(PIPE)):
                f.write(PIPE[i:i + 1])
    t = threading.Thread(target=writer)
    t.start()
    with os.fdopen(r, "rb", buffering=0) as f:
        assert _render(f)[0] == expected
    t.join()
    cli = scripthost("trace", "-i", "-", input=PIPE)
    assert cli.returncode == 0 and cli.stdout.decode() == expected


@settings(max_examples=150, deadline=5000, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(min_value=0, max_value=len(PIPE) - 1))
def test_cut_stream_delivers_everything_before_the_cut(cut: int) -> None:
    out, err = _render(io.BytesIO(PIPE[:cut]))
    samples, on_boundary = _sample_records_before(PIPE, cut)
    if not on_boundary:
        assert err is not None, "a cut stream must be reported"
        assert "offset" in str(err) and "\n" not in str(err)
    assert len(out.splitlines()) == samples
    full = set((ENGINE / "small.pipe.expected").read_text().splitlines())
    assert set(out.splitlines()) <= full


@settings(max_examples=600, deadline=5000, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(0, len(PIPE) - 1), st.integers(0, 255)), min_size=1, max_size=8),
       st.booleans())
def test_mutated_stream_never_crashes(mutations: list[tuple[int, int]], file_mode: bool) -> None:
    data = bytearray(FILE if file_mode else PIPE)
    for pos, value in mutations:
        if pos < len(data):
            data[pos] = value
    _, err = _render(io.BytesIO(bytes(data)))  # anything but ScripthostError propagates and fails
    if err is not None:
        assert "\n" not in str(err)


def test_bad_magic_and_empty_input_one_line_errors() -> None:
    for data, words in ((b"", "empty input"), (b"NOTPERF!" + bytes(8), "bad magic"),
                        (PIPE[:8] + struct.pack("<Q", 99), "header size")):
        r = scripthost("trace", "-i", "-", input=data)
        assert r.returncode != 0
        err = r.stderr.decode()
        assert words in err and "Traceback" not in err and err.count("\n") == 1


def test_unknown_record_type_and_lying_size() -> None:
    # an unknown record type (200) of a plausible size is skipped by its size
    unknown = struct.pack("<IHH", 200, 0, 16) + bytes(8)
    first_attr = 16
    stream = PIPE[:first_attr] + unknown + PIPE[first_attr:]
    out, err = _render(io.BytesIO(stream))
    assert err is None and out == (ENGINE / "small.pipe.expected").read_text()
    # a record whose size is smaller than its header is an error naming the offset
    lying = PIPE[:first_attr] + struct.pack("<IHH", 64, 0, 4) + PIPE[first_attr + 8:]
    r = scripthost("trace", "-i", "-", input=lying)
    assert r.returncode != 0 and b"offset 0x10" in r.stderr and b"Traceback" not in r.stderr


def test_nanosecond_times_match_perf() -> None:
    """`--ns`: perf prints "%5lu.%09llu" (not the "%12s" of the microsecond times)."""
    for name in ("small.data", "small.pipe"):
        r = scripthost("trace", "--ns", "-i", str(ENGINE / name))
        assert r.returncode == 0, r.stderr
        assert r.stdout == (ENGINE / f"{name}.ns.expected").read_bytes()


def test_collector_passes_spaced_during_a_run_and_restored_after() -> None:
    import gc
    from scripthost.engine.session import Consumer

    class Watch(Consumer):
        def __init__(self) -> None:
            self.seen: list[tuple[int, ...]] = []

        def begin(self, session: Session) -> None:
            self.seen.append(gc.get_threshold())

    before = gc.get_threshold()
    try:
        for threshold, during in (((700, 10, 10), 50_000), ((100_000, 5, 5), 100_000)):
            gc.set_threshold(*threshold)
            w = Watch()
            Session(io.BytesIO(PIPE)).run(w)
            assert w.seen[0] == (during, *threshold[1:])
            assert gc.get_threshold() == threshold
        gc.set_threshold(700, 10, 10)  # restored after a stream fault too
        w = Watch()
        try:
            Session(io.BytesIO(PIPE[:len(PIPE) // 2])).run(w)
        except ScripthostError:
            pass
        assert w.seen[0][0] == 50_000 and gc.get_threshold() == (700, 10, 10)
    finally:
        gc.set_threshold(*before)
