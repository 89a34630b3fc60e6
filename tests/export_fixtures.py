"""The recording the API and export tests share: made here by the real perf (a command
running syscalls, execs and context switches), and perf's own answers about it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import PERF_EXEC, perf, record_input

#: raw_syscalls:sys_enter (fixed layout, an array), sched_switch (char arrays),
#: sched_process_exec (a __data_loc string)
EVENTS = ("-e", "raw_syscalls:sys_enter", "-e", "sched:sched_switch", "-e", "sched:sched_process_exec")
LOAD = ("sh", "-c", "i=0; while [ $i -lt 100 ]; do i=$((i+1)); ls / >/dev/null; done")
SYS_ENTER = "raw_syscalls:sys_enter"


class Rec:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.args = ["-i", str(path)]


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> Rec:
    args, _ = record_input(tmp_path_factory.mktemp("api"), "file", *EVENTS, "--", *LOAD)
    return Rec(Path(args[1]))


def perf_syscall_counts(rec: Rec, *filters: str) -> dict[str, int]:
    """perf's own syscall-counts.py over the recording: count by syscall (perf's
    embedded Python here lacks the audit module, so syscalls are named by their ids)."""
    script = str(Path(PERF_EXEC or "") / "scripts" / "python" / "syscall-counts.py")
    r = perf("script", *rec.args, *filters, "-s", script)
    assert r.returncode == 0, r.stderr.decode()
    table = r.stdout.decode().split("-----------\n", 1)[1]
    counts = dict(re.findall(r"^(\S+)\s+(\d+)$", table, re.M))
    assert counts, r.stdout[-500:]
    return {k: int(v) for k, v in counts.items()}


def by_id(rows: list[tuple[int, int]]) -> dict[str, int]:
    """(id, count) rows as perf's table keys them (the id in decimal)."""
    return {str(i): int(n) for i, n in rows}
