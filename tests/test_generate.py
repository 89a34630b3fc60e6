"""`scripthost trace -g LANG`: each generated skeleton runs unchanged over the
recording it came from and names every field of every event."""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

import pytest

from conftest import DATA, can_record, perf, scripthost

REC = str(DATA / "engine" / "small.data")


@pytest.mark.parametrize("lang,ext", [("python", "py"), ("perl", "pl"), ("lua", "lua")])
def test_generated_skeleton_runs_over_its_recording(lang: str, ext: str, tmp_path: Path) -> None:
    if lang == "perl" and shutil.which("perl") is None:
        pytest.skip("perl is not installed")
    if lang == "lua":
        pytest.importorskip("lupa", reason="lupa is not installed")
    g = scripthost("trace", "-g", lang, "-i", REC, cwd=str(tmp_path))
    assert g.returncode == 0, g.stderr
    script = tmp_path / f"perf-script.{ext}"
    text = script.read_text()
    for name in ("prev_comm", "next_pid", "target_cpu", "args", "ret"):
        assert name in text
    r = scripthost("trace", "-i", REC, "-s", str(script), cwd=str(tmp_path))
    assert r.returncode == 0, r.stderr.decode()[-2000:]
    out = r.stdout.decode("utf-8", "replace")
    assert "in trace_begin" in out and "in trace_end" in out
    assert "prev_comm=" in out and "next_pid=" in out
    assert out.count("\n") > 500


def test_bad_language_is_one_line() -> None:
    r = scripthost("trace", "-g", "cobol", "-i", REC)
    assert r.returncode != 0 and b"invalid language" in r.stderr and r.stderr.count(b"\n") == 1


def _functions(text: str) -> dict[str, ast.FunctionDef]:
    return {f.name: f for f in ast.parse(text).body if isinstance(f, ast.FunctionDef)}


@can_record
@pytest.mark.parametrize("events", ["sched:*", "irq:*"])
def test_python_skeleton_is_perfs(events: str, tmp_path: Path) -> None:
    """`-g python` against `perf script -g python` on the same recording: the same
    functions in the same order with the same parameters, each handler's field line
    the same statement (flag_str / symbol_str for the fields shown with __print_flags /
    __print_symbolic), and our skeleton prints, under perf and under us, what perf's
    prints under perf."""
    data = tmp_path / "rec.data"
    r = perf("record", "-q", "-e", events, "-a", "-o", str(data), "--", "sleep", "0.3")
    assert r.returncode == 0, r.stderr.decode()
    (tmp_path / "perf").mkdir()
    (tmp_path / "ours").mkdir()
    g = perf("script", "-i", str(data), "-g", "python", cwd=str(tmp_path / "perf"))
    ours_g = scripthost("trace", "-i", str(data), "-g", "python", cwd=str(tmp_path / "ours"))
    assert g.returncode == 0 and ours_g.returncode == 0, ours_g.stderr.decode()
    assert ours_g.stderr == g.stderr == b"generated Python script: perf-script.py\n"
    theirs_py, ours_py = (tmp_path / d / "perf-script.py" for d in ("perf", "ours"))
    want, got = _functions(theirs_py.read_text()), _functions(ours_py.read_text())
    assert list(got) == list(want)
    marked = 0
    for name, fn in want.items():
        assert ast.dump(got[name].args) == ast.dump(fn.args), name
        if "__" in name:  # a tracepoint's handler: print_header, then the fields' line
            assert [ast.dump(s) for s in got[name].body[:2]] == [ast.dump(s) for s in fn.body[:2]], name
            marked += "flag_str" in ast.dump(fn.body[1]) or "symbol_str" in ast.dump(fn.body[1])
    assert marked >= (2 if events == "sched:*" else 3)
    reference = perf("script", "-i", str(data), "-s", str(theirs_py))
    by_perf = perf("script", "-i", str(data), "-s", str(ours_py))
    by_us = scripthost("trace", "-i", str(data), "-s", str(ours_py))
    assert reference.returncode == by_perf.returncode == by_us.returncode == 0, by_us.stderr.decode()
    assert by_perf.stdout == reference.stdout
    assert by_us.stdout == reference.stdout
    assert reference.stdout.count(b"Sample: {") > 20
