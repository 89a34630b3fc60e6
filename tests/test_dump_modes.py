"""-d/--debug-mode and --per-event-dump against the real perf 6.1: stdout, stderr, exit
status and (--per-event-dump) every file written, byte for byte, file and pipe mode."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import pytest

from conftest import can_record, perf, record_input, scripthost
from test_ordering import _cpu_rounds, _stream

RECORDINGS = {
    "tp-a": ("-a", "-e", "sched:sched_switch", "--", "sleep", "0.2"),
    "mixed-cmd": ("-e", "raw_syscalls:sys_enter", "-e", "cpu-clock", "--", "sh", "-c", "ls -R /usr/lib >/dev/null"),
}


def _run_both(tmp_path: Path, inp: list[str], stdin: bytes | None, *options: str) -> tuple[tuple, tuple]:
    """Each tool in a directory of its own (per-event dumps land in the cwd for a relative
    or pipe input): status, stdout, stderr, and the files it left there."""
    results = []
    for name, run in (("perf", lambda *a, **k: perf("script", *a, **k)),
                      ("ours", lambda *a, **k: scripthost("trace", *a, **k))):
        cwd = tmp_path / name
        cwd.mkdir()
        r = run(*inp, *options, input=stdin, cwd=str(cwd))
        files = {p.name: p.read_bytes() for p in sorted(cwd.iterdir())}
        results.append((r.returncode, r.stdout, r.stderr, files))
    return results[0], results[1]


@can_record
@pytest.mark.parametrize("mode", ["file", "pipe"])
@pytest.mark.parametrize("which", sorted(RECORDINGS))
@pytest.mark.parametrize("options", [("--per-event-dump",), ("--per-event-dump", "--show-task-events"),
                                     ("-d",), ("-d", "--show-task-events")], ids=["dump", "dump-task", "d", "d-task"])
def test_modes_equal_perfs(tmp_path: Path, mode: str, which: str, options: tuple) -> None:
    (tmp_path / "rec").mkdir()
    inp, stdin = record_input(tmp_path / "rec", mode, *RECORDINGS[which])
    theirs, ours = _run_both(tmp_path, inp, stdin, *options)
    if "--per-event-dump" in options:
        assert theirs[1].count(b"[ perf script: Wrote ") >= 2
    assert ours == theirs


@pytest.mark.skipif(shutil.which("perf") is None, reason="perf is not installed")
@pytest.mark.parametrize("seed", [0, 3, 5])
def test_debug_mode_says_each_misordered_sample_as_perf(tmp_path: Path, seed: int) -> None:
    """Streams with late events, read unordered (--show-round-events) and ordered: perf's
    "Samples misordered" lines, its count, its out-of-order warning."""
    stream = _stream(_cpu_rounds(random.Random(seed), 3, 200, 0.05))
    for options in (("-d", "-F", "tid,time"), ("-d", "-F", "tid,time", "--show-round-events")):
        want = perf("script", "-i", "-", *options, input=stream)
        got = scripthost("trace", "-i", "-", *options, input=stream)
        assert b"Misordered timestamps: " in want.stderr
        assert (got.returncode, got.stdout, got.stderr) == (want.returncode, want.stdout, want.stderr)
    assert b"Samples misordered, previous: " in want.stderr
