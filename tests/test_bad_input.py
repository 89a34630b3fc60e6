"""Bad input, one class per test: perf's own recordings (tests/data/engine, perf 6.1)
corrupted here as the fuzzer once found them, each read by scripthost and, where perf's
behaviour matters, by the real `perf script` too.

The contract (docs and tests/fuzz_engine.py): a corrupt input is read through, or
stops with one line "scripthost: ... at offset 0x..", exit non-zero, no traceback,
every event before the fault delivered and trace_end run; the output is bounded by
the input; a script is never blamed for the engine's fault.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import DATA, can_record, needs_perf, perf, scripthost

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


# -- 2, 3. tracepoint fields where the record has none, or over the common ones -------------

def _field_moved(data: bytes, event: bytes, old: bytes, new: bytes) -> bytes:
    """``data`` with a field line of ``event``'s format rewritten (same length, padded)."""
    start = data.index(b"name: " + event + b"\n")
    end = data.index(b"print fmt", start)
    new = new.ljust(len(old))
    assert len(new) == len(old) and data[start:end].count(old) == 1
    return data[:start] + data[start:end].replace(old, new) + data[end:]


def _sample_at(data: bytes, err: str) -> int:
    """The offset a one-line error names, checked to be a SAMPLE record's in ``data``."""
    off = int(err.rsplit("at offset ", 1)[1], 16)
    assert int.from_bytes(data[off:off + 4], "little") == 9  # PERF_RECORD_SAMPLE
    return off


RET_FAR = (b"sys_exit", b"field:long ret;\toffset:16;\tsize:8;\tsigned:1;", b"field:long ret;offset:99999999;size:8;")
ARGS_PAST = (b"sys_enter", b"field:unsigned long args[6];\toffset:16;", b"field:unsigned long args[6];\toffset:96;")
# a handler by name: the native core calls it; one that asks perf_trace_context: generated Python
COUNTS = ("calls = 0\n"
          "def trace_end():\n    print('trace_end', calls)\n"
          "def raw_syscalls__sys_exit(event_name, context, cpu, secs, nsecs, pid, comm, chain, id, ret):\n"
          "    global calls\n    calls += 1\n{extra}")
USES_CONTEXT = "    common_pc(context)\nfrom perf_trace_context import *\n"


@pytest.mark.parametrize("extra", ["", USES_CONTEXT], ids=["core", "generated"])
@pytest.mark.parametrize("seed", [FILE, PIPE], ids=["file", "pipe"])
def test_a_field_past_the_payload_is_one_line_for_a_script(seed: bytes, extra: str, tmp_path: Path) -> None:
    """sys_exit's ret at offset 99999999 (perf 6.1 dies of SIGSEGV on it, measured): the
    script's handler is never called with it; one line naming the sample, exit 2,
    trace_end run, nothing blamed on the script."""
    data = _field_moved(seed, *RET_FAR)
    script = tmp_path / "s.py"
    script.write_text(COUNTS.format(extra=extra))
    r = scripthost("trace", "-i", _write(tmp_path, data), "-s", str(script), timeout=60)
    last = _one_line_error(r, "corrupt tracepoint data for raw_syscalls__sys_exit: a field runs past the payload")
    assert r.returncode == 2 and r.stdout == b"trace_end 0\n"
    _sample_at(data, last)


@needs_perf
def test_a_field_past_the_payload_prints_failed_in_the_default_output(tmp_path: Path) -> None:
    """The default output reads through: such an event prints [FAILED TO PARSE] with the
    fields that are there, every other line as perf prints it (perf: SIGSEGV for the far
    field; the near one it reads from the next record's bytes, which we do not)."""
    for edit in (RET_FAR, ARGS_PAST):
        for seed, name in ((FILE, "small.data"), (PIPE, "small.pipe")):
            r = scripthost("trace", "-i", _write(tmp_path, _field_moved(seed, *edit)), timeout=60)
            assert r.returncode == 0 and r.stderr == b""
            want = (ENGINE / f"{name}.expected").read_bytes().splitlines()
            got = r.stdout.splitlines()
            assert len(got) == len(want)
            ev = edit[0].decode()
            for w, g in zip(want, got):
                if f"raw_syscalls:{ev}:" in w.decode():
                    head = w[:w.index(b": ", w.index(b"raw_syscalls:")) + 2]
                    assert g.startswith(head + b"[FAILED TO PARSE] id="), g
                    assert g.endswith(b" ret=" if ev == "sys_exit" else b" args=ARRAY[]"), g
                else:
                    assert g == w
    crash = perf("script", "-i", _write(tmp_path, _field_moved(FILE, *RET_FAR)))
    assert crash.returncode == -11 or crash.returncode == 139


FIRST_AT_0 = (b"sys_enter", b"field:long id;\toffset:8;", b"field:long id;\toffset:0;")
SHOW = ("def raw_syscalls__sys_enter(event_name, context, cpu, secs, nsecs, pid, comm, chain, id, args):\n"
        "    print(cpu, secs, nsecs, pid, comm, id, args[:3]){extra}\n")


@needs_perf
@pytest.mark.parametrize("extra", ["", "; common_pc(context)\nfrom perf_trace_context import *"],
                         ids=["core", "generated"])
def test_a_field_over_the_common_ones_reads_as_perf(extra: str, tmp_path: Path) -> None:
    """sys_enter's id moved to offset 0, over common_type..common_pid: every handler gets
    what perf 6.1 gives (the generated one raised NameError: _cpid, blamed on the script)."""
    path = _write(tmp_path, _field_moved(FILE, *FIRST_AT_0))
    script = tmp_path / "s.py"
    script.write_text(SHOW.format(extra=extra))
    theirs = perf("script", "-i", path, "-s", str(script))
    ours = scripthost("trace", "-i", path, "-s", str(script), timeout=60)
    assert ours.returncode == 0 and theirs.returncode == 0, ours.stderr
    assert ours.stdout == theirs.stdout and b"21612292211131" in ours.stdout
    assert ours.stderr == b""


def _lua(lua: str, *args: str) -> subprocess.CompletedProcess:
    """scripthost with lupa's LuaJIT (records decoded in place), or with LuaJIT hidden so
    that Lua 5.4 runs (records decoded in Python)."""
    block = "sys.modules['lupa.luajit21'] = None; " if lua == "lua54" else ""
    r = subprocess.run([sys.executable, "-c", f"import runpy, sys; {block}sys.argv = ['scripthost'] + sys.argv[1:]; "
                        "runpy.run_module('scripthost', run_name='__main__')", *args], capture_output=True, timeout=60)
    if b"lupa is not installed" in r.stderr:
        pytest.skip("lupa is not installed")
    return r


@pytest.mark.parametrize("lua", ["luajit", "lua54"])
@pytest.mark.parametrize("seed", [FILE, PIPE], ids=["file", "pipe"])
def test_a_field_past_the_payload_is_one_line_for_a_lua_script(seed: bytes, lua: str, tmp_path: Path) -> None:
    """The same for Lua: the Python runtime's line (under LuaJIT it had Lua's traceback
    in it, and no offset)."""
    data = _field_moved(seed, *RET_FAR)
    script = tmp_path / "s.lua"
    script.write_text("n = 0\nfunction raw_syscalls__sys_exit(...) n = n + 1 end\n"
                      "function trace_end() print('trace_end', n) end\n")
    r = _lua(lua, "trace", "-i", _write(tmp_path, data), "-s", str(script))
    last = _one_line_error(r, "corrupt tracepoint data for raw_syscalls__sys_exit: a field runs past the payload")
    assert r.returncode == 2 and r.stdout == b"trace_end\t0\n" and r.stderr.count(b"\n") == 1
    _sample_at(data, last)


@pytest.mark.parametrize("lua", ["luajit", "lua54"])
def test_a_field_over_the_common_ones_in_lua(lua: str, tmp_path: Path) -> None:
    """The same for a Lua script, decoded in place (LuaJIT) or in Python (Lua 5.4, where
    it raised NameError: _cpid): the values perf's Python handlers get."""
    path = _write(tmp_path, _field_moved(FILE, *FIRST_AT_0))
    script = tmp_path / "s.lua"
    script.write_text("function raw_syscalls__sys_enter(ev, ctx, cpu, secs, nsecs, pid, comm, chain, id, args)\n"
                      "  print(cpu, secs, nsecs, pid, comm, id, #args)\nend\n")
    r = _lua(lua, "trace", "-i", path, "-s", str(script))
    assert r.returncode == 0 and r.stderr == b"", r.stderr
    first = r.stdout.splitlines()[0].split(b"\t")
    assert first[3:6] == [b"5032", b"sh", b"21612292211131"], first


# -- 4. sample_type bits past the ones perf knows --------------------------------------------

def _attr_offsets(data: bytes) -> list[int]:
    """Where each perf_event_attr starts: the attrs section's (file) or HEADER_ATTR records' (pipe)."""
    if int.from_bytes(data[8:16], "little") != 16:
        size, at, total = (int.from_bytes(data[o:o + 8], "little") for o in (16, 24, 32))
        return list(range(at, at + total, size))
    out, pos = [], 16
    while True:
        rtype, size = int.from_bytes(data[pos:pos + 4], "little"), int.from_bytes(data[pos + 6:pos + 8], "little")
        if rtype != 64:
            return out
        out.append(pos + 8)
        pos += size


UNHANDLED = "def trace_unhandled(name, context, fields):\n    print(name, sorted(fields))\n"


@needs_perf
@pytest.mark.parametrize("seed", [FILE, PIPE], ids=["file", "pipe"])
def test_unknown_sample_type_bits_are_ignored_as_perf(seed: bytes, tmp_path: Path) -> None:
    """Bits 25, 32 and 63 set in every event's sample_type (bit 32 once raised TypeError):
    perf 6.1 ignores them; so do we, in the default output and a Python script."""
    data = bytearray(seed)
    offsets = _attr_offsets(seed)
    assert len(offsets) == 4
    for at in offsets:
        st = int.from_bytes(data[at + 24:at + 32], "little") | 1 << 25 | 1 << 32 | 1 << 63
        data[at + 24:at + 32] = st.to_bytes(8, "little")
    path = _write(tmp_path, bytes(data))
    script = tmp_path / "s.py"
    script.write_text(UNHANDLED)
    for args in ((), ("-s", str(script))):
        theirs, ours = perf("script", "-i", path, *args), scripthost("trace", "-i", path, *args, timeout=60)
        assert ours.returncode == 0 and ours.stderr == b"", ours.stderr
        assert ours.stdout == theirs.stdout and len(ours.stdout) > 1000


# -- 5. sizes that claim more than the input holds -------------------------------------------

def _limited(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    """scripthost with 1.5 GiB of address space: a 4 GiB allocation fails (MemoryError)."""
    import resource

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (3 << 29, 3 << 29))
    return subprocess.run([sys.executable, "-m", "scripthost", *args], input=stdin, capture_output=True,
                          preexec_fn=limit, timeout=60)


def _u64(data: bytes, at: int) -> int:
    return int.from_bytes(data[at:at + 8], "little")


def _set_u64(data: bytes, at: int, value: int) -> bytes:
    return data[:at] + value.to_bytes(8, "little") + data[at + 8:]


def test_section_sizes_past_the_file_are_checked_before_reading(tmp_path: Path) -> None:
    """A feature section, an attr's id list or the attrs section said to hold 4 GiB (or
    more): one line naming the section and its offset, from a file or through a pipe,
    without allocating it (it was MemoryError under a 1.5 GiB address space)."""
    attr_size, attrs_at = _u64(FILE, 16), _u64(FILE, 24)
    features = _u64(FILE, 40) + _u64(FILE, 48)  # the feature index follows the data section
    cases = [(_set_u64(FILE, features + 8, 1 << 32), "feature section 1 of 4294967296 bytes", _u64(FILE, features)),
             (_set_u64(FILE, attrs_at + attr_size - 8, 1 << 32), "attr id list of 4294967296 bytes",
              _u64(FILE, attrs_at + attr_size - 16)),
             (_set_u64(FILE, 32, attr_size << 32), f"attrs section of {attr_size << 32} bytes", attrs_at)]
    for data, words, at in cases:
        path = _write(tmp_path, data)
        for r in (_limited("trace", "-i", path), _limited("trace", "-i", "-", stdin=data)):
            last = _one_line_error(r, f"corrupt perf.data: {words} runs past the end of the {len(FILE)}-byte file")
            assert last.endswith(f" at offset {at:#x}") and r.returncode == 2


def test_a_tracing_data_size_past_the_stream_is_read_as_it_comes(tmp_path: Path) -> None:
    """A pipe's HEADER_TRACING_DATA saying 4 GiB: read in pieces as the stream holds them,
    then one line (it was MemoryError under a 1.5 GiB address space)."""
    pos = 16
    while int.from_bytes(PIPE[pos:pos + 4], "little") != 66:
        pos += int.from_bytes(PIPE[pos + 6:pos + 8], "little")
    data = PIPE[:pos + 8] + (0xFFFFFFF0).to_bytes(4, "little") + PIPE[pos + 12:]
    for r in (_limited("trace", "-i", "-", stdin=data), _limited("trace", "-i", _write(tmp_path, data))):
        _one_line_error(r, "truncated input: tracing data cut short at offset")


# -- 6. a perf.data whose header never got its data size (perf record killed) ----------------

def _killed_recording(tmp_path: Path) -> Path:
    """`perf record` killed with SIGKILL while recording: its header keeps data size 0."""
    out = tmp_path / "killed.data"
    # the command outlives the wait, so perf is killed while recording even on a quiet
    # machine whose events take the whole wait to fill 64 KiB
    rec = subprocess.Popen(["perf", "record", "-q", "-e", "sched:sched_switch", "-a", "-o", str(out), "--",
                            "sleep", "60"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while (not out.exists() or out.stat().st_size < 1 << 16) and time.monotonic() < deadline:
        time.sleep(0.1)
    rec.kill()
    rec.wait()
    assert _u64(out.read_bytes(), 48) == 0
    return out


@can_record
def test_a_killed_recording_is_refused_as_perf(tmp_path: Path) -> None:
    """perf 6.1 warns in two lines naming the file as given, says "incompatible file format"
    and exits 255; we say the same, the last line ours (it was read as "unknown tracepoint"
    lines and exit 0)."""
    killed = _killed_recording(tmp_path)
    for given in (str(killed), "killed.data"):
        theirs = perf("script", "-i", given, cwd=str(tmp_path))
        ours = scripthost("trace", "-i", given, cwd=str(tmp_path), timeout=60)
        assert ours.returncode == theirs.returncode == 255 and ours.stdout == theirs.stdout == b""
        warning = (f"WARNING: The {given} file's data size field is 0 which is unexpected.\n"
                   "Was the 'perf record' command properly terminated?\n").encode()
        assert theirs.stderr.startswith(warning) and ours.stderr.startswith(warning)
        assert ours.stderr[len(warning):] == (b"scripthost: incompatible file format: the header's data size is 0 "
                                              b"(was `perf record` killed before it finished?) at offset 0x30\n")
    piped = scripthost("trace", "-i", "-", input=killed.read_bytes(), timeout=60)
    assert piped.returncode == 255 and piped.stderr.startswith(b"scripthost: incompatible file format")


@needs_perf
def test_a_zero_data_size_is_refused_as_perf(tmp_path: Path) -> None:
    """The same header field zeroed in a finished recording: the same refusal, both."""
    path = _write(tmp_path, _set_u64(FILE, 48, 0))
    theirs, ours = perf("script", "-i", path), scripthost("trace", "-i", path, timeout=60)
    assert ours.returncode == theirs.returncode == 255
    assert b"data size field is 0" in ours.stderr and theirs.stderr.split(b"\n")[:2] == ours.stderr.split(b"\n")[:2]


# -- 8. names that are not UTF-8, or not one byte a character ---------------------------------

# a comm of 0xff (not UTF-8), then é and € (UTF-8 of 2 and 3 bytes): perf prints the bytes,
# and pads the comm column to 16 of them
ODD_COMM = ("import ctypes, os, time\n"
            "ctypes.CDLL(None).prctl(15, b'ab\\xff\\xc3\\xa9\\xe2\\x82\\xacd', 0, 0, 0)\n"
            "os.getppid()\nt = time.time()\nwhile time.time() - t < 0.05:\n    pass\ntime.sleep(0.01)\n")


@can_record
@pytest.mark.parametrize("mode", ["file", "pipe"])
@pytest.mark.parametrize("events", [("-e", "raw_syscalls:sys_enter", "-e", "sched:sched_switch"),
                                    ("-g", "-e", "raw_syscalls:sys_enter", "-e", "sched:sched_switch"),
                                    ("-e", "cpu-clock"), ("-g", "-e", "cpu-clock")],
                         ids=["tracepoints", "tracepoints-g", "cpu-clock", "cpu-clock-g"])
def test_comm_bytes_print_as_perf_prints_them(events: tuple, mode: str, tmp_path: Path) -> None:
    """The comm column and string fields (sched_switch's prev_comm) byte for byte as perf's:
    they were printed UTF-8 encoded again (0xff as c3 bf) and padded by characters."""
    from conftest import record_input
    args, stdin = record_input(tmp_path, mode, *events, "--", sys.executable, "-c", ODD_COMM)
    theirs, ours = perf("script", *args, input=stdin), scripthost("trace", *args, input=stdin, timeout=60)
    assert ours.returncode == 0, ours.stderr
    assert b"ab\xff\xc3\xa9\xe2\x82\xacd" in ours.stdout and ours.stdout == theirs.stdout
    if "sched:sched_switch" in events and "-g" not in events:
        assert b"prev_comm=ab\xff\xc3\xa9\xe2\x82\xacd " in ours.stdout
        assert b"\n       ab\xff\xc3\xa9\xe2\x82\xacd " in ours.stdout  # 7 spaces: 16 bytes


# -- 7. every fault names its offset ---------------------------------------------------------

def test_header_and_attr_faults_name_their_offset(tmp_path: Path) -> None:
    """EVENT_DESC saying 1000 events, an attr whose own size runs past its slot, an event
    format's ID line: each one line naming where in the file (they had no offset, or
    the offset within their section)."""
    features = _u64(FILE, 40) + _u64(FILE, 48)
    bitmap = int.from_bytes(FILE[72:80], "little")
    k = bin(bitmap & ((1 << 12) - 1)).count("1")  # EVENT_DESC (12)'s place in the index
    desc = _u64(FILE, features + 16 * k)
    attrs_at = _u64(FILE, 24)
    fmt_id = FILE.index(b"name: sys_exit\nID: 442\n") + len(b"name: sys_exit\n")
    cases = [(FILE[:desc] + (1000).to_bytes(4, "little") + FILE[desc + 4:],
              "corrupt header feature EVENT_DESC: runs past its section", None),
             (FILE[:attrs_at + 4] + (200).to_bytes(4, "little") + FILE[attrs_at + 8:],
              "corrupt perf_event_attr (size 200 in 128 bytes)", attrs_at),
             (_mutant(FILE, (b"sys_exit\nID: 442\n", b"sys_exit\nID: 4x2\n")),
              "corrupt tracing data: corrupt event format: bad ID line 'ID: 4x2'", None)]
    for data, words, at in cases:
        for args in (("trace",), ("trace", "--header-only")):
            r = scripthost(*args, "-i", _write(tmp_path, data), timeout=60)
            if args[-1] == "--header-only" and "EVENT_DESC" not in words:
                continue  # the header reads neither the attrs section nor the formats
            last = _one_line_error(r, words)
            off = int(last.rsplit("at offset ", 1)[1], 16)
            assert off == at if at is not None else desc < off <= desc + 872 or off < fmt_id, last


@can_record
@pytest.mark.parametrize("mode", ["file", "pipe"])
def test_a_callchain_past_its_sample_names_the_sample(mode: str, tmp_path: Path) -> None:
    """A cpu-clock -g sample whose callchain length runs past it: "corrupt sample: fields
    run past its N bytes at offset" the sample's (it had no offset), every sample before it
    in time printed and none after, in the default output and a process_event script."""
    from conftest import record_input
    args, stdin = record_input(tmp_path, mode, "-g", "-e", "cpu-clock", "-c", "100000", "--",
                               sys.executable, "-c", "t = __import__('time').time()\nwhile __import__('time').time() - t < 0.2: pass")
    data = Path(args[1]).read_bytes() if stdin is None else stdin
    from scripthost.engine.attrs import Evsel
    attr = _attr_offsets(data)[0]
    ev = Evsel(0, data[attr:attr + int.from_bytes(data[attr + 4:attr + 8], "little")], [])
    chain_at = ev.fixed_end  # no READ sampled: the callchain's count follows the fixed fields
    samples, pos = [], (_u64(data, 40) if stdin is None else 16)
    while pos + 8 <= len(data) and (stdin is not None or pos < _u64(data, 40) + _u64(data, 48)):
        rtype, size = int.from_bytes(data[pos:pos + 4], "little"), int.from_bytes(data[pos + 6:pos + 8], "little")
        if rtype == 66:
            pos += int.from_bytes(data[pos + 8:pos + 12], "little")
        elif rtype == 9:
            samples.append((pos, _u64(data, pos + ev.time_off)))
        pos += size
    pos, when = samples[9]  # the tenth sample read: those before it in time are printed first
    before = sum(t < when for _, t in samples)
    bad = _set_u64(data, pos + chain_at, 1 << 40)
    script = tmp_path / "pe.py"
    script.write_text("n = 0\ndef process_event(d):\n    global n\n    n += 1\ndef trace_end():\n    print('events', n)\n")
    for extra in ((), ("-s", str(script))):
        if stdin is None:
            r = scripthost("trace", "-i", _write(tmp_path, bad), *extra, timeout=60)
        else:
            r = scripthost("trace", "-i", "-", *extra, input=bad, timeout=60)
        last = _one_line_error(r, "corrupt sample: fields run past its")
        assert last.endswith(f" at offset {pos:#x}"), (last, pos)
        got = r.stdout.count(b"cpu-clock") if not extra else int(r.stdout.rsplit(b" ", 1)[1])
        assert got == before, (extra, got, before)
    # nothing after it (from a pipe, the queue was flushed after the fault: samples after
    # it, with the comms of records never delivered)
    whole = scripthost("trace", *args, input=stdin, timeout=60)
    ours = scripthost("trace", "-i", "-", input=bad, timeout=60)
    assert whole.returncode == 0 and whole.stdout.startswith(ours.stdout)


@can_record
def test_perfs_format_warnings_for_the_kernels_own_formats(tmp_path: Path) -> None:
    """The kernel's formats perf 6.1 cannot use (a function it does not know) get its
    warnings, in its words and order, as it reads them (4 of 2,323 formats here)."""
    events = ["ipi:ipi_send_cpumask", "jbd2:jbd2_checkpoint_stats", "jbd2:jbd2_run_stats", "ras:mc_event"]
    have = [e for e in events if Path("/sys/kernel/tracing/events", *e.split(":")).is_dir()]
    if not have:
        pytest.skip("none of these tracepoints here")
    path = tmp_path / "w.data"
    rec = perf("record", "-q", *[a for e in have for a in ("-e", e)], "-a", "-o", str(path), "--", "sleep", "0.1")
    assert rec.returncode == 0, rec.stderr
    theirs, ours = perf("script", "-i", str(path)), scripthost("trace", "-i", str(path), timeout=60)
    warnings = [ln for ln in theirs.stderr.decode().splitlines() if ln.startswith(("libtraceevent", "  ["))]
    assert ours.returncode == 0 and ours.stdout == theirs.stdout
    assert ours.stderr.decode().splitlines() == warnings and len(warnings) == len(have) + 1
