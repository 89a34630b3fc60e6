"""Every argument perf passes to Python handlers, by repr(), under perf and scripthost."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from conftest import DATA, PERF_EXEC, can_record, needs_perf, perf, scripthost

PROBE = str(Path(__file__).parent / "scripts" / "repr_args.py")
WORKLOAD = str(Path(__file__).parent / "workload.py")
EVENTS = ["sched:sched_switch", "sched:sched_wakeup", "raw_syscalls:sys_enter", "raw_syscalls:sys_exit",
          "irq:softirq_entry", "timer:hrtimer_start", "kmem:kmalloc", "kmem:kfree", "net:net_dev_xmit",
          "skb:consume_skb", "signal:signal_generate", "timer:timer_start", "workqueue:workqueue_queue_work",
          "block:block_rq_issue", "sched:sched_process_exec"]


def _compare(data: str) -> None:
    env = {"PERF_EXEC_PATH": PERF_EXEC}
    theirs = perf("script", "-i", data, "-s", PROBE, "a1", "-x", env=env)
    ours = scripthost("trace", "-i", data, "-s", PROBE, "a1", "-x", env=env)
    assert theirs.returncode == 0, theirs.stderr.decode()
    assert ours.returncode == 0, ours.stderr.decode()[-3000:]
    t, o = theirs.stdout.decode().splitlines(), ours.stdout.decode().splitlines()
    assert len(o) == len(t)
    for a, b in zip(o, t):
        assert a == b


@needs_perf
def test_stored_recording_args_identical() -> None:
    _compare(str(DATA / "engine" / "small.data"))


@can_record
def test_fresh_recording_many_field_types(tmp_path: Path) -> None:
    out = tmp_path / "many.data"
    have = [e for e in EVENTS if Path("/sys/kernel/tracing/events", *e.split(":")).is_dir()]
    args = [a for e in have for a in ("-e", e)]
    r = perf("record", "-q", *args, "-a", "-o", str(out), "--", sys.executable, WORKLOAD,
             "getppid=10", "reads=10", "failed_opens=5", "udp=20", "futex=1")
    assert r.returncode == 0, r.stderr.decode()
    _compare(str(out))


ARGV_PROBE = '''import sys
pids = []
def trace_begin():
    print("argv", sys.argv[1:])
def trace_unhandled(event_name, context, fields):
    pids.append(fields["common_pid"])
def trace_end():
    print("first pid", pids[:1])
'''


@needs_perf
@pytest.mark.parametrize("args", [
    ["-i", "OTHER"], ["-i", "OTHER", "arg1", "-x"], ["arg1", "-i", "OTHER"], ["--", "-x", "-i", "OTHER"],
    ["-i", "OTHER", "--", "-x"], ["arg1", "--", "-x"], ["--input=OTHER", "a"], ["-iOTHER", "a"],
    ["-", "a"], ["-i", "OTHER", "-s", "probe.py", "a"], ["--ns", "--", "a", "--", "b"],
    ["syscall-counts", "-i", "OTHER"], ["-x"], ["-i", "OTHER", "--bogus", "a"]],
    ids=lambda a: " ".join(a))
def test_options_after_the_script_are_perfs_until_the_first_other_word(args: list[str], tmp_path: Path) -> None:
    """perf parses options after -s SCRIPT and stops at the first non-option: the script gets
    that word and all after it; `--` ends the options and is not passed on.  Which input was
    read shows in the first pid (./perf.data is one recording, OTHER another)."""
    (tmp_path / "probe.py").write_text(ARGV_PROBE)
    (tmp_path / "perf.data").write_bytes((DATA / "engine" / "small.data").read_bytes())
    other = str(DATA / "engine" / "small.pipe")
    argv = ["-s", "probe.py"] + [a.replace("OTHER", other) for a in args]
    theirs, ours = perf("script", *argv, cwd=str(tmp_path)), scripthost("trace", *argv, cwd=str(tmp_path))
    assert ours.returncode == theirs.returncode, ours.stderr
    assert ours.stdout == theirs.stdout
    if theirs.returncode:
        assert ours.returncode == 129 and ours.stderr.count(b"\n") == 1 and b"unknown option" in ours.stderr
    else:
        assert b"first pid [" in ours.stdout and b"first pid []" not in ours.stdout
