"""The -F columns beyond the default output's, as perf 6.1 prints them: misc, tod,
flags, addr, data_src, weight, ins_lat, iregs, uregs, phys_addr, data_page_size and
code_page_size.  Each is text made from one sample's fields (Evsel.sample_fields'
names), its misc byte and, for addr, the address resolved."""

from __future__ import annotations

import struct
import time
from typing import Callable, Optional

from scripthost.errors import ScripthostError
from scripthost.engine.layouts import SampleType

__all__ = ["EXTRA_BEFORE_IP", "EXTRA_AFTER_IP", "misc_text", "tod_text", "ADDR_SYMBOL_CONFIGS",
           "x86_regs", "page_size_text", "FLAGS_TEXT", "clock_data"]

# perf_sample.flags is set by the instruction-trace decoders only: for every sample
# here it is 0, which perf prints as this blank column
FLAGS_TEXT = " " * 24
# software events whose ADDR is an address of the task (the faulting one): perf resolves
# it to symbol and dso like an ip
ADDR_SYMBOL_CONFIGS = frozenset((2, 5, 6))  # page-faults, minor-faults, major-faults
# x86_64's perf_regs names, by their bit in sample_regs_user/intr
X86_REGS = ("AX", "BX", "CX", "DX", "SI", "DI", "BP", "SP", "IP", "FLAGS", "CS", "SS", "DS", "ES", "FS",
            "GS", "R8", "R9", "R10", "R11", "R12", "R13", "R14", "R15")
# the data_src value software events carry (PERF_MEM_NA in every part), decoded as perf does;
# other values come from hardware memory events, which cannot be recorded on this machine
_DATA_SRC_NA = 0x1e05080021
_DATA_SRC_NA_TEXT = "|OP N/A|LVL N/A or N/A|SNP N/A|TLB N/A|LCK N/A|BLK  N/A"
_CPUMODE_LETTERS = ((1, "K"), (2, "U"), (3, "H"), (4, "G"), (5, "g"))


def misc_text(misc: int) -> str:
    """perf's misc column: the cpumode's letters (each mode whose bits are all set in
    the record's cpumode), padded to 6 columns."""
    mode = misc & 7
    letters = "".join(ch for bits, ch in _CPUMODE_LETTERS if mode & bits == bits)
    return letters + " " * max(6 - len(letters), 1)


def tod_text(clock: tuple[int, int], t: int, nanoseconds: bool) -> str:
    """The wall-clock time of sample time ``t`` from perf's CLOCK_DATA
    (``clock``: wall-clock ns, clockid ns at the same instant), local time."""
    ns = clock[0] + t - clock[1]
    secs, frac = divmod(ns, 1000000000)
    day = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(secs))
    return "%s.%09d " % (day, frac) if nanoseconds else "%s.%06d " % (day, frac // 1000)


def x86_regs(regs: Optional[tuple], mask: int) -> str:
    """An iregs/uregs column: " ABI:n " then each sampled register as "%5s:0x%x "."""
    if regs is None:
        return ""
    abi, values = regs
    names = [X86_REGS[b] if b < len(X86_REGS) else "unknown" for b in range(64) if mask >> b & 1]
    return " ABI:%d " % abi + "".join(["%5s:0x%x " % nv for nv in zip(names, values)])


def page_size_text(size: int) -> str:
    """perf's page size: N/A for 0, else the size in the largest unit (K, M, G) that
    leaves more than 1."""
    if not size:
        return "N/A"
    unit = 0
    while size // 1024 > 1 and unit < 3:
        size //= 1024
        unit += 1
    return "%d%s" % (size, " KMG"[unit].strip())


def _data_src(f: dict) -> str:
    value = f.get("data_src", 0)
    if value != _DATA_SRC_NA:
        raise ScripthostError(f"data_src value {value:#x} is from a hardware memory event; decoding it is "
                              "not implemented (only software events' PERF_MEM_NA is); drop data_src from -F",
                              exit_code=1)
    return "%16x %s" % (value, _DATA_SRC_NA_TEXT)


def _weight(f: dict, st: int) -> int:
    w = f.get("weight", 0)
    return w & 0xFFFFFFFF if st & SampleType.WEIGHT_STRUCT else w


# (field, text of the sample's fields dict, its sample_type, its attr) in perf's order:
# those printed before the ip or callchain, and those after it
EXTRA_BEFORE_IP: tuple[tuple[str, Callable[[dict, int, dict], str]], ...] = (
    ("data_src", lambda f, st, attr: _data_src(f)),
    ("weight", lambda f, st, attr: "%16d" % _weight(f, st)),
    ("ins_lat", lambda f, st, attr: "%16d" % (f.get("weight", 0) >> 32 & 0xFFFF)),
)
EXTRA_AFTER_IP: tuple[tuple[str, Callable[[dict, int, dict], str]], ...] = (
    ("iregs", lambda f, st, attr: x86_regs(f.get("intr_regs"), attr["sample_regs_intr"])),
    ("uregs", lambda f, st, attr: x86_regs(f.get("user_regs"), attr["sample_regs_user"])),
    ("phys_addr", lambda f, st, attr: "%16x" % f.get("phys_addr", 0)),
    ("data_page_size", lambda f, st, attr: " " + page_size_text(f.get("data_page_size", 0))),
    ("code_page_size", lambda f, st, attr: " " + page_size_text(f.get("code_page_size", 0))),
)


def clock_data(payload: Optional[bytes]) -> Optional[tuple[int, int]]:
    """CLOCK_DATA's (wall-clock ns, clockid ns), or None where the feature is absent."""
    if payload is None or len(payload) < 24:
        return None
    return struct.unpack_from("<QQ", payload, 8)

