"""`--header-only`, `--header` and `-I/--show-info` against perf 6.1 on recordings made here.

Both programs read the same file, so nothing is masked: "captured on" is the file's mtime
and every other value is stored in the recording. A pipe-mode stream is read twice from
the same bytes on stdin; there "captured on" is when the stdin pipe was last written,
which differs between the two runs (perf's own two runs differ there too), so that one
line is masked for pipes only.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from conftest import can_record, perf, record_input, scripthost

WORKLOAD = ["--", sys.executable, "-c", "sum(range(300000))"]
#: recordings with many features: system-wide callchains, a tracepoint, a per-command one,
#: per-sample CPUs, a clock id (CLOCKID and CLOCK_DATA) and an event group (GROUP_DESC)
RECORDINGS = {
    "all-cpus-g": ["-a", "-g"],
    "sched-switch": ["-e", "sched:sched_switch", "-a"],
    "per-command": [],
    "sample-cpu": ["--sample-cpu", "-a"],
    "clockid": ["-k", "mono"],
    "group": ["-e", "{cpu-clock,task-clock}"],
}
MODES = [["--header-only"], ["--header-only", "-I"], ["--header"], ["--header", "--show-info"]]
CAPTURED = re.compile(rb"(?m)^# captured on    : .*$")
#: the lines mainline's parallel-perf.py reads from `--header-only`
PARSED = re.compile(rb"(?m)^# (cmdline|time of first sample|time of last sample|nrcpus avail) : .*$")


def _both(args: list[str], stdin: bytes | None = None) -> tuple[bytes, bytes]:
    ours = scripthost("trace", *args, input=stdin)
    theirs = perf("script", *args, input=stdin)
    assert theirs.returncode == 0, theirs.stderr.decode()
    assert ours.returncode == 0, ours.stderr.decode()
    return ours.stdout, theirs.stdout


@can_record
@pytest.mark.parametrize("mode", MODES, ids=" ".join)
@pytest.mark.parametrize("name", RECORDINGS)
def test_file_header_matches_perf(name: str, mode: list[str], tmp_path: Path) -> None:
    inp, _ = record_input(tmp_path, "file", *RECORDINGS[name], *WORKLOAD)
    ours, theirs = _both([*inp, *mode])
    assert ours == theirs
    if mode == ["--header-only"]:
        assert len(PARSED.findall(theirs)) == 4, "perf printed fewer of the lines parallel-perf.py reads"


@can_record
@pytest.mark.parametrize("mode", MODES, ids=" ".join)
def test_pipe_header_matches_perf(mode: list[str], tmp_path: Path) -> None:
    inp, stream = record_input(tmp_path, "pipe", "-a", *WORKLOAD)
    ours, theirs = _both([*inp, *mode], stream)
    assert CAPTURED.sub(b"# captured on    : <when read>", ours) == \
        CAPTURED.sub(b"# captured on    : <when read>", theirs)
    if "--header" in mode:
        assert b"# cmdline : " in theirs, "perf printed no features from the pipe"


@can_record
def test_compressed_feature_matches_perf(tmp_path: Path) -> None:
    inp, _ = record_input(tmp_path, "file", "-z", *WORKLOAD)
    ours, theirs = _both([*inp, "--header-only"])
    assert b"# compressed : " in theirs
    assert ours == theirs


@can_record
def test_show_info_alone_prints_no_header(tmp_path: Path) -> None:
    inp, _ = record_input(tmp_path, "file", *WORKLOAD)
    ours, theirs = _both([*inp, "-I"])
    assert not theirs.startswith(b"#")
    assert ours == theirs
