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

from conftest import IS_ROOT, PERF_EXEC, tracefs_dir

pytestmark = pytest.mark.skipif(not IS_ROOT or tracefs_dir() is None,
                                reason="live tracing needs root and tracefs")

SYSCALL_NAMES = {"getppid": ("getppid", "110"), "read": ("read", "0"), "openat": ("openat", "257")}


def _sh(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "scripthost", *args], capture_output=True,
                          timeout=timeout, text=True, errors="surrogateescape")


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
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, errors="surrogateescape")
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
                       capture_output=True, text=True, errors="surrogateescape", timeout=60, cwd="/",
                       env={**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent)})
    assert r.returncode != 0
    assert "perf_event_paranoid" in r.stderr and "Traceback" not in r.stderr, r.stderr


PERF_BIN = Path(PERF_EXEC or "/nonexistent") / "scripts" / "python" / "bin"
needs_perf_scripts = pytest.mark.skipif(PERF_EXEC is None, reason="perf is not installed")


@needs_perf_scripts
def test_dry_run_captures_every_fallback_and_the_users_args_apart() -> None:
    from scripthost.dryrun import dry_run
    run = dry_run(PERF_BIN / "syscall-counts-record", ["-p", "1 2", "--", "sleep", "*"])
    assert run.records == [["-e", "raw_syscalls:sys_enter"], ["-e", "syscalls:sys_enter"]]
    assert dry_run(PERF_BIN / "flamegraph-record", ["-o", "a b"]).records == [["-g"]]


def _fake_perf_script(tmp_path: Path, record_sh: str) -> "object":
    from scripthost.library import Script
    bindir = tmp_path / "scripts" / "python" / "bin"
    bindir.mkdir(parents=True)
    (bindir / "fake-record").write_text("#!/bin/bash\n" + record_sh)
    return Script(name="fake", language="python", path=tmp_path / "scripts" / "python" / "fake.py",
                  origin="perf", record_script=bindir / "fake-record")


def test_the_first_fallback_this_kernel_has_is_recorded(tmp_path: Path) -> None:
    from scripthost.live import record_options
    s = _fake_perf_script(tmp_path, "(perf record -e nosuch:sys_enter $@ || \\\n"
                                    " perf record -R -e raw_syscalls:sys_enter $@) 2> /dev/null\n")
    assert record_options(s, ["--", "true"]) == ["-R", "-e", "raw_syscalls:sys_enter"]


def test_no_fallback_this_kernel_has_names_the_first(tmp_path: Path) -> None:
    from scripthost.errors import ScripthostError
    from scripthost.live import record_options
    s = _fake_perf_script(tmp_path, "(perf record -e nosuch:a $@ || perf record -e nosuch:b $@) 2>/dev/null\n")
    with pytest.raises(ScripthostError, match=r"^fake cannot run here: unknown tracepoint 'nosuch:a'"):
        record_options(s, [])


def _no_perf_event(pattern: str) -> bool:
    return pattern not in subprocess.run(["perf", "list"], capture_output=True, text=True,
                                         errors="surrogateescape").stdout


@needs_perf_scripts
@pytest.mark.skipif(PERF_EXEC is None or not (_no_perf_event("mem_inst_retired.all_loads") and
                                              _no_perf_event("mem_uops_retired.all_loads")),
                    reason="this machine has a retired-loads event: mem-phys-addr can record")
def test_mem_phys_addr_says_in_one_line_what_perfs_script_says() -> None:
    said = subprocess.run(["/bin/sh", str(PERF_BIN / "mem-phys-addr-record")], capture_output=True,
                          text=True, errors="surrogateescape").stdout.strip()  # perf's script, stopping before perf record
    r = _sh("trace", "mem-phys-addr", "--", "sleep", "2")
    assert r.returncode == 1 and r.stdout == ""
    assert r.stderr == f"scripthost: mem-phys-addr cannot run here: {said}\n"
    assert said == "There is no event to count all retired load instructions/uops."


@needs_perf_scripts
@pytest.mark.skipif(os.path.isdir(f"{tracefs_dir()}/events/powerpc"), reason="this kernel has powerpc:hcall_*")
def test_powerpc_hcalls_names_the_missing_tracepoint_of_its_group() -> None:
    r = _sh("trace", "powerpc-hcalls", "--", "sleep", "2")
    assert r.returncode == 1 and r.stderr.count("\n") == 1, r.stderr
    assert r.stderr.startswith("scripthost: powerpc-hcalls cannot run here: unknown tracepoint "
                               "'powerpc:hcall_entry'"), r.stderr


def test_live_run_whose_record_half_fails_says_why_once() -> None:
    r = _sh("trace", "syscall-counts", "-e", "nosuch:ev", "--", "true")
    assert r.returncode == 1 and r.stdout == "", r.stderr
    assert r.stderr.startswith("scripthost: unknown tracepoint 'nosuch:ev'") and r.stderr.count("\n") == 1, r.stderr


def _pipeline(cmd: str) -> subprocess.CompletedProcess:
    me = f"{sys.executable} -m scripthost"
    return subprocess.run(["bash", "-c", cmd.replace("SH", me) + '; echo "${PIPESTATUS[*]}"'],
                          capture_output=True, text=True, errors="surrogateescape", timeout=120)


@pytest.mark.skipif(PERF_EXEC is None, reason="perf is not installed")
def test_report_half_after_a_failed_record_half_adds_no_line() -> None:
    r = _pipeline("SH trace record syscall-counts -e nosuch:x -- true | SH trace report syscall-counts")
    assert r.stdout.split() == ["1", "255"], r.stdout
    assert r.stderr.startswith("scripthost: unknown tracepoint 'nosuch:x'") and r.stderr.count("\n") == 1, r.stderr
    # an empty pipe alone: perf's status, and no line of ours
    theirs = subprocess.run(["bash", "-c", "true | perf script report syscall-counts"], capture_output=True)
    r = _pipeline("true | SH trace report syscall-counts")
    assert r.stdout.split() == ["0", str(theirs.returncode)] == ["0", "255"] and r.stderr == ""


@pytest.mark.skipif(PERF_EXEC is None, reason="perf is not installed")
def test_report_of_an_empty_file_still_says_so(tmp_path: Path) -> None:
    (tmp_path / "empty.data").write_bytes(b"")
    theirs = subprocess.run(["perf", "script", "-i", str(tmp_path / "empty.data")], capture_output=True)
    r = _sh("trace", "report", "syscall-counts", "-i", str(tmp_path / "empty.data"))
    assert r.returncode == theirs.returncode == 255
    assert r.stderr.startswith("scripthost: empty input") and r.stderr.count("\n") == 1


@pytest.mark.skipif(PERF_EXEC is None, reason="perf is not installed")
def test_an_empty_pipe_exits_with_perfs_status() -> None:
    theirs = subprocess.run(["bash", "-c", ": | perf script -i -"], capture_output=True)
    r = _pipeline(": | SH trace -i -")
    assert r.stdout.split()[-1] == str(theirs.returncode) == "255", (r.stdout, theirs.returncode)
    assert r.stderr.startswith("scripthost: empty input") and r.stderr.count("\n") == 1


@pytest.mark.skipif(PERF_EXEC is None, reason="perf is not installed")
def test_report_of_a_script_that_cannot_run_here_with_empty_stdin_is_one_line() -> None:
    if subprocess.run([sys.executable, "-c", "import wx"], capture_output=True).returncode == 0:
        pytest.skip("wxpython is installed: sched-migration can run here")
    r = _pipeline("true | SH trace report sched-migration")
    assert r.stderr.startswith("scripthost: sched-migration.py cannot run here: ") and r.stderr.count("\n") == 1
    assert r.stdout.split()[1] != "0"
