"""Default output (no script) against `perf script` for every event family the
engine must render, recorded here with the real perf, file mode and pipe mode.
Nothing is masked: both read the same recording on the same host (kernel
symbols for %pS come from the host's kallsyms on both sides)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from conftest import can_record, perf, scripthost

WORKLOAD = str(Path(__file__).parent / "workload.py")
FAMILIES = ["raw_syscalls:*", "syscalls:*", "sched:*", "irq:*", "kmem:*", "timer:*", "skb:*", "net:*",
            "block:*", "workqueue:*"]


@can_record
@pytest.mark.parametrize("mode", ["file", "pipe"])
@pytest.mark.parametrize("family", FAMILIES)
def test_default_output_matches_perf(family: str, mode: str, tmp_path: Path) -> None:
    data = tmp_path / "f.data"
    cmd = ["record", "-q", "-e", family, "-a", "-o", str(data) if mode == "file" else "-", "--",
           sys.executable, WORKLOAD, "getppid=50", "reads=50", "failed_opens=5", "udp=30", "futex=1"]
    r = perf(*cmd)
    if r.returncode < 0:
        pytest.skip(f"perf record itself crashed (signal {-r.returncode}) recording {family} in {mode} mode")
    assert r.returncode == 0, r.stderr.decode()[-500:]
    if mode == "pipe":
        data.write_bytes(r.stdout)
    theirs = perf("script", "-i", str(data))
    ours = scripthost("trace", "-i", str(data))
    assert ours.returncode == 0, ours.stderr.decode()[-1000:]
    t, o = theirs.stdout.splitlines(), ours.stdout.splitlines()
    assert len(o) == len(t)
    if not t:
        pytest.skip(f"no {family} event fired during this recording")
    same = sum(a == b for a, b in zip(o, t))
    assert same / len(t) >= 0.999, [(a, b) for a, b in zip(o, t) if a != b][:3]
    assert ours.stderr == theirs.stderr


CALLCHAIN_MIXES = {
    # a tracepoint with callchains, another without: stacks under the first, the ip and
    # symbol on the second's lines (+offset and dso from a file, the symbol alone from a pipe)
    "tracepoint-stacks": ["-e", "syscalls:sys_enter_read/call-graph=fp/", "-e", "syscalls:sys_exit_read"],
    # from a pipe perf decides per attr as it arrives: a tracepoint after an event with
    # callchains gets its ip shown, one before it does not
    "cpu-clock-first": ["-e", "cpu-clock/call-graph=fp/", "-F", "999", "-e", "syscalls:sys_enter_read"],
    "tracepoint-first": ["-e", "syscalls:sys_enter_read", "-e", "cpu-clock/call-graph=fp/", "-F", "999"],
}


@can_record
@pytest.mark.parametrize("times", [[], ["--ns"]], ids=["us", "ns"])
@pytest.mark.parametrize("mode", ["file", "pipe"])
@pytest.mark.parametrize("mix", list(CALLCHAIN_MIXES))
def test_tracepoints_with_callchains_match_perf(mix: str, mode: str, times: list, tmp_path: Path) -> None:
    data = tmp_path / "f.data"
    r = perf("record", "-q", *CALLCHAIN_MIXES[mix], "-o", str(data) if mode == "file" else "-", "--",
             sys.executable, WORKLOAD, "reads=200")
    assert r.returncode == 0, r.stderr.decode()[-500:]
    if mode == "pipe":
        data.write_bytes(r.stdout)
    theirs = perf("script", *times, "-i", str(data))
    ours = scripthost("trace", *times, "-i", str(data))
    assert ours.returncode == 0, ours.stderr.decode()[-1000:]
    t, o = theirs.stdout.splitlines(), ours.stdout.splitlines()
    assert len(o) == len(t) and len(t) > 50
    same = sum(a == b for a, b in zip(o, t))
    assert same / len(t) >= 0.999, [(a, b) for a, b in zip(o, t) if a != b][:3]
    assert any(line.startswith(b"\t") for line in o)  # stacks were printed
