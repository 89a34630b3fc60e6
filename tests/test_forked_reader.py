"""The read loop in a second process (engine.forked_reader) against the same
loop inline, for files and streams: the same deliveries in the same order, the
same counts, the same faults, and no process left behind however the run ends."""

from __future__ import annotations

import io
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import DATA, scripthost
from scripthost.engine import forked_reader, source
from scripthost.engine.output import DefaultPrinter
from scripthost.engine.session import Consumer, Session
from test_ordering import _cpu_rounds, _file
from scripthost.errors import StreamError

SMALL = DATA / "engine" / "small.data"


class _Log(Consumer):
    """Writes down everything a session delivers."""

    def __init__(self, interval_ns: int = 0, fail_at: int = -1, stop_at: int = -1) -> None:
        self.interval_ns = interval_ns
        self.log: list[tuple] = []
        self.fail_at, self.stop_at = fail_at, stop_at
        self.ended = False

    def begin(self, session: Session) -> None:
        self.session = session

    def handler(self, ev):  # type: ignore[no-untyped-def]
        def h(item: tuple) -> None:
            size = int.from_bytes(item[2][item[1] + 6:item[1] + 8], "little")
            self.log.append(("sample", ev.index, item[2][item[1]:item[1] + size]))
            if len(self.log) == self.fail_at:
                raise ValueError("handler failed")
            if len(self.log) == self.stop_at:
                self.session.stop()
        return h

    def record(self, rtype: int, misc: int, body: bytes, time: int) -> None:
        self.log.append(("record", rtype, misc, body, time))

    def tick(self, now_ns: int) -> None:
        self.log.append(("tick", now_ns))

    def end(self, session: Session) -> None:
        self.ended = True


def _deliveries(inp: object, forked: bool, monkeypatch: pytest.MonkeyPatch, **kw: int) -> tuple:
    monkeypatch.setenv("SCRIPTHOST_FORK_READER", "1" if forked else "0")
    s = Session(inp)
    log = _Log(**kw)
    error = None
    try:
        s.run(log)
    except StreamError as e:
        error = str(e)
    stats = {k: getattr(s.stats, k) for k in s.stats.__slots__}
    return log.log, stats, error, log.ended


@pytest.mark.parametrize("chunk", [source.CHUNK, 4096, 333])
@pytest.mark.parametrize("interval_ns", [0, 1_000_000])
def test_same_deliveries_as_inline(chunk: int, interval_ns: int, monkeypatch: pytest.MonkeyPatch) -> None:
    # small chunks: records straddle chunk ends and chunks are let go of while events
    # from them are still queued
    monkeypatch.setattr(source, "CHUNK", chunk)
    pipe = (SMALL.parent / "small.pipe").read_bytes()
    for make in (lambda: str(SMALL), lambda: io.BytesIO(SMALL.read_bytes()),  # a file
                 lambda: io.BytesIO(pipe), lambda: iter([pipe[:5000], pipe[5000:]])):  # a stream
        inline = _deliveries(make(), False, monkeypatch, interval_ns=interval_ns)
        forked = _deliveries(make(), True, monkeypatch, interval_ns=interval_ns)
        assert forked == inline
        assert sum(e[0] == "sample" for e in inline[0]) == inline[1]["samples"] >= 1000
        assert any(e[0] == "record" for e in inline[0])
        assert (interval_ns > 0) == any(e[0] == "tick" for e in inline[0])


def _no_children() -> bool:
    try:
        os.waitpid(-1, os.WNOHANG)
    except ChildProcessError:
        return True
    return False


def test_cut_file_delivers_everything_before_the_fault(monkeypatch: pytest.MonkeyPatch) -> None:
    data = SMALL.read_bytes()
    cut = io.BytesIO(data[:60_000] + bytes(13) + data[60_013:])  # a record with size 0 mid-file
    inline = _deliveries(cut, False, monkeypatch)
    cut.seek(0)
    forked = _deliveries(cut, True, monkeypatch)
    assert forked == inline
    assert inline[2] is not None and "offset" in inline[2] and inline[3]
    assert len(inline[0]) > 100
    assert _no_children()


def test_handler_error_and_stop_leave_no_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCRIPTHOST_FORK_READER", "1")
    log = _Log(fail_at=50)
    with pytest.raises(ValueError, match="handler failed"):
        Session(str(SMALL)).run(log)
    assert not log.ended and _no_children()
    inline = _deliveries(str(SMALL), False, monkeypatch, stop_at=50)
    forked = _deliveries(str(SMALL), True, monkeypatch, stop_at=50)
    assert forked[0] == inline[0] and 50 <= len(forked[0]) < 2000 and forked[3]  # the batch in hand ends
    assert _no_children()


def test_killed_reader_is_a_one_line_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCRIPTHOST_FORK_READER", "1")
    monkeypatch.setattr(source, "CHUNK", 4096)
    children = Path(f"/proc/self/task/{os.getpid()}/children")
    if not children.exists():
        pytest.skip("/proc/PID/task/TID/children is missing (CONFIG_PROC_CHILDREN)")
    session = Session(str(SMALL))
    fill = source.ChunkSource.fill

    def slow_fill(self: source.ChunkSource, need: int = 1) -> bool:
        time.sleep(0.05)  # the child reads for over a second
        return fill(self, need)
    monkeypatch.setattr(source.ChunkSource, "fill", slow_fill)

    def kill(*_: object) -> None:
        for pid in children.read_text().split():
            os.kill(int(pid), signal.SIGKILL)
    old = signal.signal(signal.SIGALRM, kill)
    signal.setitimer(signal.ITIMER_REAL, 0.3)
    log = _Log()
    try:
        with pytest.raises(StreamError, match=r"reading process ended .*killed by signal 9") as e:
            session.run(log)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    assert "\n" not in str(e.value) and log.ended and _no_children()


def test_ctrl_c_to_the_process_group_leaves_nothing(tmp_path: Path) -> None:
    script = tmp_path / "slow.py"
    script.write_text("import time\ndef trace_end():\n    print('trace_end ran', flush=True)\n"
                      "def trace_unhandled(*a):\n    time.sleep(0.01)\n")
    env = dict(os.environ, SCRIPTHOST_FORK_READER="1")
    p = subprocess.Popen([sys.executable, "-m", "scripthost", "trace", "-i", str(SMALL), "-s", str(script)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, start_new_session=True)
    time.sleep(1.5)
    os.killpg(p.pid, signal.SIGINT)  # what the terminal does on Ctrl-C
    out, err = p.communicate(timeout=30)
    assert p.returncode == 0, err
    assert b"trace_end ran" in out and b"Traceback" not in err
    with pytest.raises(ProcessLookupError):
        os.killpg(p.pid, 0)


def test_cli_output_is_the_same_either_way(tmp_path: Path) -> None:
    script = DATA.parent / "scripts" / "repr_args.py"
    runs = [scripthost("trace", "-i", str(SMALL), *(["-s", str(script)] if s else []),
                       env={"SCRIPTHOST_FORK_READER": mode})
            for s in (False, True) for mode in ("0", "1")]
    assert all(r.returncode == 0 for r in runs)
    assert runs[0].stdout == runs[1].stdout and runs[2].stdout == runs[3].stdout
    assert runs[0].stdout == (SMALL.parent / "small.data.expected").read_bytes()


def _printed(inp: object, forked: bool, monkeypatch: pytest.MonkeyPatch) -> bytes:
    monkeypatch.setenv("SCRIPTHOST_FORK_READER", "1" if forked else "0")
    raw = io.BytesIO()
    out = io.TextIOWrapper(raw, encoding="utf-8", errors="surrogateescape")
    old_err, sys.stderr = sys.stderr, io.StringIO()
    try:
        Session(inp).run(DefaultPrinter(out))
    finally:
        sys.stderr = old_err
    out.flush()
    return raw.getvalue()


@pytest.mark.parametrize("behind", [0, 1, 3])
def test_shared_printing_prints_the_same(behind: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """The default output's batches printed by the child (all of them, some, the tuned
    share) come out as the parent would print them, comms and order included."""
    monkeypatch.setattr(forked_reader, "_BEHIND", behind)
    monkeypatch.setattr(source, "CHUNK", 2048)
    for name in ("small.data", "small.pipe"):
        expected = (SMALL.parent / f"{name}.expected").read_bytes()
        assert _printed(str(SMALL.parent / name), True, monkeypatch) == expected
    rng = random.Random(behind)
    rounds = _file(_cpu_rounds(rng, 3, 400, 0.01))
    inline = _printed(io.BytesIO(rounds), False, monkeypatch)
    assert inline.count(b"\n") > 4000
    assert _printed(io.BytesIO(rounds), True, monkeypatch) == inline


def test_scripts_with_threads(tmp_path: Path) -> None:
    """A thread started in trace_begin (as sctop.py does) runs after the fork; one started
    at the script's top level keeps the read in one process.  The output is the same."""
    body = ("import _thread, time\ncount = 0\n"
            "def tick():\n    time.sleep(60)\n"
            "def raw_syscalls__sys_enter(*a):\n    global count\n    count += 1\n"
            "def trace_end():\n    print('enters', count)\n")
    for where in ("begin", "top"):
        script = tmp_path / f"{where}.py"
        start = "_thread.start_new_thread(tick, ())\n"
        script.write_text(body + (f"def trace_begin():\n    {start}" if where == "begin" else start))
        runs = [scripthost("trace", "-i", str(SMALL), "-s", str(script), env={"SCRIPTHOST_FORK_READER": m})
                for m in ("0", "1")]
        assert [r.returncode for r in runs] == [0, 0], runs[1].stderr
        assert runs[0].stdout == runs[1].stdout and runs[0].stdout.startswith(b"enters ")
        assert runs[1].stderr == runs[0].stderr


def test_cut_stream_delivers_everything_before_the_fault(monkeypatch: pytest.MonkeyPatch) -> None:
    pipe = (SMALL.parent / "small.pipe").read_bytes()
    for cut in (len(pipe) // 3, len(pipe) - 7):
        inline = _deliveries(io.BytesIO(pipe[:cut]), False, monkeypatch)
        forked = _deliveries(io.BytesIO(pipe[:cut]), True, monkeypatch)
        assert forked == inline and inline[2] is not None and "truncated" in inline[2]
    assert _no_children()


def test_child_done_before_the_go_byte(monkeypatch: pytest.MonkeyPatch) -> None:
    """A child that ends before the parent's begin is over (a stream cut in its first
    record) has closed its end of the go pipe: the parent still gets its error."""
    import time as _time

    class SlowBegin(_Log):
        def begin(self, session: Session) -> None:
            _time.sleep(0.3)
            super().begin(session)
    monkeypatch.setenv("SCRIPTHOST_FORK_READER", "1")
    pipe = (SMALL.parent / "small.pipe").read_bytes()
    log = SlowBegin()
    with pytest.raises(StreamError, match="truncated"):
        Session(io.BytesIO(pipe[:21])).run(log)
    assert log.ended and _no_children()


def test_sigchld_ignored_by_the_script(monkeypatch: pytest.MonkeyPatch) -> None:
    """With SIGCHLD set to SIG_IGN the kernel reaps the child itself: the run still ends
    cleanly, with the same deliveries."""
    inline = _deliveries(str(SMALL), False, monkeypatch)
    old = signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    try:
        forked = _deliveries(str(SMALL), True, monkeypatch)
    finally:
        signal.signal(signal.SIGCHLD, old)
    assert forked == inline
