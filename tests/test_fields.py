"""-F/--fields of the default output against the real `perf script` on recordings made
in the test (file mode; tracepoints, cpu-clock -g, both): the chosen columns, per-type
lists, +/- forms, and perf's errors and exit statuses for bad or unsuppliable fields."""
from __future__ import annotations

from pathlib import Path

import pytest

from conftest import can_record, perf, record_input, scripthost

BUSY = ["python3", "-c", "import os, time\nt = time.time()\nwhile time.time() - t < 0.2: os.getppid()"]
EVENTS = {
    "tracepoint": ["-e", "sched:sched_switch", "-e", "raw_syscalls:sys_enter", "-a"],
    "cpu-clock-g": ["-g", "-e", "cpu-clock", "-c", "100000"],
    "both-g": ["-g", "-e", "raw_syscalls:sys_enter", "-e", "cpu-clock", "-c", "100000"],
}
FIELDS = ["comm,pid,tid,cpu,time,event,ip,sym,dso", "comm,pid,tid,time,event,ip,sym,dso", "+pid",
          "-time", "+pid,-time", "ip,sym", "ip,sym,symoff,dso", "ip", "sym", "comm,tid,time",
          "period,event", "time,event,trace", "tid,pid", "pid", "cpu,comm", "trace", "sw:comm,tid",
          "sw:+pid", "trace:comm,tid", "trace:time,event,trace,ip,sym", "comm,event,ip,dso", "+cpu",
          "addr", "comm,-tid", "bogus", "foo:comm", "sw:comm,trace"]


@can_record
@pytest.mark.parametrize("events", sorted(EVENTS))
def test_fields_match_perf(tmp_path: Path, events: str) -> None:
    args, stdin = record_input(tmp_path, "file", *EVENTS[events], "--", *BUSY)
    for spec in FIELDS:
        p = perf("script", "-F", spec, *args, input=stdin)
        s = scripthost("trace", "-F", spec, *args, input=stdin)
        assert s.returncode == p.returncode, (spec, s.stderr.decode())
        assert s.stdout == p.stdout, spec
        if p.returncode in (129, 255):  # perf's words after our "scripthost: " prefix
            assert p.stderr.splitlines()[0] in s.stderr, spec
