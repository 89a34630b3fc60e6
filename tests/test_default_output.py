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
            "block:*", "workqueue:*",
            "rcu:*",        # %s of a kernel string pointer: the recording's printk formats
            "tcp:*",        # %pI4, %pI6c of IPv4-mapped addresses
            "writeback:*",  # unsigned arithmetic: (jiffies - REC->dirtied_when) / 250
            "mmap:*"]       # __builtin_expect(cond, 0) ? ... : ...


def _record(tmp_path: Path, mode: str, events: list[str], cmd: list[str]) -> tuple[Path, int]:
    """perf record into a file, or into a pipe-mode stream kept in one: (path, exit code)."""
    data = tmp_path / "f.data"
    r = perf("record", "-q", *events, "-o", str(data) if mode == "file" else "-", "--", *cmd)
    if r.returncode == 0 and mode == "pipe":
        data.write_bytes(r.stdout)
    assert r.returncode <= 0, r.stderr.decode()[-500:]
    return data, r.returncode


def _read_both(data: Path, *opts: str) -> tuple[list[bytes], list[bytes], bytes, bytes]:
    """perf script's and our default output of ``data``: (their lines, ours, their stderr, ours)."""
    theirs = perf("script", *opts, "-i", str(data))
    ours = scripthost("trace", *opts, "-i", str(data))
    assert ours.returncode == 0, ours.stderr.decode()[-1000:]
    return theirs.stdout.splitlines(), ours.stdout.splitlines(), theirs.stderr, ours.stderr


@can_record
@pytest.mark.parametrize("mode", ["file", "pipe"])
@pytest.mark.parametrize("family", FAMILIES)
def test_default_output_matches_perf(family: str, mode: str, tmp_path: Path) -> None:
    data, rc = _record(tmp_path, mode, ["-e", family, "-a"],
                       [sys.executable, WORKLOAD, "getppid=50", "reads=50", "failed_opens=5", "udp=30",
                        "futex=1", "tcp=1", "fsync=256"])
    if rc < 0:
        pytest.skip(f"perf record itself crashed (signal {-rc}) recording {family} in {mode} mode")
    t, o, terr, oerr = _read_both(data)
    assert len(o) == len(t)
    if not t:
        pytest.skip(f"no {family} event fired during this recording")
    same = sum(a == b for a, b in zip(o, t))
    assert same / len(t) >= 0.999, [(a, b) for a, b in zip(o, t) if a != b][:3]
    assert oerr == terr


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
    data, rc = _record(tmp_path, mode, CALLCHAIN_MIXES[mix], [sys.executable, WORKLOAD, "reads=200"])
    assert rc == 0
    t, o, _, _ = _read_both(data, *times)
    assert len(o) == len(t) and len(t) > 50
    same = sum(a == b for a, b in zip(o, t))
    assert same / len(t) >= 0.999, [(a, b) for a, b in zip(o, t) if a != b][:3]
    assert any(line.startswith(b"\t") for line in o)  # stacks were printed

@can_record
@pytest.mark.parametrize("mode", ["file", "pipe"])
def test_page_faults_of_a_dynamic_program_match_perf(mode: str, tmp_path: Path) -> None:
    """Every page fault of `ls` with its stack, through ld.so and libc: their PLT slots
    included (perf 6.1 names a slot without a symbol, an IFUNC's, plain "@plt")."""
    data, rc = _record(tmp_path, mode, ["-e", "page-faults", "-c", "1", "-g"], ["ls", "/"])
    assert rc == 0
    t, o, _, _ = _read_both(data)
    assert len(t) > 50
    assert o == t
