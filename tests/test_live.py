"""Live mode against ground truth: a static workload that makes exactly N getppid(),
M read() and F failing openat() calls, traced by `scripthost trace NAME -- cmd`."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import IS_ROOT, tracefs_dir

pytestmark = pytest.mark.skipif(not IS_ROOT or tracefs_dir() is None,
                                reason="live tracing needs root and tracefs")

SYSCALL_NAMES = {"getppid": ("getppid", "110"), "read": ("read", "0"), "openat": ("openat", "257")}


def _sh(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "scripthost", *args], capture_output=True,
                          timeout=timeout, text=True)


def _sections(text: str) -> dict[int, list[str]]:
    """`comm [pid]` sections of the by-pid scripts' tables."""
    out: dict[int, list[str]] = {}
    cur = None
    for line in text.splitlines():
        m = re.match(r"^(\S.*) \[\s*(\d+)\]", line)
        if m:
            cur = out.setdefault(int(m.group(2)), [])
        elif cur is not None and line.startswith(" "):
            cur.append(line.strip())
    return out


def _count(lines: list[str], syscall: str) -> int:
    names = SYSCALL_NAMES[syscall]
    for line in lines:
        parts = line.split()
        if len(parts) >= 2 and parts[0] in names and parts[-1].isdigit():
            return int(parts[-1])
    return 0


def _pid_of(text: str, comm: str) -> int:
    pids = [int(m.group(1)) for m in re.finditer(rf"(?m)^{re.escape(comm)} \[\s*(\d+)\]", text)]
    assert len(pids) == 1, text
    return pids[0]


def test_syscall_counts_by_pid_ground_truth(static_workload: str) -> None:
    r = _sh("trace", "syscall-counts-by-pid", "--", static_workload, "300", "70", "11")
    assert r.returncode == 0, r.stderr
    secs = _sections(r.stdout)
    pid = _pid_of(r.stdout, "wl")
    assert _count(secs[pid], "getppid") == 300
    assert _count(secs[pid], "read") == 70
    assert _count(secs[pid], "openat") == 12  # 11 failing + the one that opens /dev/zero
    assert "lost" not in r.stderr


def test_failed_syscalls_by_pid_ground_truth(static_workload: str) -> None:
    r = _sh("trace", "failed-syscalls-by-pid", "--", static_workload, "5", "5", "17")
    assert r.returncode == 0, r.stderr
    pid = _pid_of(r.stdout, "wl")
    block = r.stdout[r.stdout.index(f"[{pid}]"):]
    m = re.search(r"ENOENT\s+(\d+)", block)
    assert m and int(m.group(1)) == 17, r.stdout
    assert "lost" not in r.stderr


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _perf_fds_of(pids: list[int]) -> int:
    n = 0
    for pid in pids:
        try:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                if "perf_event" in os.readlink(f"/proc/{pid}/fd/{fd}"):
                    n += 1
        except OSError:
            pass
    return n


def test_ctrl_c_prints_summary_and_leaves_nothing_behind() -> None:
    p = subprocess.Popen([sys.executable, "-m", "scripthost", "trace", "syscall-counts-by-pid"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(3)
    kids = _children(p.pid)
    assert kids, "the record half should be running"
    assert _perf_fds_of(kids) > 0
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=60)
    assert p.returncode == 0, err
    assert "syscall events" in out
    secs = _sections(out)
    # no feedback loop: neither half of the tracer counts itself
    assert p.pid not in secs and not set(kids) & set(secs), out
    for k in kids:
        assert not Path(f"/proc/{k}").exists() or "zombie" in Path(f"/proc/{k}/status").read_text()


def test_no_permission_names_the_fix() -> None:
    if shutil.which("setpriv") is None:
        pytest.skip("setpriv is needed to drop root")
    paranoid = Path("/proc/sys/kernel/perf_event_paranoid").read_text().strip()
    if int(paranoid) < 1:
        pytest.skip(f"perf_event_paranoid is {paranoid}: unprivileged tracing is allowed here")
    r = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable,
                        "-m", "scripthost", "record", "-e", "raw_syscalls:sys_enter", "-a", "-o", "/dev/null"],
                       capture_output=True, text=True, timeout=60, cwd="/",
                       env={**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent)})
    assert r.returncode != 0
    assert "perf_event_paranoid" in r.stderr and "Traceback" not in r.stderr, r.stderr
