"""Live mode and the collector with real commands, as a user runs them: the
command's output, input, terminal, signals and exit status are its own, the
syscall counts are exact, and nothing is left behind (no process of the run,
no perf event fd, no tracefs change) however the run ends.

The ground truth is the static workload (tests/workload.c: exactly N getppid(),
M read(), F failing openat()) and the token every process of a run inherits
(tests/livecheck.py)."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from conftest import IS_ROOT, PERF_EXEC, tracefs_dir
from livecheck import (PtyRun, new_token, perf_event_fd_owners, pids_with_token, scripthost_argv,
                       token_env, tracefs_state, wait_for, wait_gone)

pytestmark = pytest.mark.skipif(not IS_ROOT or tracefs_dir() is None,
                                reason="live tracing needs root and tracefs")

GETPPID = ("getppid", "110")


@pytest.fixture
def clean():
    """Checks, after the test, that the run left nothing: no process with its token,
    no new holder of a perf event fd, tracefs as it was."""
    token = new_token()
    before_fds = perf_event_fd_owners()
    before_tracefs = tracefs_state(tracefs_dir())
    yield token
    left = wait_gone(token)
    for pid in left:  # so that one failure does not leave a mess for the next tests
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    assert not left, f"processes left behind: {[_cmdline(p) for p in left]}"
    # a new holder of perf event fds that is the run's or an orphaned scripthost (tools that
    # run perf meanwhile, such as a concurrent test run, are not ours to judge)
    ours = set(pids_with_token(token))
    new_owners = [p for p in perf_event_fd_owners() - before_fds
                  if p in ours or ("scripthost" in _cmdline(p) and _ppid(p) == 1)]
    assert not new_owners, f"perf event fds left in {[_cmdline(p) for p in new_owners]}"
    assert tracefs_state(tracefs_dir()) == before_tracefs


def _cmdline(pid: int) -> str:
    try:
        return f"{pid}: " + Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return str(pid)


def _ppid(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/stat").read_bytes().rsplit(b")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return 0


def _started(token: str, prefix: str) -> list[int]:
    """The run's processes whose command line starts with ``prefix``."""
    return [p for p in pids_with_token(token) if _cmdline(p).split(": ", 1)[-1].startswith(prefix)]


def _run(token: str, *args: str, input: bytes | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(scripthost_argv(*args), input=input, capture_output=True,
                          env=token_env(token), timeout=timeout)


def _getppid_by_comm(report: str, comm: str) -> list[int]:
    """getppid counts of every `comm [pid]` section of a by-pid report."""
    counts, cur = [], None
    for line in report.splitlines():
        m = re.match(r"^(\S.*) \[\s*(\d+)\]", line)
        if m:
            cur = m.group(1)
        elif cur == comm and line.split()[:1] and line.split()[0] in GETPPID:
            counts.append(int(line.split()[-1]))
    return counts


def test_command_keeps_stdout_and_stderr(clean: str, static_workload: str) -> None:
    r = _run(clean, "trace", "syscall-counts-by-pid", "--", "sh", "-c",
             f"{static_workload} 300 70 11; echo OUT-LINE; echo ERR-LINE >&2")
    assert r.returncode == 0, r.stderr
    out = r.stdout.decode()
    assert "OUT-LINE" in out and out.index("OUT-LINE") < out.index("syscall events")
    assert b"ERR-LINE" in r.stderr and b"OUT-LINE" not in r.stderr
    assert _getppid_by_comm(out, "wl") == [300]


def test_command_reads_our_stdin(clean: str) -> None:
    r = _run(clean, "trace", "syscall-counts", "--", "sh", "-c", 'read x; echo "got $x"',
             input=b"hello\n")
    assert r.returncode == 0, r.stderr
    assert b"got hello" in r.stdout


def test_record_to_stdout_sends_the_command_output_to_stderr(clean: str, static_workload: str) -> None:
    """With the stream on stdout (`record -o -`), the command's stdout goes to stderr, as
    with perf: the stream stays readable by perf itself."""
    if PERF_EXEC is None:
        pytest.skip("perf is not installed")
    r = _run(clean, "record", "-e", "raw_syscalls:sys_enter", "-o", "-", "--", "sh", "-c",
             f"echo HELLO; {static_workload} 25 0 0")
    assert r.returncode == 0 and b"HELLO" in r.stderr
    p = subprocess.run(["perf", "script", "-i", "-"], input=r.stdout, capture_output=True)
    assert p.returncode == 0, p.stderr
    assert sum(1 for line in p.stdout.decode().splitlines()
               if line.split()[:1] == ["wl"] and "NR 110 " in line) == 25


def test_children_and_grandchildren_are_counted(clean: str, static_workload: str) -> None:
    r = _run(clean, "trace", "syscall-counts-by-pid", "--", "sh", "-c",
             f"sh -c '{static_workload} 100 0 0' & {static_workload} 50 0 0; wait")
    assert r.returncode == 0, r.stderr
    assert sorted(_getppid_by_comm(r.stdout.decode(), "wl")) == [50, 100]


@pytest.mark.parametrize("argv, status, message", [
    (["sh", "-c", "exit 3"], 3, None),
    (["/nonexistent/cmd"], 255, "cannot run '/nonexistent/cmd': No such file or directory"),
    (["no-such-command-here"], 255, "cannot run 'no-such-command-here': command not found"),
    (["/etc/passwd"], 255, "cannot run '/etc/passwd': Permission denied"),
])
@pytest.mark.parametrize("mode", ["live", "record"])
def test_exit_status_is_the_command(clean: str, tmp_path: Path, mode: str, argv: list[str], status: int,
                                   message: str | None) -> None:
    args = (["trace", "syscall-counts"] if mode == "live"
            else ["record", "-e", "raw_syscalls:sys_enter", "-o", str(tmp_path / "x.data")])
    r = _run(clean, *args, "--", *argv)
    assert r.returncode == status, r.stderr
    err = r.stderr.decode()
    assert "Traceback" not in err
    if message is not None:
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"scripthost: {message}"), err
        assert not (tmp_path / "x.data").exists() or mode == "live"


def test_command_has_the_terminal(clean: str) -> None:
    run = PtyRun(scripthost_argv("trace", "syscall-counts", "--", "sh", "-c",
                                 'echo TTY-READY >/dev/tty; read x </dev/tty; echo "tty gave $x"'),
                 token_env(clean))
    assert run.read_until(b"TTY-READY"), run.text
    run.type(b"typed-line\n")
    assert run.finish() == 0, run.text
    assert "tty gave typed-line" in run.text and "syscall events" in run.text


def test_interactive_shell_has_job_control(clean: str) -> None:
    run = PtyRun(scripthost_argv("trace", "syscall-counts", "--", "bash", "--norc", "--noprofile", "-i"),
                 token_env(clean, PS1="PROMPT> "))
    assert run.read_until(b"PROMPT> "), run.text
    run.type(b"sleep 30 & jobs; echo JOBS-$((40+2))\n")
    assert run.read_until(b"JOBS-42"), run.text
    assert "no job control" not in run.text
    assert re.search(r"\[1\]\+\s+Running\s+sleep 30", run.text), run.text
    run.type(b"kill %1; exit\n")
    assert run.finish() == 0, run.text
    assert "syscall events" in run.text


def test_ctrl_c_at_the_terminal_with_children_running(clean: str) -> None:
    run = PtyRun(scripthost_argv("trace", "syscall-counts-by-pid", "--", "sh", "-c",
                                 "sleep 41 & sleep 42; echo not-reached"), token_env(clean))
    assert run.read_until(b"Press control+C"), run.text
    assert wait_for(lambda: len(_started(clean, "sleep 4")) == 2)
    t0 = time.monotonic()
    run.type(b"\x03")
    status = run.finish(timeout=30)
    assert time.monotonic() - t0 < 15, "Ctrl-C must not wait for the command's children"
    assert status == -signal.SIGINT, run.text  # the command died of SIGINT: so do we, as perf
    assert "syscall events by comm/pid" in run.text and "not-reached" not in run.text
    assert "Traceback" not in run.text


def test_sigterm_prints_the_summary_and_stops_the_command(clean: str) -> None:
    p = subprocess.Popen(scripthost_argv("trace", "syscall-counts", "--", "sh", "-c", "sleep 43; echo x"),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=token_env(clean))
    assert wait_for(lambda: _started(clean, "sleep 43"))
    p.send_signal(signal.SIGTERM)
    out, err = p.communicate(timeout=30)
    assert b"syscall events" in out and b"Traceback" not in err
    assert p.returncode == -signal.SIGTERM  # the command ended by our SIGTERM, as perf ends it


@pytest.mark.parametrize("victim", ["scripthost", "record half"])
def test_sigkill_of_either_half_leaves_nothing(clean: str, victim: str) -> None:
    p = subprocess.Popen(scripthost_argv("trace", "syscall-counts", "--", "sh", "-c", "sleep 44 & sleep 45"),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=token_env(clean))
    assert wait_for(lambda: len(_started(clean, "sleep 4")) == 2)
    if victim == "scripthost":
        p.kill()
        p.communicate(timeout=30)
        return  # the fixture checks that the record half and the command went with it
    half = [q for q in pids_with_token(clean) if " -m scripthost record " in _cmdline(q)]
    assert len(half) == 1
    os.kill(half[0], signal.SIGKILL)
    out, err = p.communicate(timeout=30)
    assert p.returncode == 1
    lines = [line for line in err.decode().splitlines() if line.startswith("scripthost:")]
    assert lines == ["scripthost: the record half was killed by signal 9; "
                     "the output above covers what it had recorded"], err
    assert b"Traceback" not in err and b"syscall events" in out


@pytest.mark.skipif(shutil.which("perl") is None, reason="perl is not installed")
def test_sigkill_of_the_perl_bridge(clean: str) -> None:
    p = subprocess.Popen(scripthost_argv("trace", "syscall-counts.pl", "--", "sh", "-c",
                                         "while :; do sleep 0.01; done"),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=token_env(clean))
    # the bridge's perl shows the script's path as its command line, as perf's perl does (and
    # its $0 overwrites its environment, token included): found as scripthost's child
    def bridge() -> list[int]:
        kids = Path(f"/proc/{p.pid}/task/{p.pid}/children").read_text().split()
        return [int(q) for q in kids if _cmdline(int(q)).rstrip().endswith("/syscall-counts.pl")]
    assert wait_for(lambda: _started(clean, "sleep 0.01") and bridge())
    os.kill(bridge()[0], signal.SIGKILL)
    out, err = p.communicate(timeout=30)
    assert p.returncode != 0
    lines = [line for line in err.decode().splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("scripthost: ") and "perl" in lines[0], err


def _busy_cpu0(token: str) -> subprocess.Popen:
    return subprocess.Popen(["taskset", "-c", "0", "sh", "-c", "while :; do /bin/true; done"],
                            env=token_env(token))


@pytest.mark.skipif(shutil.which("taskset") is None or PERF_EXEC is None, reason="needs taskset and perf")
def test_cpu_list_with_a_command_records_the_whole_cpu(clean: str, tmp_path: Path, static_workload: str) -> None:
    busy = _busy_cpu0(clean)
    try:
        out = tmp_path / "c.data"
        r = _run(clean, "record", "-e", "raw_syscalls:sys_enter", "-C", "0", "-o", str(out), "--",
                 "taskset", "-c", "0", static_workload, "200", "0", "0", "300")
        assert r.returncode == 0, r.stderr
    finally:
        busy.kill()
        busy.wait()
    lines = subprocess.run(["perf", "script", "-i", str(out), "-F", "comm,cpu,event,trace"],
                           capture_output=True, text=True, errors="surrogateescape").stdout.splitlines()
    assert lines and all("[000]" in line for line in lines)
    comms = {line.split()[0] for line in lines}
    assert {"wl", "true"} <= comms  # the command's and another process's, all of CPU 0
    assert sum(1 for line in lines if line.split()[0] == "wl" and "NR 110 " in line) == 200


def _family(static_workload: str) -> list[str]:
    return ["sh", "-c", f"sleep 1; {static_workload} 77 0 0; sleep 0.5"]


@pytest.mark.skipif(PERF_EXEC is None, reason="perf is not installed")
@pytest.mark.parametrize("flag, wl_getppid", [("-p", 77), ("-t", 0)])
def test_pid_follows_children_tid_does_not(clean: str, tmp_path: Path, static_workload: str, flag: str,
                                           wl_getppid: int) -> None:
    target = subprocess.Popen(_family(static_workload), env=token_env(clean))
    out = tmp_path / "p.data"
    r = _run(clean, "record", "-q", "-e", "raw_syscalls:sys_enter", flag, str(target.pid), "-o", str(out))
    target.wait()
    assert r.returncode == 0, r.stderr
    lines = subprocess.run(["perf", "script", "-i", str(out), "-F", "comm,tid,trace"],
                           capture_output=True, text=True, errors="surrogateescape").stdout.splitlines()
    assert sum(1 for line in lines if line.split()[0] == "wl" and "NR 110 " in line) == wl_getppid
    assert any(line.split()[:2] == ["sh", str(target.pid)] for line in lines)


BUSY = ["sh", "-c", "i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done"]


@pytest.mark.skipif(PERF_EXEC is None, reason="perf is not installed")
def test_no_event_samples_like_perf(clean: str, tmp_path: Path) -> None:
    out = tmp_path / "d.data"
    r = _run(clean, "record", "-o", str(out), "--", *BUSY)
    assert r.returncode == 0, r.stderr
    ours = subprocess.run(["perf", "script", "-i", str(out), "-F", "comm,event"], capture_output=True,
                          text=True, errors="surrogateescape").stdout.split()
    theirs = subprocess.run(["perf", "record", "-q", "-o", str(tmp_path / "p.data"), "--", *BUSY],
                            capture_output=True)
    assert theirs.returncode == 0
    perf_event = subprocess.run(["perf", "script", "-i", str(tmp_path / "p.data"), "-F", "event"],
                                capture_output=True, text=True, errors="surrogateescape").stdout.split()[0]
    # perf names its default event with the precise modifier it asked for (cycles:P, or
    # cpu-clock:ppp after the fallback); the event itself is the same
    assert ours[1].rstrip(":") == perf_event.split(":")[0] and ours[0] == "sh"


@pytest.mark.skipif(shutil.which("setpriv") is None or PERF_EXEC is None, reason="needs setpriv and perf")
def test_unprivileged_user_records_cpu_clock() -> None:
    paranoid = int(Path("/proc/sys/kernel/perf_event_paranoid").read_text())
    if paranoid < 2:
        pytest.skip(f"perf_event_paranoid is {paranoid}: kernel profiling is allowed here")
    shared = Path(tempfile.mkdtemp(prefix="scripthost-nobody-"))  # pytest's tmp_path is root's alone
    os.chmod(shared, 0o777)
    out = shared / "u.data"
    env = {**os.environ, "PYTHONPATH": os.environ.get("PYTHONPATH", str(Path(__file__).parent.parent))}
    r = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable, "-m",
                        "scripthost", "record", "-e", "cpu-clock", "-o", str(out), "--", *BUSY],
                       capture_output=True, text=True, errors="surrogateescape", timeout=120, cwd="/", env=env)
    assert r.returncode == 0, r.stderr
    lines = subprocess.run(["perf", "script", "-f", "-i", str(out), "-F", "comm,event,ip"], capture_output=True,
                           text=True, errors="surrogateescape").stdout.splitlines()
    assert lines and all(line.split()[:2] == ["sh", "cpu-clock:u:"] for line in lines)
    assert all(int(line.split()[2], 16) < 1 << 47 for line in lines)  # user space only
    shutil.rmtree(shared)


def test_flamegraph_live_with_its_own_options(clean: str, tmp_path: Path) -> None:
    svg, folded = tmp_path / "x.svg", tmp_path / "x.folded"
    r = _run(clean, "trace", "flamegraph", "-o", str(svg), "--title", "Live Title", "--", *BUSY)
    assert r.returncode == 0, r.stderr
    assert "Live Title" in svg.read_text()
    r = _run(clean, "trace", "flamegraph", "--format", "folded", "-o", str(folded), "--", *BUSY)
    assert r.returncode == 0, r.stderr
    stacks = folded.read_text().splitlines()
    assert stacks and all(s.startswith("sh;") or s.startswith("sh ") for s in stacks), stacks[:5]


def _listed() -> list[tuple[str, list[str]]]:
    """(name as `-l` prints it, a word for each <required> argument) for every script."""
    r = subprocess.run(scripthost_argv("trace", "-l"), capture_output=True, text=True, errors="surrogateescape",
                       timeout=60)
    out = []
    for line in r.stdout.splitlines()[1:]:
        head = line.split(" [", 1)[0].split()
        out.append((head[0], ["sleep" for a in head[1:] if a.startswith("<")]))
    return out


@pytest.mark.parametrize("name, required", _listed() if IS_ROOT else [])
def test_every_listed_script_runs_live_or_says_why(clean: str, tmp_path: Path, name: str,
                                                   required: list[str]) -> None:
    """What `-l` prints works as printed: live over a 2 s command, a script prints (or
    writes) its output, or says in one line why it cannot run on this machine."""
    r = subprocess.run(scripthost_argv("trace", name, *required, "--", "sleep", "2"), capture_output=True,
                       text=True, errors="surrogateescape", env=token_env(clean), timeout=120, cwd=tmp_path,
                       stdin=subprocess.DEVNULL)
    err = r.stderr
    assert "Traceback" not in err, err
    if r.returncode == 0:
        assert r.stdout.strip() or any(tmp_path.iterdir()), f"{name}: no output at all"
    else:
        ours = [line for line in err.splitlines() if line.startswith("scripthost:")]
        assert len(ours) == 1 and len(err.strip().splitlines()) == 1, err
