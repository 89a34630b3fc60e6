"""-D/--dump-raw-trace against the real perf 6.1, byte for byte: perf.data files and
pipe-mode streams (the pipe's HEADER_ATTR/FEATURE/TRACING_DATA/EVENT_UPDATE records, the
ID_INDEX/THREAD_MAP/CPU_MAP/FINISHED_INIT/FINISHED_ROUND tool records, COMM/MMAP/MMAP2/
FORK/EXIT, tracepoint and cpu-clock samples with callchains), and the unit pieces."""

from __future__ import annotations

import random
import re
import shutil
from pathlib import Path

import pytest

from conftest import can_record, perf, record_input, scripthost
from scripthost.engine.raw_dump import c_hex, hex_dump
from test_ordering import _cpu_rounds, _stream

RECORDINGS = {
    "tp-a": ("-a", "-e", "sched:sched_switch", "--", "sleep", "0.2"),
    "tp-cmd": ("-e", "sched:sched_switch", "-e", "raw_syscalls:sys_enter", "--", "sh", "-c", "ls / >/dev/null"),
    "clock-g-cmd": ("-e", "cpu-clock", "-g", "--", "sh", "-c", "ls -R /usr/lib >/dev/null"),
    "clock-g-a": ("-a", "-F", "1000", "-e", "cpu-clock", "-g", "--", "sleep", "0.3"),
}


def _both(inp: list[str], stdin: bytes | None, *options: str) -> tuple[tuple, tuple]:
    want = perf("script", "-D", *inp, *options, input=stdin)
    got = scripthost("trace", "-D", *inp, *options, input=stdin)
    return (want.returncode, want.stdout, want.stderr), (got.returncode, got.stdout, got.stderr)


def _masked(out: bytes, system_wide: bool) -> bytes:
    """perf names the [vdso] dso after the temporary file it extracts its own vdso to
    (/tmp/perf-vdso.so-XXXXXX, random each run): masked as [vdso].  System-wide callchains
    may pass through other processes' C++ code, whose names perf demangles and we do not:
    those symbol lines (only) are masked too."""
    out = re.sub(rb"/tmp/perf-vdso\.so-\w{6}", b"[vdso]", out)
    if not system_wide:
        return out
    return b"\n".join(b"\t<C++ frame>" if line.startswith(b"\t") and b"_Z" in line else line
                      for line in out.split(b"\n"))


@can_record
@pytest.mark.parametrize("mode", ["file", "pipe"])
@pytest.mark.parametrize("which", sorted(RECORDINGS))
def test_raw_dump_is_perfs(tmp_path: Path, mode: str, which: str) -> None:
    inp, stdin = record_input(tmp_path, mode, *RECORDINGS[which])
    theirs, ours = _both(inp, stdin)
    wide = "-a" in RECORDINGS[which] or "-g" in RECORDINGS[which]
    assert ours[0] == theirs[0] == 0 and ours[2] == theirs[2]
    assert _masked(ours[1], wide) == _masked(theirs[1], wide)
    text = theirs[1].decode()
    for kind in ("SAMPLE", "COMM", "MMAP", "FINISHED_ROUND", "ID_INDEX", "THREAD_MAP", "CPU_MAP"):
        assert f"PERF_RECORD_{kind}" in text
    if mode == "pipe":
        for kind in ("ATTR", "FEATURE", "EVENT_UPDATE"):
            assert f"PERF_RECORD_{kind}" in text
    if "-g" in RECORDINGS[which]:
        assert "... FP chain: nr:" in text


@can_record
@pytest.mark.parametrize("mode", ["file", "pipe"])
def test_raw_dump_with_side_band_lines_and_ns(tmp_path: Path, mode: str) -> None:
    inp, stdin = record_input(tmp_path, mode, *RECORDINGS["tp-cmd"])
    theirs, ours = _both(inp, stdin, "--show-task-events", "--show-mmap-events", "--ns")
    assert "PERF_RECORD_EXIT" in theirs[1].decode()
    assert (ours[0], _masked(ours[1], False), ours[2]) == (theirs[0], _masked(theirs[1], False), theirs[2])


@pytest.mark.skipif(shutil.which("perf") is None, reason="perf is not installed")
def test_raw_dump_of_a_synthetic_stream() -> None:
    """No ip, no cpu, unknown cpumode (perf's "[hypervisor]" dso), late events."""
    stream = _stream(_cpu_rounds(random.Random(3), 2, 50, 0.05))
    theirs, ours = _both(["-i", "-"], stream, "-F", "tid,time")
    assert b"[hypervisor]" in theirs[1]
    assert ours == theirs


def test_hex_dump_rows() -> None:
    rec = bytes(range(0x41, 0x41 + 20))
    assert hex_dump(rec) == (".\n. ... raw event: size 20 bytes\n"
                             ".  0000:  41 42 43 44 45 46 47 48 49 4a 4b 4c 4d 4e 4f 50  ABCDEFGHIJKLMNOP\n"
                             ".  0010:  51 52 53 54" + " " * 38 + "QRST" + " " * 12 + "\n\n")
    assert (c_hex(0), c_hex(0x98)) == ("0", "0x98")


@can_record
@pytest.mark.parametrize("mode", ["file", "pipe"])
def test_raw_dump_under_filters(tmp_path: Path, mode: str) -> None:
    """perf dumps every sample; --time and -C drop a sample before its thread and dso lines,
    --pid/--tid after them; only kept samples get their line."""
    inp, stdin = record_input(tmp_path, mode, "-a", "-e", "sched:sched_switch", "--", "sh", "-c",
                              "for i in 1 2 3; do ls / >/dev/null; sleep 0.02; done")
    rows = [line.split() for line in perf("script", *inp, "-F", "pid,time", input=stdin).stdout.decode().splitlines()]
    pid, middle = rows[0][0], rows[len(rows) // 2][1].rstrip(":")
    cpu = [("-C", "1")] if mode == "file" else []  # from a pipe perf refuses -C (no cpu count yet)
    for options in (*cpu, ("--pid", pid), ("--tid", f"{pid},1"), ("--time", f"{middle},")):
        theirs, ours = _both(inp, stdin, *options)
        assert theirs[1].count(b"PERF_RECORD_SAMPLE") > theirs[1].count(b"sched:sched_switch: prev_comm")
        assert ours == theirs, options
