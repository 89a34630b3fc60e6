"""--show-*-events: side-band records in the default output, byte for byte as perf 6.1
prints them, interleaved with the samples in perf's order (file and pipe mode)."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import can_record, perf, record_input, scripthost

SHOWN = ["--show-task-events", "--show-mmap-events", "--show-switch-events",
         "--show-namespace-events", "--show-cgroup-events", "--show-lost-events", "--show-bpf-events"]
# a workload that forks, execs and maps; every side-band kind the kernel offers for it
WORKLOAD = ("-e", "raw_syscalls:sys_enter", "--switch-events", "--namespaces", "--all-cgroups",
            "--", "sh", "-c", "ls / >/dev/null; true")


@pytest.fixture(scope="module", params=["file", "pipe"])
def recording(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple:
    return record_input(tmp_path_factory.mktemp(request.param), request.param, *WORKLOAD)


def _same_as_perf(inp: list[str], stdin: bytes | None, *options: str) -> int:
    """Run both on the same input; assert identical stdout; the number of lines compared."""
    want = perf("script", *inp, *options, input=stdin)
    assert want.returncode == 0, want.stderr.decode()
    got = scripthost("trace", *inp, *options, input=stdin)
    assert got.returncode == 0, got.stderr.decode()
    assert got.stdout.decode() == want.stdout.decode()
    return want.stdout.count(b"\n")


@can_record
@pytest.mark.parametrize("option", SHOWN)
def test_each_option_matches_perf(recording: tuple, option: str) -> None:
    _same_as_perf(*recording, option)


@can_record
def test_records_are_shown(recording: tuple) -> None:
    """The workload's recording holds every kind the options print (so the comparisons above
    compare side-band lines, not only samples)."""
    got = scripthost("trace", *recording[0], *SHOWN, input=recording[1]).stdout.decode()
    for kind in ("COMM exec", "FORK", "EXIT", "MMAP2", "SWITCH", "NAMESPACES", "CGROUP"):
        assert "PERF_RECORD_" + kind in got


@can_record
def test_all_options_together_match_perf(recording: tuple) -> None:
    assert _same_as_perf(*recording, *SHOWN) > 0


@can_record
def test_options_with_ns_match_perf(recording: tuple) -> None:
    _same_as_perf(*recording, "--ns", "--show-task-events", "--show-mmap-events")


@can_record
def test_system_wide_switches_match_perf(tmp_path: Path) -> None:
    """-a: CPU-wide switch records, every running task's synthesized comm/mmap/namespaces."""
    inp, stdin = record_input(tmp_path, "file", "-a", "-e", "raw_syscalls:sys_enter", "--switch-events",
                              "--namespaces", "--", "sleep", "0.05")
    _same_as_perf(inp, stdin, "--show-switch-events", "--show-task-events", "--show-mmap-events",
                  "--show-namespace-events")


@can_record
def test_lost_events_match_perf(tmp_path: Path) -> None:
    """A one-page buffer under a syscall storm loses events: LOST records, as perf prints them."""
    inp, stdin = record_input(tmp_path, "file", "-m", "1", "-e", "raw_syscalls:sys_enter", "--", "dd",
                              "if=/dev/zero", "of=/dev/null", "bs=1", "count=200000")
    if b"PERF_RECORD_LOST" not in perf("script", *inp, "--show-lost-events").stdout:
        pytest.skip("this run lost no events (the machine kept up)")
    _same_as_perf(inp, stdin, "--show-lost-events")


#: recordings with FINISHED_ROUND records: tracepoints and cpu-clock (with callchains),
#: system-wide (many rounds, events of the two CPUs interleaved) and per-command
ROUND_RECORDINGS = {
    "tp-a": ("-a", "-e", "sched:sched_switch", "-e", "raw_syscalls:sys_enter", "--", "sleep", "0.3"),
    "tp-cmd": ("-e", "raw_syscalls:sys_enter", "--", "sh", "-c", "ls / >/dev/null; true"),
    "clock-a": ("-a", "-F", "2000", "-m", "4", "-e", "cpu-clock", "-g", "--", "sleep", "0.5"),
    "clock-cmd": ("-e", "cpu-clock", "-g", "--", "sh", "-c", "for i in 1 2 3 4 5; do ls -R /usr/lib >/dev/null; done"),
}


@can_record
@pytest.mark.parametrize("mode", ["file", "pipe"])
@pytest.mark.parametrize("which", sorted(ROUND_RECORDINGS))
def test_round_events_in_perfs_places(tmp_path: Path, mode: str, which: str) -> None:
    """--show-round-events: perf turns ordering off, so the events come in input order with
    each round's line where the round was read; warnings (none: nothing is ordered) alike."""
    inp, stdin = record_input(tmp_path, mode, *ROUND_RECORDINGS[which])
    # system-wide samples may land in C++ code of other processes (demangling differs): no symbols
    options = ("--show-round-events", "--show-task-events",
               *(("-F", "comm,tid,cpu,time,period", "-G") if which == "clock-a" else ()))
    want = perf("script", *inp, *options, input=stdin)
    got = scripthost("trace", *inp, *options, input=stdin)
    assert want.stdout.count(b"PERF_RECORD_FINISHED_ROUND\n") >= 1
    assert (got.returncode, got.stdout.decode(), got.stderr) == (want.returncode, want.stdout.decode(), want.stderr)
