"""The sample filters (--pid, --tid, -C/--cpu, --time) against the real perf 6.1 on
recordings made here: default output and scripts (Python, Perl), file and pipe input,
tracepoints and cpu-clock, system-wide and per-command; perf's errors and exit statuses."""

from __future__ import annotations

import collections
import random
import re
import shutil
from pathlib import Path

import pytest

from conftest import can_record, needs_perl, perf, record_input, scripthost
from test_ordering import _cpu_rounds, _stream

pytestmark = can_record

PERF_SCRIPTS = Path("/usr/lib/perf-core/scripts")
#: Perl's hash order fixed, as in test_perl_compat: the scripts print hashes' keys
PERL_ENV = {"PERL_HASH_SEED": "0", "PERL_PERTURB_KEYS": "0"}
TRACEPOINTS = ("-e", "raw_syscalls:sys_enter", "-e", "sched:sched_switch")
LOAD = ("sh", "-c", "i=0; while [ $i -lt 200 ]; do i=$((i+1)); ls / >/dev/null; done")
_LINE = re.compile(rb"^\s*(.+?)\s+(\d+)(?:/(\d+))?\s+\[(\d+)\]\s+(\d+\.\d+):", re.M)


class Recording:
    """A recording and facts taken from perf's own unfiltered output to filter on."""

    def __init__(self, args: list[str], stdin: bytes | None) -> None:
        self.args, self.stdin = args, stdin
        out = perf("script", *args, "-F", "pid,tid,cpu,time", input=stdin).stdout
        rows = re.findall(rb"^\s*(\d+)/\s*(\d+)\s+\[(\d+)\]\s+(\d+\.\d+):", out, re.M)
        assert rows, out[:300]
        self.pid = collections.Counter(r[0] for r in rows).most_common(1)[0][0].decode()
        self.tid = collections.Counter(r[1] for r in rows).most_common(2)[-1][0].decode()
        times = [float(r[3]) for r in rows]
        lo, hi = min(times), max(times)
        self.t1, self.t2 = f"{lo + (hi - lo) * 0.2:.6f}", f"{lo + (hi - lo) * 0.6:.6f}"
        self.t3 = f"{lo + (hi - lo) * 0.8:.6f}"


def _record(tmp_path_factory: pytest.TempPathFactory, mode: str, *args: str) -> Recording:
    return Recording(*record_input(tmp_path_factory.mktemp("flt"), mode, *args))


@pytest.fixture(scope="module")
def system_tp(tmp_path_factory: pytest.TempPathFactory) -> Recording:
    return _record(tmp_path_factory, "file", "-a", *TRACEPOINTS, "--", *LOAD)


@pytest.fixture(scope="module")
def system_clock(tmp_path_factory: pytest.TempPathFactory) -> Recording:
    return _record(tmp_path_factory, "file", "-a", "-e", "cpu-clock", "--", *LOAD)


@pytest.fixture(scope="module")
def command_tp(tmp_path_factory: pytest.TempPathFactory) -> Recording:
    return _record(tmp_path_factory, "file", *TRACEPOINTS, "--", *LOAD)


@pytest.fixture(scope="module")
def pipe_tp(tmp_path_factory: pytest.TempPathFactory) -> Recording:
    return _record(tmp_path_factory, "pipe", "-a", *TRACEPOINTS, "--", *LOAD)


def _filters(rec: Recording, *, cpus: bool = True, percent: bool = True) -> list[list[str]]:
    out = [["--pid", rec.pid], ["--tid", f"{rec.tid},1"], ["--pid", f"{rec.pid}", "--tid", rec.tid],
           ["--time", f"{rec.t1},{rec.t2}"], ["--time", f"{rec.t1},"], ["--time", f",{rec.t1}"],
           ["--time", f"{rec.t1},{rec.t2} {rec.t3},"]]
    if cpus:
        out += [["-C", "0"], ["-C", "1"], ["--cpu", "0-1"], ["-C", "0", "--time", f"{rec.t1},{rec.t2}"]]
    if percent:
        out += [["--time", "10%-20%"], ["--time", "10%/2"], ["--time", "10%/1,10%/3"],
                ["--time", "0%-10%,30%-40%"], ["--time", "25%"]]
    return out


def _same(rec: Recording, *args: str, env: dict | None = None) -> bytes:
    want = perf("script", *rec.args, *args, input=rec.stdin, env=env)
    got = scripthost("trace", *rec.args, *args, input=rec.stdin, env=env)
    assert got.returncode == want.returncode, got.stderr.decode()
    assert got.stdout == want.stdout, args
    return got.stdout


@pytest.mark.parametrize("which", ["system_tp", "system_clock", "command_tp"])
def test_default_output_filtered_as_perf(request: pytest.FixtureRequest, which: str) -> None:
    rec = request.getfixturevalue(which)
    everything = _same(rec)
    for args in _filters(rec, cpus=which != "command_tp"):
        out = _same(rec, *args)
        if "--cpu" not in args and args != ["--time", f"{rec.t1},"]:
            assert len(out) < len(everything), args  # the filter did filter


def test_pipe_input_filtered_as_perf(pipe_tp: Recording) -> None:
    for args in _filters(pipe_tp, cpus=False, percent=False):
        _same(pipe_tp, *args)


@pytest.mark.parametrize("args", [["-C", "0"], ["--time", "10%/2"]])
def test_pipe_input_lacks_header_facts_as_perf(pipe_tp: Recording, args: list[str]) -> None:
    _errors_as_perf(pipe_tp, args)


def _errors_as_perf(rec: Recording, args: list[str]) -> None:
    want = perf("script", *rec.args, *args, input=rec.stdin)
    got = scripthost("trace", *rec.args, *args, input=rec.stdin)
    assert (got.returncode, got.stdout) == (want.returncode, want.stdout), got.stderr.decode()
    said = got.stderr.decode().removeprefix("scripthost: ")
    assert said.splitlines()[0] in want.stderr.decode().splitlines(), (said, want.stderr)


@pytest.mark.parametrize("args", [["--pid", "abc"], ["--tid", "1,x"], ["-C", "abc"], ["-C", "1-0"],
                                  ["-C", "7"], ["--time", "abc"], ["--time", "2,1"], ["--time", "5"],
                                  ["--time", "1.0,2.0,3.0,4.0"], ["--time", "10%/20"],
                                  ["--time", "200%"], ["--time", "1.0000000001,"]])
def test_bad_values_as_perf(system_tp: Recording, args: list[str]) -> None:
    _errors_as_perf(system_tp, args)


def test_cpu_filter_needs_cpu_samples(tmp_path: Path) -> None:
    """A per-command cpu-clock recording has no CPU in its samples (tracepoints always do)."""
    rec = Recording.__new__(Recording)
    rec.args, rec.stdin = record_input(tmp_path, "file", "-e", "cpu-clock", "--", *LOAD)
    _errors_as_perf(rec, ["-C", "0"])


EVENTS_PY = """
def trace_unhandled(event_name, context, fields):
    print(event_name, fields["common_pid"], fields["common_cpu"], fields["common_s"], fields["common_ns"])

def process_event(param_dict):
    s = param_dict["sample"]
    print(param_dict["ev_name"], s["pid"], s["tid"], s["cpu"], s["time"])
"""


def test_python_script_sees_filtered_events(tmp_path: Path, system_tp: Recording,
                                            system_clock: Recording) -> None:
    script = tmp_path / "events.py"
    script.write_text(EVENTS_PY)
    for rec in (system_tp, system_clock):
        for args in _filters(rec):
            _same(rec, *args, "-s", str(script))


def _syscall_counts(out: bytes) -> list[bytes]:
    """syscall-counts.py's count column: perf's embedded Python may lack the audit module
    that names syscalls, so the names are masked and the counts compared."""
    return sorted(re.findall(rb"^\S+\s+(\d+)$", out, re.M))


def test_perf_syscall_counts_filtered(system_tp: Recording) -> None:
    script = str(PERF_SCRIPTS / "python" / "syscall-counts.py")
    for args in (["--pid", system_tp.pid], ["-C", "1"], ["--time", "10%/3"]):
        want = perf("script", *system_tp.args, *args, "-s", script)
        got = scripthost("trace", *system_tp.args, *args, "-s", script)
        assert got.returncode == want.returncode == 0, got.stderr.decode()
        assert _syscall_counts(got.stdout) == _syscall_counts(want.stdout) != [], args


@needs_perl
def test_perl_script_filtered(system_tp: Recording) -> None:
    script = str(PERF_SCRIPTS / "perl" / "check-perf-trace.pl")
    for args in (["--pid", system_tp.pid], ["-C", "0"], ["--time", "10%-30%"]):
        _same(system_tp, *args, "-s", script, env=PERL_ENV)  # the script prints a hash's keys


@pytest.mark.skipif(shutil.which("perf") is None, reason="perf is not installed")
@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("flt", [("--time", "1000,3000"), ("--tid", "5,6,7,40"), ("--time", "2500,")],
                         ids=["time", "tid", "time-open"])
def test_filtered_runs_count_out_of_order_events_as_perf(seed: int, flt: tuple[str, str]) -> None:
    """perf counts an out-of-order event as it queues it, before its filters: a pipe-mode
    stream with late events (tid: the arrival index), the same stdout and warning as perf."""
    rng = random.Random(seed)
    stream = _stream(_cpu_rounds(rng, 3, 200, 0.05))
    args = ("-i", "-", "-F", "tid,time", *flt)
    ours, theirs = scripthost("trace", *args, input=stream), perf("script", *args, input=stream)
    assert b"out of order events" in theirs.stderr
    assert (ours.returncode, ours.stdout, ours.stderr) == (theirs.returncode, theirs.stdout, theirs.stderr)


def _comm_filters(rec: Recording) -> list[list[str]]:
    """-c lists from the comms perf shows: the commonest, two at once, one no sample has,
    and with --pid (both must hold)."""
    out = perf("script", *rec.args, "-F", "comm", input=rec.stdin).stdout.split()
    common = [c.decode() for c, _ in collections.Counter(out).most_common(2)]
    assert len(common) == 2, out[:20]
    return [["-c", common[0]], ["--comms", ",".join(common)], ["-c", "no-such-comm"],
            ["-c", f"{common[1]},,ls"], ["-c", common[0], "--pid", rec.pid]]


@pytest.mark.parametrize("which", ["system_tp", "system_clock", "command_tp", "pipe_tp"])
def test_comm_filter_as_perf(request: pytest.FixtureRequest, which: str) -> None:
    """-c: perf matches the thread's comm at the sample's time (sh forks, then execs ls)."""
    rec = request.getfixturevalue(which)
    everything = _same(rec)
    cases = _comm_filters(rec)
    assert len(_same(rec, *cases[0])) < len(everything)  # the commonest comm alone: a filter
    for args in cases[1:]:
        _same(rec, *args)


def test_scripts_see_comm_filtered_events(tmp_path: Path, system_tp: Recording, pipe_tp: Recording) -> None:
    script = tmp_path / "events.py"
    script.write_text(EVENTS_PY)
    for rec in (system_tp, pipe_tp):
        for args in _comm_filters(rec):
            _same(rec, *args, "-s", str(script))


@needs_perl
def test_perl_script_comm_filtered(system_tp: Recording) -> None:
    script = str(PERF_SCRIPTS / "perl" / "check-perf-trace.pl")
    for args in _comm_filters(system_tp)[:2]:
        _same(system_tp, *args, "-s", script, env=PERL_ENV)
