"""The collector against the real perf: `perf script -i -` reads our stream and
prints the same events as for `perf record` of the same workload, and our own
engine reads both."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path


from conftest import can_record, perf, scripthost



def _syscalls_of(text: str, comm: str) -> list[str]:
    """`comm event: NR n` per line for one program: what both recordings must agree on
    (pids, CPUs, times and ASLR'd pointer arguments differ between two runs)."""
    out = []
    for line in text.splitlines():
        m = re.match(r"\s*(\S+)\s+\d+\s+\[\d+\]\s+[\d.]+:\s+(\S+):\s+NR (\d+)", line)
        if m and m.group(1) == comm:
            out.append(f"{m.group(2)} {m.group(3)}")
    return out


@can_record
def test_perf_reads_our_stream_like_its_own(static_workload: str, tmp_path: Path) -> None:
    ev = ["-e", "raw_syscalls:sys_enter", "-e", "raw_syscalls:sys_exit"]
    ours = scripthost("record", *ev, "-o", "-", "--", static_workload, "40", "7", "3")
    assert ours.returncode == 0, ours.stderr
    theirs = perf("record", "-q", *ev, "-o", "-", "--", static_workload, "40", "7", "3")
    perf_on_ours = perf("script", "-i", "-", input=ours.stdout)
    perf_on_theirs = perf("script", "-i", "-", input=theirs.stdout)
    assert perf_on_ours.returncode == 0 and b"failed to process" not in perf_on_ours.stderr
    a = _syscalls_of(perf_on_ours.stdout.decode(), "wl")
    b = _syscalls_of(perf_on_theirs.stdout.decode(), "wl")
    assert a == b and a.count("raw_syscalls:sys_enter 110") == 40
    # our engine prints exactly what perf prints for our stream
    assert scripthost("trace", "-i", "-", input=ours.stdout).stdout == perf_on_ours.stdout
    assert perf("script", "-i", "-", "--header-only", input=ours.stdout).returncode == 0


@can_record
def test_exact_counts_and_no_self_events(static_workload: str, tmp_path: Path) -> None:
    out = tmp_path / "a.data"
    r = scripthost("record", "-e", "raw_syscalls:sys_enter", "-o", str(out), "--", static_workload, "123", "0", "0")
    assert r.returncode == 0
    text = perf("script", "-i", str(out)).stdout.decode()
    assert _syscalls_of(text, "wl").count("raw_syscalls:sys_enter 110") == 123
    sw = tmp_path / "sw.data"
    p = subprocess.Popen([sys.executable, "-m", "scripthost", "record", "-e", "raw_syscalls:sys_enter",
                          "-a", "-o", str(sw), "--", "sleep", "1"], stderr=subprocess.PIPE)
    assert p.wait(timeout=60) == 0
    pids = {int(m.group(1)) for m in re.finditer(r"^\s*\S+\s+(\d+)\s", perf("script", "-i", str(sw)).stdout.decode(), re.M)}
    assert p.pid not in pids, "the recorder must leave out its own events by default"


@can_record
def test_unknown_event_is_one_line() -> None:
    r = scripthost("record", "-e", "nosuch:event", "-a", "-o", "/dev/null")
    assert r.returncode != 0 and b"unknown tracepoint" in r.stderr and r.stderr.count(b"\n") == 1


@can_record
def test_event_group_records_each_member_as_perf_does(static_workload: str) -> None:
    group = "{raw_syscalls:sys_enter,raw_syscalls:sys_exit}"
    ours = scripthost("record", "-e", group, "-o", "-", "--", static_workload, "30", "0", "0")
    theirs = perf("record", "-q", "-e", group, "-o", "-", "--", static_workload, "30", "0", "0")
    assert ours.returncode == theirs.returncode == 0, ours.stderr
    a = _syscalls_of(perf("script", "-i", "-", input=ours.stdout).stdout.decode(), "wl")
    b = _syscalls_of(perf("script", "-i", "-", input=theirs.stdout).stdout.decode(), "wl")
    assert a == b and a.count("raw_syscalls:sys_enter 110") == a.count("raw_syscalls:sys_exit 110") == 30


@can_record
def test_event_group_with_a_missing_member_names_it() -> None:
    r = scripthost("record", "-e", "{raw_syscalls:sys_enter,nosuch:hcall_exit}", "-a", "-o", "/dev/null")
    assert r.returncode != 0 and r.stderr.count(b"\n") == 1, r.stderr
    assert r.stderr.startswith(b"scripthost: unknown tracepoint 'nosuch:hcall_exit'")
