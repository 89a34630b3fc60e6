"""The callchain options of the default output (-G/--hide-call-graph), each against the real
`perf script` on -g recordings made in the test: file and pipe mode, tracepoints and
cpu-clock samples, one event or both."""
from __future__ import annotations

from pathlib import Path

import pytest

from conftest import can_record, perf, record_input, scripthost

BUSY = ["python3", "-c", "import os, time\nt = time.time()\nwhile time.time() - t < 0.2: os.getppid()"]
EVENTS = {
    "tracepoint": ["-e", "raw_syscalls:sys_enter"],
    "cpu-clock": ["-e", "cpu-clock", "-c", "100000"],
    "both": ["-e", "raw_syscalls:sys_enter", "-e", "cpu-clock", "-c", "100000"],
}


@can_record
@pytest.mark.parametrize("mode", ["file", "pipe"])
@pytest.mark.parametrize("events", sorted(EVENTS))
@pytest.mark.parametrize("flag", ["-G", "--hide-call-graph"])
def test_hide_call_graph_matches_perf(tmp_path: Path, mode: str, events: str, flag: str) -> None:
    args, stdin = record_input(tmp_path, mode, "-g", *EVENTS[events], "--", *BUSY)
    p = perf("script", flag, *args, input=stdin)
    s = scripthost("trace", flag, *args, input=stdin)
    assert p.returncode == s.returncode == 0, s.stderr.decode()
    assert p.stdout.count(b"\n") > 10
    assert s.stdout == p.stdout
