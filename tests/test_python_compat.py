"""perf's own Python scripts, unchanged, under scripthost and under `perf script -s`:
the same recording (made here with the real perf), byte-identical output, in
file mode and as a pipe-mode stream on stdin."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pytest

from conftest import PERF_EXEC, can_record, perf, scripthost

WORKLOAD = str(Path(__file__).parent / "workload.py")
WORK_ARGS = ["getppid=300", "reads=200", "failed_opens=50", "futex=1", "udp=50"]

# script -> (events, extra record options, script args, masking)
SCRIPTS = {
    "syscall-counts": (["raw_syscalls:sys_enter"], [], [], None),
    "syscall-counts-by-pid": (["raw_syscalls:sys_enter"], [], [], None),
    "failed-syscalls-by-pid": (["raw_syscalls:sys_exit"], [], [], None),
    "syscall-counts-by-pid/comm": (["raw_syscalls:sys_enter"], [], ["python3"], None),
    "futex-contention": (["syscalls:sys_enter_futex", "syscalls:sys_exit_futex"], [], [], None),
    "net_dropmonitor": (["skb:kfree_skb"], [], [], None),
    "netdev-times": (["net:net_dev_xmit", "net:net_dev_queue", "net:netif_receive_skb", "net:netif_rx",
                      "skb:consume_skb", "skb:kfree_skb", "skb:skb_copy_datagram_iovec",
                      "napi:napi_poll", "irq:irq_handler_entry", "irq:irq_handler_exit",
                      "irq:softirq_entry", "irq:softirq_exit", "irq:softirq_raise"], [], [], None),
    "check-perf-trace": (["irq:softirq_entry", "kmem:kmalloc", "sched:sched_switch"], [], [], None),
    "compaction-times": (["compaction:mm_compaction_begin", "compaction:mm_compaction_end",
                          "compaction:mm_compaction_migratepages",
                          "compaction:mm_compaction_isolate_migratepages",
                          "compaction:mm_compaction_isolate_freepages"], [], [], None),
    # sctop prints everything from a thread on a wall-clock timer: whether the thread
    # gets the GIL before the run ends, what it has counted by then, and whether it is
    # cut off mid-table (before or after the audit-package warning syscall_name prints
    # on first use) depend on scheduling, under perf as under scripthost.  So each
    # table, from its clear-screen to the next, is masked whole.
    "sctop": (["raw_syscalls:sys_enter"], [], ["1"], re.compile(rb"\x1b\[H\x1b\[2J[^\x1b]*")),
    "sched-migration": (["sched:sched_wakeup", "sched:sched_wakeup_new", "sched:sched_switch",
                         "sched:sched_migrate_task"], [], [], None),
}


def _script_path(key: str) -> str:
    return os.path.join(PERF_EXEC or "", "scripts", "python", key.split("/")[0] + ".py")


@pytest.fixture(scope="module")
def recordings(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """One file-mode and one pipe-mode recording per distinct event list."""
    out: dict = {}
    base = tmp_path_factory.mktemp("rec")
    for key, (events, opts, _, _) in SCRIPTS.items():
        tag = "-".join(e.replace(":", "_") for e in events)[:80]
        if tag in out:
            continue
        ev_args = [a for e in events for a in ("-e", e)]
        fdata = base / f"{tag}.data"
        r = perf("record", "-q", *ev_args, *opts, "-a", "-o", str(fdata), "--",
                 sys.executable, WORKLOAD, *WORK_ARGS)
        assert r.returncode == 0, r.stderr.decode()
        pdata = base / f"{tag}.pipe"
        r = perf("record", "-q", *ev_args, *opts, "-a", "-o", "-", "--",
                 sys.executable, WORKLOAD, *WORK_ARGS)
        assert r.returncode == 0, r.stderr.decode()
        pdata.write_bytes(r.stdout)
        out[tag] = (fdata, pdata)
    return {key: out["-".join(e.replace(":", "_") for e in SCRIPTS[key][0])[:80]] for key in SCRIPTS}


def _mask(pattern: re.Pattern | None, data: bytes) -> bytes:
    return pattern.sub(b"", data) if pattern is not None else data


@can_record
@pytest.mark.parametrize("mode", ["file", "pipe"])
@pytest.mark.parametrize("key", list(SCRIPTS))
def test_perf_python_script_identical(key: str, mode: str, recordings: dict) -> None:
    _, _, args, mask = SCRIPTS[key]
    fdata, pdata = recordings[key]
    script = _script_path(key)
    env = {"PERF_EXEC_PATH": PERF_EXEC}
    if mode == "file":
        theirs = perf("script", "-i", str(fdata), "-s", script, *args, env=env)
        ours = scripthost("trace", "-i", str(fdata), "-s", script, *args, env=env)
    else:
        stream = pdata.read_bytes()
        theirs = perf("script", "-i", "-", "-s", script, *args, input=stream, env=env)
        ours = scripthost("trace", "-i", "-", "-s", script, *args, input=stream, env=env)
    assert _mask(mask, ours.stdout) == _mask(mask, theirs.stdout), ours.stderr.decode()[-2000:]
    if theirs.returncode == 0:
        assert ours.returncode == 0, ours.stderr.decode()[-2000:]
    else:
        assert ours.returncode != 0


_BANNER = re.compile(rb"\AInstall the audit-libs-python package.*?  etc\.\n\n", re.S)
# perf's table rows, with the syscall-name column as each script formats it
_ROWS = [(re.compile(rb"(?m)^(\d+) +(\d+)$"), "%-40s  %10d"),
         (re.compile(rb"(?m)^  (\d+) +(\d+)$"), "  %-38s  %10d"),
         (re.compile(rb"(?m)^  syscall: (\d+) *$"), "  syscall: %-16s")]


def _with_names(perf_out: bytes) -> bytes:
    """perf's output as it reads once syscall numbers are names (and no audit banner)."""
    from scripthost.syscalls import syscall_name
    out = _BANNER.sub(b"", perf_out)
    for rx, fmt in _ROWS:
        def repl(m: re.Match) -> bytes:
            vals = [syscall_name(int(m.group(1)))] + [int(g) for g in m.groups()[1:]]
            return (fmt % tuple(vals)).encode()
        out = rx.sub(repl, out)
    return out


@can_record
@pytest.mark.parametrize("key", ["syscall-counts", "syscall-counts-by-pid", "failed-syscalls-by-pid"])
def test_our_helper_libraries_same_numbers_with_names(key: str, recordings: dict) -> None:
    fdata, _ = recordings[key]
    script = _script_path(key)
    theirs = perf("script", "-i", str(fdata), "-s", script, env={"PERF_EXEC_PATH": PERF_EXEC})
    env = {k: v for k, v in os.environ.items() if k != "PERF_EXEC_PATH"}
    import subprocess
    ours = subprocess.run([sys.executable, "-m", "scripthost", "trace", "-i", str(fdata), "-s", script],
                          capture_output=True, env=env, timeout=300)
    assert ours.returncode == 0, ours.stderr.decode()[-2000:]
    assert b"audit" not in ours.stdout
    assert ours.stdout == _with_names(theirs.stdout)
