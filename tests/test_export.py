"""`scripthost export` against the real perf: the syscall counts of perf's own
syscall-counts.py, from the exported datasets through DuckDB and a Dask cluster; the
schema from the tracepoint format; parts in time order; every format; filters as the
CLI's; one-line errors."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from conftest import can_record, scripthost
from export_fixtures import SYS_ENTER, Rec, by_id, perf_syscall_counts, recording  # noqa: F401 (a fixture)

pytestmark = can_record
pa = pytest.importorskip("pyarrow", reason="the arrow extra is not installed")
duckdb = pytest.importorskip("duckdb", reason="the duckdb extra is not installed")

TABLE = "raw_syscalls__sys_enter"


def _export(rec: Rec, out: Path, *args: str) -> Path:
    r = scripthost("export", *rec.args, "-o", str(out), *args)
    assert r.returncode == 0, r.stderr.decode()
    assert b"Traceback" not in r.stderr
    return out


def _same_counts(got: dict[str, int], want: dict[str, int]) -> None:
    if all(k.isdigit() for k in want):
        assert got == want
    else:  # perf named the syscalls (audit installed): the names are masked, counts compared
        assert sorted(got.values()) == sorted(want.values())


def _duckdb_counts(glob: str, reader: str = "read_parquet") -> dict[str, int]:
    return by_id(duckdb.sql(f"SELECT id, count(*) FROM {reader}('{glob}') GROUP BY id").fetchall())


def test_syscall_counts_through_duckdb(recording: Rec, tmp_path: Path) -> None:
    out = _export(recording, tmp_path / "ds")
    _same_counts(_duckdb_counts(f"{out}/{TABLE}/*.parquet"), perf_syscall_counts(recording))


def test_syscall_counts_through_dask(recording: Rec, tmp_path: Path) -> None:
    dd = pytest.importorskip("dask.dataframe", reason="the dask extra is not installed")
    distributed = pytest.importorskip("distributed", reason="the dask extra is not installed")
    out = _export(recording, tmp_path / "ds", "--part-rows", "1000")
    assert len(list((out / TABLE).glob("part-*.parquet"))) > 1
    with distributed.LocalCluster(processes=False, n_workers=1, threads_per_worker=2,
                                  dashboard_address=None) as cluster, distributed.Client(cluster):
        df = dd.read_parquet(str(out / TABLE))
        assert df.npartitions > 1
        counts = df.groupby("id").size().compute()
    _same_counts(by_id(list(counts.items())), perf_syscall_counts(recording))


def test_schema_from_the_tracepoint_format(recording: Rec, tmp_path: Path) -> None:
    import pyarrow.parquet as pq
    out = _export(recording, tmp_path / "ds")
    enter = pq.read_schema(out / TABLE / "part-0000.parquet")
    assert enter.field("id").type == pa.int64()                  # long id
    assert enter.field("args").type.value_type == pa.uint64()    # unsigned long args[6]
    assert enter.field("args").type.list_size == 6
    assert enter.field("common_pid").type == pa.int32()
    assert enter.field("common_flags").type == pa.uint8()
    assert enter.field("sample_time").type == pa.uint64()
    switch = pq.read_schema(out / "sched__sched_switch" / "part-0000.parquet")
    assert switch.field("prev_comm").type == pa.string()          # char prev_comm[16]
    assert switch.field("prev_state").type == pa.int64()
    exec_ = pq.read_table(out / "sched__sched_process_exec")
    assert exec_.schema.field("filename").type == pa.string()     # __data_loc char[] filename
    assert "/usr/bin/ls" in exec_.column("filename").to_pylist() or \
        "/bin/ls" in exec_.column("filename").to_pylist()


def test_parts_are_time_ordered(recording: Rec, tmp_path: Path) -> None:
    """Parts hold consecutive runs of perf's order (time order, but for the events perf
    itself delivers out of order), of at most --part-rows rows."""
    import pyarrow.parquet as pq
    whole = pq.read_table(_export(recording, tmp_path / "one") / TABLE, columns=["sample_time"])
    out = _export(recording, tmp_path / "ds", "--part-rows", "700")
    parts = sorted((out / TABLE).glob("part-*.parquet"))
    assert len(parts) > 2
    times = [pq.read_table(p, columns=["sample_time"]).column("sample_time").to_pylist() for p in parts]
    assert all(len(t) == 700 for t in times[:-1]) and 0 < len(times[-1]) <= 700
    assert sum(times, []) == whole.column("sample_time").to_pylist()


@pytest.mark.parametrize("fmt,reader", [("csv", "read_csv"), ("jsonl", "read_json"), ("arrow", None)])
def test_other_formats_count_the_same(recording: Rec, tmp_path: Path, fmt: str, reader: str | None) -> None:
    out = _export(recording, tmp_path / "ds", "--format", fmt, "-e", SYS_ENTER)
    assert [p.name for p in out.iterdir()] == [TABLE]
    glob = f"{out}/{TABLE}/*.{fmt}"
    if reader is None:
        exported = pa.concat_tables(pa.ipc.open_file(str(p)).read_all() for p in sorted((out / TABLE).iterdir()))
        got = by_id(duckdb.sql("SELECT id, count(*) FROM exported GROUP BY id").fetchall())
    else:
        got = _duckdb_counts(glob, reader)
    _same_counts(got, perf_syscall_counts(recording))


def test_filters_as_the_cli(recording: Rec, tmp_path: Path) -> None:
    whole = _export(recording, tmp_path / "whole", "-e", SYS_ENTER)
    (pid, tid), = duckdb.sql(f"SELECT sample_pid, sample_tid FROM read_parquet('{whole}/{TABLE}/*.parquet') "
                             "GROUP BY ALL ORDER BY count(*) DESC LIMIT 1").fetchall()
    for i, args in enumerate((["-C", "1"], ["--time", "10%-40%"], ["--pid", f"{pid},1"], ["--tid", str(tid)],
                              ["--pid", str(pid), "--time", "20%/2"])):
        out = _export(recording, tmp_path / f"ds{i}", "-e", SYS_ENTER, *args)
        got = _duckdb_counts(f"{out}/{TABLE}/*.parquet") if (out / TABLE).exists() else {}
        _same_counts(got, perf_syscall_counts(recording, *args))


def _one_line_error(r: "object", *needles: str) -> None:
    err = r.stderr.decode()
    assert r.returncode != 0 and err.count("\n") == 1 and "Traceback" not in err, err
    for n in needles:
        assert n in err, err


def test_bad_input_one_line(recording: Rec, tmp_path: Path) -> None:
    cut = tmp_path / "cut.data"
    cut.write_bytes(recording.path.read_bytes()[:3000])
    _one_line_error(scripthost("export", "-i", str(cut), "-o", str(tmp_path / "a")), "scripthost:")
    _one_line_error(scripthost("export", "-i", str(tmp_path / "none"), "-o", str(tmp_path / "b")), "cannot open")
    _one_line_error(scripthost("export", *recording.args, "-o", str(tmp_path / "c"), "-e", "no:such"), "no:such")
    _one_line_error(scripthost("export", *recording.args, "-o", str(tmp_path / "d"), "--format", "xml"), "xml")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("")
    _one_line_error(scripthost("export", *recording.args, "-o", str(tmp_path / "full")), "not an empty directory")


def test_missing_extra_names_it(recording: Rec, tmp_path: Path) -> None:
    block = tmp_path / "block" / "pyarrow"
    block.mkdir(parents=True)
    (block / "__init__.py").write_text("raise ImportError('blocked for the test')\n")
    path = os.pathsep.join([str(tmp_path / "block"), os.environ.get("PYTHONPATH", "")])
    r = scripthost("export", *recording.args, "-o", str(tmp_path / "ds"), env={"PYTHONPATH": path})
    _one_line_error(r, "pip install 'scripthost[arrow]'")


def test_progress_only_on_a_tty(recording: Rec, tmp_path: Path) -> None:
    r = scripthost("export", *recording.args, "-o", str(tmp_path / "ds"))
    assert b"\r" not in r.stderr and b"%" not in r.stderr
    import pty
    import subprocess
    master, slave = pty.openpty()
    p = subprocess.run([sys.executable, "-m", "scripthost", "export", *recording.args, "-o",
                        str(tmp_path / "tty")], stderr=slave, stdout=subprocess.DEVNULL, timeout=300)
    os.close(slave)
    seen = b""
    try:
        while True:
            chunk = os.read(master, 65536)
            if not chunk:
                break
            seen += chunk
    except OSError:
        pass
    assert p.returncode == 0
    assert b"export:" in seen and b"rows" in seen
