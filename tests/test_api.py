"""`import scripthost` against the real perf: rec.events() gives the values perf's
Python scripting passes its handlers, in perf's order, with the CLI's filters;
tables agree with events; the inputs, passes and errors of the facade."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

import pytest

import scripthost
from conftest import can_record, perf
from export_fixtures import SYS_ENTER, Rec, by_id, perf_syscall_counts, recording  # noqa: F401 (a fixture)
from scripthost.errors import ScripthostError

pytestmark = can_record

#: perf's handlers print what they are given (arrays as bytes: perf passes a bytearray)
HANDLERS = """\
import sys
def _v(x):
    return bytes(x) if isinstance(x, bytearray) else x
def _out(a):
    sys.stdout.write(repr((a[0],) + a[2:5] + a[5:7] + tuple(map(_v, a[8:]))) + "\\n")
def raw_syscalls__sys_enter(*a): _out(a)
def sched__sched_switch(*a): _out(a)
def sched__sched_process_exec(*a): _out(a)
"""


def _perf_lines(rec: Rec, tmp_path: Path, *filters: str) -> list[str]:
    script = tmp_path / "handlers.py"
    script.write_text(HANDLERS)
    r = perf("script", *rec.args, *filters, "-s", str(script))
    assert r.returncode == 0, r.stderr.decode()
    return r.stdout.decode().splitlines()


def _our_lines(events: Any) -> list[str]:
    out = []
    for ev in events:
        own = tuple(v for k, v in ev.fields.items() if not k.startswith("common_"))
        out.append(repr((ev.name.replace(":", "__"), ev.cpu, ev.time // 10**9, ev.time % 10**9,
                         ev.field("common_pid"), ev.comm) + own))
    return out


def test_events_are_what_perf_passes_its_handlers(recording: Rec, tmp_path: Path) -> None:
    want = _perf_lines(recording, tmp_path)
    with scripthost.open(str(recording.path)) as rec:
        got = _our_lines(rec.events())
    assert len(want) > 1000 and any("sched_process_exec" in w for w in want)
    assert got == want


def test_filters_as_the_cli(recording: Rec, tmp_path: Path) -> None:
    with scripthost.open(recording.path) as rec:
        first = next(iter(rec.events(event=SYS_ENTER)))
        cases = [({"pid": first.pid}, ["--pid", str(first.pid)]),
                 ({"tid": [first.tid, 1]}, ["--tid", f"{first.tid},1"]),
                 ({"cpu": "0"}, ["-C", "0"]),
                 ({"time": "10%-30%"}, ["--time", "10%-30%"]),
                 ({"time": (first.time, first.time + 20_000_000)},
                  ["--time", f"{first.time // 10**9}.{first.time % 10**9:09d},"
                             f"{(first.time + 20_000_000) // 10**9}.{(first.time + 20_000_000) % 10**9:09d}"])]
        for kw, args in cases:
            assert _our_lines(rec.events(**kw)) == _perf_lines(recording, tmp_path, *args), args


def test_tables_agree_with_events_and_perf(recording: Rec) -> None:
    pytest.importorskip("pyarrow", reason="the arrow extra is not installed")
    with scripthost.open(recording.path) as rec:
        table = rec.to_arrow(event=SYS_ENTER)
        events = [ev for ev in rec.events() if ev.name == SYS_ENTER]
        assert table.num_rows == len(events)
        assert table.column("sample_time").to_pylist() == [ev.time for ev in events]
        assert table.column("common_comm").to_pylist() == [ev.comm for ev in events]
        assert table.column("id").to_pylist() == [ev.id for ev in events]
        assert [bytes(memoryview(__import__("array").array("Q", a))) for a in table.column("args").to_pylist()] \
            == [ev.args for ev in events]
        counts = {}
        for i in table.column("id").to_pylist():
            counts[i] = counts.get(i, 0) + 1
        want = perf_syscall_counts(recording)
        if all(k.isdigit() for k in want):
            assert by_id(list(counts.items())) == want
        tables = rec.tables()
        assert set(tables) == {SYS_ENTER, "sched:sched_switch", "sched:sched_process_exec"}
        assert tables[SYS_ENTER].equals(table)
        df = rec.to_pandas(event="sched:sched_process_exec")
        assert list(df["filename"]) == [ev.filename for ev in rec.events(event="sched:sched_process_exec")]


def test_inputs_and_passes(recording: Rec) -> None:
    data = recording.path.read_bytes()
    with scripthost.open(recording.path) as rec:
        n = sum(1 for _ in rec.events())
        assert sum(1 for _ in rec.events()) == n  # a path is read again
        assert rec.header["hostname"] == os.uname().nodename
        assert rec.header["cmdline"][0].endswith("perf")
        assert rec.event_names[:3] == [SYS_ENTER, "sched:sched_switch", "sched:sched_process_exec"]
    with scripthost.open(data) as rec:
        assert sum(1 for _ in rec.events()) == n
    with open(recording.path, "rb") as f, scripthost.open(f) as rec:
        assert sum(1 for _ in rec.events()) == n
        with pytest.raises(ScripthostError, match="read once"):
            rec.events()


def test_events_are_read_only_and_typed(recording: Rec) -> None:
    with scripthost.open(recording.path) as rec:
        ev = next(iter(rec.events(event=SYS_ENTER)))
        with pytest.raises(AttributeError):
            ev.id = 3
        with pytest.raises(AttributeError):
            ev.no_such_field
        assert isinstance(ev.id, int) and isinstance(ev.args, bytes) and len(ev.args) == 48
        assert ev.sample["period"] == 1 and ev.sample["tid"] == ev.tid
        assert ev.callchain == []


def test_leaving_early_stops_the_reader(recording: Rec) -> None:
    before = threading.active_count()
    with scripthost.open(recording.path) as rec:
        for _ in rec.events():
            break
    assert threading.active_count() == before


def test_bad_input_is_one_error(tmp_path: Path, recording: Rec) -> None:
    with pytest.raises(ScripthostError, match="cannot open"):
        scripthost.open(tmp_path / "none")
    cut = recording.path.read_bytes()
    with pytest.raises(ScripthostError, match="corrupt perf.data"):  # its feature index is past the cut
        scripthost.open(cut[:len(cut) // 2])
    with scripthost.open(recording.path) as rec:
        with pytest.raises(ScripthostError, match="Invalid cpu_list"):
            list(rec.events(cpu="x"))
        with pytest.raises(ScripthostError, match="name one with event="):
            rec.to_arrow()
