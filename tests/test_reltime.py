"""--reltime and --deltatime in the default output, with and without --ns, byte for byte
with the real perf script on recordings made here (file and pipe; tracepoints, samples and
callchains, so that each of the default printer's line makers is compared)."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import can_record, perf, record_input, scripthost

RECORDINGS = {
    "tracepoint+samples -a": ("-e", "sched:sched_switch", "-e", "cpu-clock", "-c", "100000", "-a",
                              "--", "sleep", "0.1"),
    # per command: system-wide callchains of other processes' short-lived code can resolve
    # differently from perf's for reasons that are not these options'
    "callchains": ("-e", "sched:sched_switch", "-e", "cpu-clock", "-c", "100000", "-g",
                   "--", "sh", "-c", "ls -lR /usr/lib >/dev/null; sleep 0.01; ls /usr/bin >/dev/null"),
}


@can_record
@pytest.mark.parametrize("mode", ["file", "pipe"])
@pytest.mark.parametrize("kind", sorted(RECORDINGS))
def test_relative_timestamps_match_perf(kind: str, mode: str, tmp_path: Path) -> None:
    args, stdin = record_input(tmp_path, mode, *RECORDINGS[kind])
    for opts in (["--reltime"], ["--deltatime"], ["--reltime", "--ns"], ["--deltatime", "--ns"]):
        theirs = perf("script", *args, *opts, input=stdin)
        ours = scripthost("trace", *args, *opts, input=stdin)
        assert theirs.returncode == ours.returncode == 0, ours.stderr.decode()
        assert theirs.stdout.count(b"\n") > 10
        assert ours.stdout == theirs.stdout, opts


@can_record
def test_both_at_once_are_refused_as_perf(tmp_path: Path) -> None:
    args, _ = record_input(tmp_path, "file", "-e", "sched:sched_switch", "-a", "--", "true")
    theirs = perf("script", *args, "--reltime", "--deltatime")
    ours = scripthost("trace", *args, "--reltime", "--deltatime", timeout=60)
    assert ours.returncode == theirs.returncode == 255 and ours.stdout == theirs.stdout == b""
    assert ours.stderr.count(b"\n") == 1
