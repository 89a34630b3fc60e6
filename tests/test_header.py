"""`--header-only` against perf's own rendering of the same recordings.

"captured on" is the input file's mtime, which a fresh checkout resets, so that
one line is masked; everything else must match byte for byte.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from conftest import DATA, can_record, perf, scripthost

CAPTURED = re.compile(rb"(?m)^# captured on    : .*$")


def _mask(b: bytes) -> bytes:
    return CAPTURED.sub(b"# captured on    : <mtime>", b)


@pytest.mark.parametrize("name", ["small.data", "small.pipe"])
def test_stored_header_matches_perf(name: str) -> None:
    r = scripthost("trace", "-i", str(DATA / "engine" / name), "--header-only")
    assert r.returncode == 0, r.stderr
    assert _mask(r.stdout) == _mask((DATA / "engine" / f"{name}.header").read_bytes())


@can_record
@pytest.mark.parametrize("events", [["sched:sched_switch"], ["raw_syscalls:sys_enter", "irq:softirq_entry"],
                                    ["cpu-clock", "-g"]])
def test_fresh_header_matches_perf(events: list[str], tmp_path: Path) -> None:
    out = tmp_path / "h.data"
    args = [a for e in events for a in (["-e", e] if not e.startswith("-") else [e])]
    assert perf("record", "-q", *args, "-a", "-o", str(out), "--", sys.executable, "-c", "pass").returncode == 0
    ours = scripthost("trace", "-i", str(out), "--header-only")
    theirs = perf("script", "-i", str(out), "--header-only")
    assert ours.stdout == theirs.stdout
