"""Regression tests for two sample-output bugs found by comparing with perf 6.1: a callchain
holding an invalid context value (perf discards the whole chain) and an exiting task's pid
of -1 (perf hands scripts its u32, 4294967295).  Each recording is a real perf recording
that the test mutates itself; every output is compared with the real perf's on the same file."""
from __future__ import annotations

import struct
from pathlib import Path

import pytest

from conftest import PERF_EXEC, can_record, needs_perf, needs_perl, perf, scripthost

DATA = Path(__file__).parent / "data" / "engine" / "chains.data"  # cpu-clock -g, IP|TID|TIME|CALLCHAIN
PERF_RECORD_SAMPLE = 9
PERF_CONTEXT_USER = (1 << 64) - 512
BOGUS_CONTEXT = 0xfffffffffffffed0  # >= PERF_CONTEXT_MAX, yet no known context
# sample_type bits laid out as one u64 each before the callchain, in the record's order
_BEFORE_CALLCHAIN = (1 << 16, 1, 2, 4, 8, 64, 512, 128, 256)  # IDENTIFIER IP TID TIME ADDR ID STREAM_ID CPU PERIOD
_SAMPLE_READ, _SAMPLE_CALLCHAIN, _SAMPLE_IP = 16, 32, 1

# prints what perf hands a Python script: pid, tid and the callchain's length
PID_SCRIPT = """\
def process_event(param_dict):
    s = param_dict['sample']
    print(s['pid'], s['tid'], len(param_dict.get('callchain', [])))
"""


def _samples(d: bytes) -> tuple[int, list[int]]:
    """The (only) event's sample_type and the offsets of the file's sample records."""
    attr_size, attrs_off = struct.unpack_from("<QQ", d, 16)
    assert struct.unpack_from("<Q", d, 32)[0] // attr_size == 1, "one event expected"
    sample_type = struct.unpack_from("<Q", d, attrs_off + 24)[0]
    off, size = struct.unpack_from("<QQ", d, 40)
    found, p = [], off
    while p < off + size:
        rtype, _misc, rsize = struct.unpack_from("<IHH", d, p)
        if rtype == PERF_RECORD_SAMPLE:
            found.append(p)
        p += rsize
    return sample_type, found


def with_bogus_context(src: Path, dst: Path) -> int:
    """SRC copied to DST with the first sample's user-context marker replaced by
    BOGUS_CONTEXT; the index of that sample among the file's samples."""
    d = bytearray(src.read_bytes())
    st, recs = _samples(d)
    assert st & _SAMPLE_CALLCHAIN and not st & _SAMPLE_READ
    skip = 8 + 8 * sum(1 for bit in _BEFORE_CALLCHAIN if st & bit)
    for n, p in enumerate(recs):
        nr = struct.unpack_from("<Q", d, p + skip)[0]
        chain = struct.unpack_from(f"<{nr}Q", d, p + skip + 8)
        if PERF_CONTEXT_USER in chain and len(chain) > 3:
            struct.pack_into("<Q", d, p + skip + 8 + 8 * chain.index(PERF_CONTEXT_USER), BOGUS_CONTEXT)
            dst.write_bytes(d)
            return n
    raise AssertionError("no sample with a user callchain in " + str(src))


def with_exited_pid(src: Path, dst: Path) -> None:
    """SRC copied to DST with the first sample's pid set to -1, as an exiting task's."""
    d = bytearray(src.read_bytes())
    st, recs = _samples(d)
    struct.pack_into("<i", d, recs[0] + 8 + 8 * bool(st & (1 << 16)) + 8 * bool(st & _SAMPLE_IP), -1)
    dst.write_bytes(d)


def both(*args: str) -> tuple[bytes, bytes]:
    """stdout of `perf script ARGS` and of `scripthost trace ARGS`, each checked to succeed."""
    p, s = perf("script", *args), scripthost("trace", *args)
    assert p.returncode == 0, p.stderr.decode()
    assert s.returncode == 0, s.stderr.decode()
    return p.stdout, s.stdout


def _blocks(out: bytes) -> list[bytes]:
    return out.split(b"\n\n")


@needs_perf
def test_bogus_context_drops_the_whole_chain_in_default_output(tmp_path: Path) -> None:
    bad = tmp_path / "bad.data"
    n = with_bogus_context(DATA, bad)
    p, s = both("-i", str(bad))
    pb, sb = _blocks(p), _blocks(s)
    assert len(pb) == len(sb)
    assert b"\n" not in pb[n].strip(b"\n"), "perf prints the sample line, then no frames"
    assert sb[n] == pb[n]


@needs_perf
def test_bogus_context_in_python_callchain(tmp_path: Path) -> None:
    bad = tmp_path / "bad.data"
    n = with_bogus_context(DATA, bad)
    script = tmp_path / "pid.py"
    script.write_text(PID_SCRIPT)
    p, s = both("-i", str(bad), "-s", str(script))
    assert p.splitlines()[n].endswith(b" 0")
    assert s == p


@can_record
def test_bogus_context_in_stackcollapse_on_a_fresh_recording(tmp_path: Path) -> None:
    stackcollapse = Path(PERF_EXEC or "") / "scripts" / "python" / "stackcollapse.py"
    if not stackcollapse.is_file():
        pytest.skip("perf's stackcollapse.py is not installed")
    rec = tmp_path / "rec.data"
    r = perf("record", "-q", "-g", "-e", "cpu-clock", "-c", "100000", "-o", str(rec), "--",
             "python3", "-c", "import time\nt=time.time()\nwhile time.time()-t<0.3: pass")
    assert r.returncode == 0, r.stderr.decode()
    bad = tmp_path / "bad.data"
    with_bogus_context(rec, bad)
    p, s = both("-i", str(bad), "-s", str(stackcollapse))
    assert s == p
    p, s = both("-i", str(bad))
    assert s == p

# perf's Perl engine hands tracepoint handlers the callchain; this prints its length
PERL_CHAIN_SCRIPT = """\
sub raw_syscalls::sys_enter { my ($n, $ctx, $cpu, $s, $ns, $pid, $comm, $cc) = @_; print scalar(@$cc), "\\n"; }
"""


@can_record
@needs_perl
def test_bogus_context_in_perl_callchain(tmp_path: Path) -> None:
    rec = tmp_path / "rec.data"
    r = perf("record", "-q", "-g", "-e", "raw_syscalls:sys_enter", "-o", str(rec), "--", "true")
    assert r.returncode == 0, r.stderr.decode()
    bad = tmp_path / "bad.data"
    n = with_bogus_context(rec, bad)
    script = tmp_path / "chain.pl"
    script.write_text(PERL_CHAIN_SCRIPT)
    p, s = both("-i", str(bad), "-s", str(script))
    assert p.splitlines()[n] == b"0"
    assert s == p


@needs_perf
def test_exited_task_pid_reaches_python_unsigned(tmp_path: Path) -> None:
    exited = tmp_path / "exited.data"
    with_exited_pid(DATA, exited)
    script = tmp_path / "pid.py"
    script.write_text(PID_SCRIPT)
    p, s = both("-i", str(exited), "-s", str(script))
    assert p.splitlines()[0].startswith(b"4294967295 ")
    assert s == p


@can_record
@pytest.mark.parametrize("mode", ["file", "pipe"])
def test_proc_map_timeout_warning(mode: str, tmp_path: Path) -> None:
    """MMAP records synthesized after perf record's /proc maps read timed out (their misc
    bit PROC_MAP_PARSE_TIMEOUT) make perf script warn at the end, with their count."""
    data = tmp_path / "t.data"
    r = perf("record", "-q", "-a", "--proc-map-timeout=1", "-e", "irq:softirq_entry",
             "-o", str(data) if mode == "file" else "-", "--", "sleep", "0.2")
    assert r.returncode == 0, r.stderr.decode()[-500:]
    if mode == "pipe":
        data.write_bytes(r.stdout)
    theirs = perf("script", "-i", str(data))
    if b"map information files" not in theirs.stderr:
        pytest.skip("every /proc maps read finished within 1 ms this time")
    ours = scripthost("trace", "-i", str(data))
    assert (ours.returncode, ours.stdout, ours.stderr) == (0, theirs.stdout, theirs.stderr)
