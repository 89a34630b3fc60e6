"""Every argument perf passes to Python handlers, by repr(), under perf and scripthost."""

from __future__ import annotations

import sys
from pathlib import Path


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
