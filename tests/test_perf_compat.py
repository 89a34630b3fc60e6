"""`python -m scripthost.perf`: a script written against mainline perf's Python session
API (perf.data, perf.session(sample=...), process_events) counts syscalls as perf's own
syscall-counts.py does on a recording made by the real perf; its sample attributes are
the recording's; nothing is named `perf` without the opt-in."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from conftest import can_record
from export_fixtures import SYS_ENTER, Rec, perf_syscall_counts, recording  # noqa: F401 (a fixture)

pytestmark = can_record

MAINLINE_SCRIPT = """\
import collections, sys, perf
counts = collections.Counter()
first = {}
def sample(s):
    if str(s.evsel) == "evsel(raw_syscalls:sys_enter)":
        counts[s.id] += 1
        if not first:
            first.update(time=s.sample_time, pid=s.sample_pid, tid=s.sample_tid, cpu=s.sample_cpu,
                         period=s.sample_period, ip=s.sample_ip, type=s.type, common_pid=s.common_pid)
perf.session(perf.data(sys.argv[1]), sample=sample).process_events()
print(repr(dict(counts)))
print(repr(first))
"""


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=300)


def test_mainline_script_counts_as_perf(recording: Rec, tmp_path: Path) -> None:
    script = tmp_path / "mainline.py"
    script.write_text(MAINLINE_SCRIPT)
    r = _run("-m", "scripthost.perf", str(script), str(recording.path))
    assert r.returncode == 0, r.stderr
    counts_line, first_line = r.stdout.splitlines()
    got = {str(k): v for k, v in ast.literal_eval(counts_line).items()}
    want = perf_syscall_counts(recording)
    assert got == want if all(k.isdigit() for k in want) else sorted(got.values()) == sorted(want.values())
    import scripthost
    with scripthost.open(recording.path) as rec:
        ev = next(iter(rec.events(event=SYS_ENTER)))
    first = ast.literal_eval(first_line)
    assert first == {"time": ev.time, "pid": ev.pid, "tid": ev.tid, "cpu": ev.cpu, "period": ev.sample["period"],
                     "ip": ev.sample["ip"], "type": 9, "common_pid": ev.field("common_pid")}


def test_no_perf_module_without_the_opt_in() -> None:
    r = _run("-c", "import scripthost, scripthost.api\ntry:\n import perf\nexcept ImportError:\n print('none')\n"
                   "else:\n print(perf.__file__)")
    assert "scripthost" not in r.stdout, r.stdout
