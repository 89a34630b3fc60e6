"""Side-band records as `perf script --show-*-events` prints them: each record type's
body layout (declared once, here), which option shows it, and the text perf 6.1 prints
after a record's "comm tid [cpu] time: " columns."""

from __future__ import annotations

import struct
from typing import Callable, Optional

from scripthost.engine.layouts import RECORD_NAMES, SAMPLE_ID_TRAILER, RecordType as R

__all__ = ["SHOWN_BY", "ROUND_LINE", "describe", "trailer_fields"]

#: option dest -> the record types it shows
SHOWN_BY: dict[str, tuple[int, ...]] = {
    "show_task_events": (R.COMM, R.FORK, R.EXIT),
    "show_mmap_events": (R.MMAP, R.MMAP2),
    "show_switch_events": (R.SWITCH, R.SWITCH_CPU_WIDE),
    "show_lost_events": (R.LOST,),
    "show_namespace_events": (R.NAMESPACES,),
    "show_cgroup_events": (R.CGROUP,),
    "show_bpf_events": (R.KSYMBOL, R.BPF_EVENT),
    "show_round_events": (R.FINISHED_ROUND,),
}

#: what --show-round-events prints for each FINISHED_ROUND record
ROUND_LINE = "PERF_RECORD_FINISHED_ROUND\n"

# header misc bits (perf_event.h)
_MISC_COMM_EXEC = 1 << 13
_MISC_MMAP_DATA = 1 << 13
_MISC_MMAP_BUILD_ID = 1 << 14
_MISC_SWITCH_OUT = 1 << 13
_MISC_SWITCH_OUT_PREEMPT = 1 << 14

# record bodies (after the 8-byte header): the fixed part of each, and where its string starts
_PID_TID = struct.Struct("<II")
_FORK = struct.Struct("<IIII")  # pid, ppid, tid, ptid (time follows)
_MMAP = struct.Struct("<iIQQQ")  # pid, tid, start, len, pgoff; filename at 32
_MMAP2 = struct.Struct("<iIQQQIIQQII")  # ... maj, min, ino, ino_generation, prot, flags; filename at 64
_MMAP2_BUILD_ID = struct.Struct("<B")  # build-id size at 32, its bytes at 36
_NAMESPACES = struct.Struct("<IIQ")  # pid, tid, nr; nr (dev, ino) pairs follow
_NS_LINK = struct.Struct("<QQ")
_LOST = struct.Struct("<QQ")  # id, lost
_CGROUP = struct.Struct("<Q")  # id; path at 8
_KSYMBOL = struct.Struct("<QIHH")  # addr, len, type, flags; name at 16
_BPF_EVENT = struct.Struct("<HHI")  # type, flags, id
_NS_NAMES = ("net", "uts", "ipc", "pid", "user", "mnt", "cgroup")
_PROT_READ, _PROT_WRITE, _PROT_EXEC = 1, 2, 4
_MAP_SHARED = 1


def _hex(v: int) -> str:
    """C's "%#lx": 0 has no prefix."""
    return "%#x" % v if v else "0"


def _text(body: bytes, at: int) -> str:
    return body[at:].split(b"\0", 1)[0].decode("utf-8", "surrogateescape")


def _comm(misc: int, body: bytes) -> tuple[str, int]:
    pid, tid = _PID_TID.unpack_from(body)
    return "%s: %s:%d/%d\n" % (" exec" if misc & _MISC_COMM_EXEC else "", _text(body, 8), pid, tid), tid


def _fork(misc: int, body: bytes) -> tuple[str, int]:
    pid, ppid, tid, ptid = _FORK.unpack_from(body)
    return "(%d:%d):(%d:%d)\n" % (pid, tid, ppid, ptid), tid


def _mmap(misc: int, body: bytes) -> tuple[str, int]:
    pid, tid, start, length, pgoff = _MMAP.unpack_from(body)
    kind = "r" if misc & _MISC_MMAP_DATA else "x"
    return " %d/%d: [%s(%s) @ %s]: %s %s\n" % (pid, tid, _hex(start), _hex(length), _hex(pgoff), kind,
                                               _text(body, _MMAP.size)), tid


def _mmap2(misc: int, body: bytes) -> tuple[str, int]:
    pid, tid, start, length, pgoff, maj, mnr, ino, gen, prot, flags = _MMAP2.unpack_from(body)
    if misc & _MISC_MMAP_BUILD_ID:
        n = min(_MMAP2_BUILD_ID.unpack_from(body, 32)[0], 20)
        where = "<%s>" % body[36:36 + n].hex()
    else:
        where = "%02x:%02x %d %d" % (maj, mnr, ino, gen)
    perms = "".join([c if prot & bit else "-" for c, bit in
                     (("r", _PROT_READ), ("w", _PROT_WRITE), ("x", _PROT_EXEC))])
    perms += "s" if flags & _MAP_SHARED else "p"
    return " %d/%d: [%s(%s) @ %s %s]: %s %s\n" % (pid, tid, _hex(start), _hex(length), _hex(pgoff), where,
                                                 perms, _text(body, _MMAP2.size)), tid


def _switch_state(misc: int) -> str:
    if not misc & _MISC_SWITCH_OUT:
        return "IN         "
    return "OUT preempt" if misc & _MISC_SWITCH_OUT_PREEMPT else "OUT        "


def _switch(misc: int, body: bytes) -> tuple[str, int]:
    return " %s\n" % _switch_state(misc), -1


def _switch_cpu_wide(misc: int, body: bytes) -> tuple[str, int]:
    pid, tid = _PID_TID.unpack_from(body)
    which = "next" if misc & _MISC_SWITCH_OUT else "prev"
    return " %s  %s pid/tid: %5d/%-5d\n" % (_switch_state(misc), which, pid, tid), -1


def _namespaces(misc: int, body: bytes) -> tuple[str, int]:
    pid, tid, nr = _NAMESPACES.unpack_from(body)
    nr = min(nr, (len(body) - _NAMESPACES.size) // _NS_LINK.size)
    parts = [" %d/%d - nr_namespaces: %d\n\t\t[" % (pid, tid, nr)]
    for i in range(nr):
        dev, ino = _NS_LINK.unpack_from(body, _NAMESPACES.size + i * _NS_LINK.size)
        name = _NS_NAMES[i] if i < len(_NS_NAMES) else "UNKNOWN"
        parts.append("%d/%s: %d/%s" % (i, name, dev, _hex(ino)))
        parts.append("]\n" if i + 1 == nr else ", \n\t\t " if (i + 1) % 4 == 0 else ", ")
    return "".join(parts), tid


def _lost(misc: int, body: bytes) -> tuple[str, int]:
    return " lost %d\n" % _LOST.unpack_from(body)[1], -1


def _cgroup(misc: int, body: bytes) -> tuple[str, int]:
    return " cgroup: %d %s\n" % (_CGROUP.unpack_from(body)[0], _text(body, _CGROUP.size)), -1


def _ksymbol(misc: int, body: bytes) -> tuple[str, int]:
    addr, length, ktype, flags = _KSYMBOL.unpack_from(body)
    return " addr %x len %d type %d flags 0x%x name %s\n" % (addr, length, ktype, flags,
                                                            _text(body, _KSYMBOL.size)), -1


def _bpf_event(misc: int, body: bytes) -> tuple[str, int]:
    return " type %d, flags %d, id %d\n" % _BPF_EVENT.unpack_from(body), -1


# record type -> (the fixed bytes its body needs, its text and whose thread's comm heads it)
_DESCRIBE: dict[int, tuple[int, Callable[[int, bytes], tuple[str, int]]]] = {
    R.COMM: (_PID_TID.size, _comm), R.FORK: (_FORK.size, _fork), R.EXIT: (_FORK.size, _fork),
    R.MMAP: (_MMAP.size, _mmap), R.MMAP2: (_MMAP2.size, _mmap2),
    R.SWITCH: (0, _switch), R.SWITCH_CPU_WIDE: (_PID_TID.size, _switch_cpu_wide),
    R.NAMESPACES: (_NAMESPACES.size, _namespaces), R.LOST: (_LOST.size, _lost),
    R.CGROUP: (_CGROUP.size, _cgroup), R.KSYMBOL: (_KSYMBOL.size, _ksymbol),
    R.BPF_EVENT: (_BPF_EVENT.size, _bpf_event),
}


def describe(rtype: int, misc: int, body: bytes) -> Optional[tuple[str, int]]:
    """perf's "PERF_RECORD_<TYPE>..." text of a record and the tid of the thread whose comm
    heads its line (-1: the sample_id's thread); None for a body too short for its layout."""
    need, fn = _DESCRIBE[rtype]
    if len(body) < need:
        return None
    text, tid = fn(misc, body)
    return "PERF_RECORD_" + RECORD_NAMES[rtype] + text, tid


def trailer_fields(sample_type: int, body: bytes) -> dict[str, int]:
    """The sample_id_all trailer at the end of ``body``: "pid", "tid", "time", "cpu"... by name."""
    slots = [tag for bit, tag in SAMPLE_ID_TRAILER if sample_type & bit]
    at = len(body) - 8 * len(slots)
    out: dict[str, int] = {}
    if at < 0:
        return out
    for tag in slots:
        if tag == "tid":
            out["pid"], out["tid"] = struct.unpack_from("<ii", body, at)
        elif tag == "cpu":
            out["cpu"] = struct.unpack_from("<I", body, at)[0]
        else:
            out[tag] = struct.unpack_from("<Q", body, at)[0]
        at += 8
    return out
