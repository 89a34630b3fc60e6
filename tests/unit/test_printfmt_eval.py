"""print_fmt evaluation through its public entry, PrintFormat(fmt).render(raw), on format
files written here (a kernel's sched_wakeup, and one exercising the helpers).  The values
are libtraceevent's, which the differential tests compare with perf: it computes in u64,
so -7 / 2 printed with %d is -4 and `n < 0` is false."""

from __future__ import annotations

import struct

from scripthost.engine.printfmt import PrintFormat
from scripthost.engine.tpformat import parse_format

_COMMON = """\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;
\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;
\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;
\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;
"""

SCHED_WAKEUP = f"""name: sched_wakeup
ID: 374
format:
{_COMMON}
\tfield:char comm[16];\toffset:8;\tsize:16;\tsigned:0;
\tfield:pid_t pid;\toffset:24;\tsize:4;\tsigned:1;
\tfield:int prio;\toffset:28;\tsize:4;\tsigned:1;
\tfield:int target_cpu;\toffset:32;\tsize:4;\tsigned:1;

print fmt: "comm=%s pid=%d prio=%d target_cpu=%03d", REC->comm, REC->pid, REC->prio, REC->target_cpu
"""


def _helpers(print_fmt: str) -> str:
    return f"""name: helpers
ID: 1
format:
{_COMMON}
\tfield:unsigned long flags;\toffset:8;\tsize:8;\tsigned:0;
\tfield:int state;\toffset:16;\tsize:4;\tsigned:1;
\tfield:int n;\toffset:20;\tsize:4;\tsigned:1;

print fmt: {print_fmt}
"""


HELPERS = _helpers('"flags=%s state=%s half=%d neg=%s x=%x", '
                   '__print_flags(REC->flags, "|", { 1, "A" }, { 2, "B" }, { 8, "D" }), '
                   '__print_symbolic(REC->state, { 0, "R" }, { 1, "S" }), '
                   'REC->n / 2, REC->n < 0 ? "yes" : "no", REC->n & 0xff')


def _raw(*values: int) -> bytes:
    return struct.pack("<HBBiQii", 1, 0, 0, 0, *values)


def test_plain_fields() -> None:
    pf = PrintFormat(parse_format(SCHED_WAKEUP, "sched"))
    raw = struct.pack("<HBBi16siii", 374, 0, 0, 7, b"bash", 42, 120, 3)
    assert not pf.failed
    assert pf.render(raw) == "comm=bash pid=42 prio=120 target_cpu=003"


def test_helpers_and_operators() -> None:
    pf = PrintFormat(parse_format(HELPERS, "x"))
    assert not pf.failed
    assert pf.render(_raw(1 | 8 | 16, 1, -7)) == "flags=A|D|0x10 state=S half=-4 neg=no x=f9"
    assert pf.render(_raw(0, 5, 10)) == "flags= state=0x5 half=5 neg=no x=a"


def test_a_format_that_does_not_parse_prints_its_fields() -> None:
    pf = PrintFormat(parse_format(_helpers('"n=%d", (REC->n'), "x"))
    assert pf.failed
    assert pf.render(_raw(0, 5, 10)) == "[FAILED TO PARSE] flags=0x0 state=5 n=10"
