"""Bad input, one class per test: perf's own recordings (tests/data/engine, perf 6.1)
corrupted here as the fuzzer once found them, each read by scripthost and, where perf's
behaviour matters, by the real `perf script` too.

The contract (docs and tests/fuzz_engine.py): a corrupt input is read through, or
stops with one line "scripthost: ... at offset 0x..", exit non-zero, no traceback,
every event before the fault delivered and trace_end run; the output is bounded by
the input; a script is never blamed for the engine's fault.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from conftest import DATA, needs_perf, perf, scripthost

ENGINE = DATA / "engine"
FILE = (ENGINE / "small.data").read_bytes()
PIPE = (ENGINE / "small.pipe").read_bytes()


def _mutant(data: bytes, *edits: tuple[bytes, bytes]) -> bytes:
    """``data`` with each (old, new) replaced once: same length, so every size around holds."""
    for old, new in edits:
        assert len(old) == len(new) and data.count(old) == 1, old
        data = data.replace(old, new)
    return data


def _write(tmp_path: Path, data: bytes, name: str = "m.data") -> str:
    p = tmp_path / name
    p.write_bytes(data)
    return str(p)


def _one_line_error(r, words: str) -> str:  # noqa: ANN001
    err = r.stderr.decode()
    assert r.returncode != 0, err
    assert "Traceback" not in err, err
    last = err.splitlines()[-1]
    assert last.startswith("scripthost: ") and words in last, err
    return last


# -- 1. print formats: arguments that are not there, widths that are too wide ----------------

STAR = (b"NR %ld (%lx, %lx,", b"NR %ld (%*x, %lx,")  # '*' takes an argument sys_enter has not


@needs_perf
@pytest.mark.parametrize("seed", [FILE, PIPE], ids=["file", "pipe"])
def test_a_conversion_without_its_argument_fails_the_format_as_perf(seed: bytes, tmp_path: Path) -> None:
    """%lx turned into %*x: perf 6.1 says "no argument match" as it reads the format and
    prints every sys_enter as [FAILED TO PARSE] with its fields; the rest as usual."""
    path = _write(tmp_path, _mutant(seed, STAR))
    theirs, ours = perf("script", "-i", path), scripthost("trace", "-i", path, timeout=60)
    assert ours.returncode == 0 and ours.stdout == theirs.stdout
    assert b"raw_syscalls:sys_enter: [FAILED TO PARSE] id=12 args=ARRAY[" in ours.stdout
    want = b"libtraceevent: No such file or directory\n  [raw_syscalls:sys_enter] no argument match\n"
    assert want in theirs.stderr and ours.stderr == want


@needs_perf
def test_failed_formats_print_their_fields_as_perf(tmp_path: Path) -> None:
    """[FAILED TO PARSE] fields: an 8-byte signed long in decimal, an unsigned long and a
    4-byte long in hex (measured on perf 6.1); two formats failing, two warnings."""
    start = FILE.index(b"name: sys_exit")
    end = FILE.index(b"name: sys_enter", start)
    head, seg, tail = FILE[:start], FILE[start:end], FILE[end:]
    seg = _mutant(seg, (b"NR %ld = %ld\"", b"NR %*d = %ld\""),
                  (b"field:long id;\toffset:8;\tsize:8;\tsigned:1;", b"field:long id;\toffset:8;\tsize:8;\tsigned:0;"),
                  (b"field:long ret;\toffset:16;\tsize:8;\tsigned:1;", b"field:long ret;\toffset:16;\tsize:4;\tsigned:1;"))
    path = _write(tmp_path, _mutant(head + seg + tail, STAR, (b"prev_state=%s%s ==>", b"prev_state=%*s%s==>")))
    theirs, ours = perf("script", "-i", path), scripthost("trace", "-i", path, timeout=60)
    assert ours.returncode == 0 and ours.stdout == theirs.stdout
    assert b"sys_exit: [FAILED TO PARSE] id=0x3b ret=0x0\n" in ours.stdout
    assert b"sched_switch: [FAILED TO PARSE] prev_comm=sh prev_pid=5032 prev_prio=120 prev_state=2 " in ours.stdout
    assert ours.stderr.count(b"no argument match") == 3 and ours.stderr in theirs.stderr


@needs_perf
def test_widths_from_arguments_match_perf_within_the_bound(tmp_path: Path) -> None:
    """A width or precision from an argument (pid=%*d, pid=%.*d, prev_state=%*s with a string
    argument) prints as perf prints it, up to the bound: 64 columns or the payload's size."""
    for edit in ((b"pid=%d prio=%d target", b"pid=%*d prio   target"),
                 (b"pid=%d prio=%d target", b"pid=%.*d prio  target"),
                 (b"prev_state=%s%s ==>", b"prev_state=%*s  ==>")):
        path = _write(tmp_path, _mutant(FILE, edit))
        theirs, ours = perf("script", "-i", path), scripthost("trace", "-i", path, timeout=60)
        assert ours.returncode == 0 and ours.stderr == b""
        tl, ol = theirs.stdout.splitlines(), ours.stdout.splitlines()
        assert len(tl) == len(ol)
        for t, o in zip(tl, ol):
            assert t == o or (len(t) > len(o) and b"pid=5032" not in t), (t[:200], o[:200])
        assert tl != ol or edit[1].startswith(b"prev")  # pid=5032 as a width is past the bound


def test_a_width_from_an_argument_is_bounded_by_the_record(tmp_path: Path) -> None:
    """%lx, %lx -> %*lx: each sys_enter's first argument (an address) is its width; perf
    prints gigabytes (still writing after a minute, measured).  Ours is cut to the bound."""
    for seed, name in ((FILE, "small.data"), (PIPE, "small.pipe")):
        path = _write(tmp_path, _mutant(seed, (b"NR %ld (%lx, %lx,", b"NR %ld (%*lx    ,"),
                                        (b"NR %ld = %ld\"", b"NR %.*ld    \"")))
        t0 = time.monotonic()
        ours = scripthost("trace", "-i", path, timeout=60)
        assert ours.returncode == 0 and time.monotonic() - t0 < 30
        assert len(ours.stdout) < 4 * len(seed)
        lines = ours.stdout.splitlines()
        assert len(lines) == len((ENGINE / f"{name}.expected").read_bytes().splitlines())
        assert max(map(len, lines)) < 400
        if seed is not FILE:
            continue
        assert lines[1].endswith(b"sys_enter: NR 12 (7ffdb511f10c    , 0, 37f, 0, 0)")  # width 0
        assert lines[0].endswith(b"sys_exit: NR " + b"0" * 59 + b"    ")  # ret 0 under precision id 59
        assert any(ln.endswith(b"sys_exit: NR " + b"0" * 63 + b"3    ") for ln in lines)  # id 257 cut to 64
