"""perf 6.1's in-memory ``struct perf_sample`` (x86_64), as bytes.

perf's Perl `process_event` gets this struct's bytes as its third argument
(scripts unpack its leading fields, as `perf script -g perl` skeletons do).
Every value field is filled as perf's sample parser fills it, defaults
included; the pointer fields (raw data, callchain, branch stack, registers,
stack, read values, AUX data) point into perf's own memory and are zero here.
"""

from __future__ import annotations

import struct
from typing import Any

from scripthost.engine.attrs import S_CPU, S_IP, S_PERIOD, S_PID, S_RAW, S_TID, S_TIME
from scripthost.engine.layouts import ReadFormat, SampleType

__all__ = ["SIZE", "perf_sample_bytes"]

#: sizeof(struct perf_sample) in perf 6.1 on x86_64 (measured: length of the argument)
SIZE = 1368
#: the scalar head, offsets 0-158: ip, pid, tid, time, addr, id, stream_id, period,
#: weight, transaction, insn_cnt, cyc_cnt, cpu, raw_size, data_src, phys_addr,
#: data_page_size, code_page_size, cgroup, flags, machine_pid, vcpu, insn_len,
#: cpumode, (pad), misc, ins_lat, p_stage_cyc, no_hw_idx
_HEAD = struct.Struct("<QIIQQQQQQQQQIIQQQQQIIIHBxHHHB")
#: struct regs_dump's abi and mask, for user_regs and intr_regs
_REGS = struct.Struct("<QQ")
_USER_REGS, _INTR_REGS = 200, 744
#: struct stack_dump's offset (u16) and size
_STACK = struct.Struct("<H6xQ")
_USER_STACK = 1288
#: struct sample_read: time_enabled, time_running, then one value's value, id, lost
#: (a group's nr is where a single value is)
_READ = struct.Struct("<QQQQQ")
_READ_AT = 1312
_AUX_AT = 1352
#: what perf's parser leaves in a field the sample does not carry
_NONE = (1 << 64) - 1
_NONE32 = (1 << 32) - 1
_DATA_SRC_NONE = 0x05080021  # PERF_MEM_DATA_SRC_NONE as perf 6.1's headers spell it
_BRANCH_HW_INDEX = 1 << 17   # PERF_SAMPLE_BRANCH_HW_INDEX
#: sample_type bits whose values are past the fixed fields the sample tuple gives
_SLOW = (SampleType.IDENTIFIER | SampleType.ID | SampleType.ADDR | SampleType.STREAM_ID
         | SampleType.READ | SampleType.BRANCH_STACK | SampleType.REGS_USER | SampleType.STACK_USER
         | SampleType.WEIGHT | SampleType.WEIGHT_STRUCT | SampleType.DATA_SRC
         | SampleType.TRANSACTION | SampleType.REGS_INTR | SampleType.PHYS_ADDR | SampleType.AUX
         | SampleType.CGROUP | SampleType.DATA_PAGE_SIZE | SampleType.CODE_PAGE_SIZE)


def perf_sample_bytes(ev: Any, smp: tuple, buf: bytes, pos: int) -> bytes:
    """The struct for sample ``smp`` (``ev.parse(buf, pos)``) of evsel ``ev``, without
    its trailing zero bytes (the struct is `SIZE` bytes: pad it back)."""
    st = ev.sample_type
    f = ev.sample_fields(buf, pos) if st & _SLOW else {}
    misc = buf[pos + 4] | buf[pos + 5] << 8
    weight = f.get("weight", 0)
    ins_lat = 0
    if st & SampleType.WEIGHT_STRUCT:  # x86: the low 32 bits, then the instruction latency
        weight, ins_lat = weight & _NONE32, (weight >> 32) & 0xFFFF
    raw = smp[S_RAW]
    out = bytearray(SIZE)
    _HEAD.pack_into(
        out, 0, smp[S_IP], smp[S_PID] & _NONE32, smp[S_TID] & _NONE32,
        smp[S_TIME] if st & SampleType.TIME else _NONE, f.get("addr", 0), f.get("id", _NONE),
        f.get("stream_id", _NONE), smp[S_PERIOD], weight, f.get("transaction", 0), 0, 0,
        smp[S_CPU] & _NONE32, len(raw) if raw is not None else 0, f.get("data_src", _DATA_SRC_NONE),
        f.get("phys_addr", 0), f.get("data_page_size", 0), f.get("code_page_size", 0),
        f.get("cgroup", 0), 0, 0, _NONE32, 0, misc & 7, misc, ins_lat, 0,
        bool(st & SampleType.BRANCH_STACK) and not ev.attr["branch_sample_type"] & _BRANCH_HW_INDEX)
    for key, at, mask in (("user_regs", _USER_REGS, "sample_regs_user"),
                          ("intr_regs", _INTR_REGS, "sample_regs_intr")):
        if key in f and f[key][0]:
            _REGS.pack_into(out, at, f[key][0], ev.attr[mask])
    if "user_stack" in f:
        _STACK.pack_into(out, _USER_STACK, *f["user_stack"])
    values = f.get("values")
    if values:
        rf = ev.read_format
        vid, value, lost = values[0]
        one = (len(values), 0, 0) if rf & ReadFormat.GROUP else (value, vid, lost or 0)
        _READ.pack_into(out, _READ_AT, f.get("time_enabled", 0), f.get("time_running", 0), *one)
    if "aux_size" in f:
        struct.pack_into("<Q", out, _AUX_AT, f["aux_size"])
    return bytes(out).rstrip(b"\0")
