"""`scripthost trace -g LANG`: each generated skeleton runs unchanged over the
recording it came from and names every field of every event."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conftest import DATA, scripthost

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
