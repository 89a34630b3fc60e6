"""The layout table (engine/layouts.py) and the decoders that take their offsets from it."""

from __future__ import annotations

import struct

import pytest

from scripthost.collect.perf_event import pack_attr
from scripthost.engine.attrs import S_RAW, Evsel, parse_attr, sample_type_names
from scripthost.engine.layouts import (
    ATTR, ATTR_FIELDS, ATTR_SIZE_VER7, RECORD_NAMES, AttrFlag, ReadFormat as RF, RecordType,
    SampleType as ST, named_tid, read_layout,
)


def test_attr_layout_is_perf_event_attr_ver7() -> None:
    assert ATTR.size == ATTR_SIZE_VER7 == 128
    assert len(ATTR_FIELDS) == len(ATTR.unpack(bytes(128)))
    assert ATTR_FIELDS[7] == "wakeup_events"  # the kernel's name, wherever the attr is packed or read


def test_pack_and_parse_attr_share_the_field_names() -> None:
    raw = pack_attr(type=2, config=77, sample_type=ST.RAW | ST.TIME, wakeup_events=5,
                    flags=AttrFlag.SAMPLE_ID_ALL, sig_data=9)
    a = parse_attr(raw)
    assert (a["type"], a["config"], a["wakeup_events"], a["sig_data"], a["size"]) == (2, 77, 5, 9, 128)
    assert a["sample_type"] == ST.RAW | ST.TIME and a["flags"] == 1 << 18


def test_constants_are_the_kernels_numbers() -> None:
    assert (RecordType.SAMPLE, RecordType.COMM, RecordType.FORK, RecordType.FINISHED_ROUND) == (9, 3, 7, 68)
    assert RECORD_NAMES[9] == "SAMPLE"
    assert (ST.IDENTIFIER, ST.WEIGHT_STRUCT, RF.LOST, AttrFlag.SIGTRAP) == (1 << 16, 1 << 24, 16, 1 << 37)
    assert sample_type_names(ST.IP | ST.TID | ST.IDENTIFIER) == ["IP", "TID", "IDENTIFIER"]


@pytest.mark.parametrize("rf", range(32))
def test_read_layout_sizes(rf: int) -> None:
    rl = read_layout(rf)
    times = bin(rf & 3).count("1")
    tail = bool(rf & RF.ID) + bool(rf & RF.LOST)
    assert rl.group == bool(rf & RF.GROUP)
    assert rl.head_size == 8 * (1 + times) and rl.value_size == 8 * (1 + tail)
    assert rl.fixed_size == (None if rl.group else 8 * (1 + times + tail))


def _sample(evsel_attr: bytes, body: bytes) -> tuple[Evsel, bytes]:
    ev = Evsel(0, evsel_attr, [1])
    return ev, struct.pack("<IHH", RecordType.SAMPLE, 0, 8 + len(body)) + body


@pytest.mark.parametrize("group", [False, True])
def test_read_block_decoded_by_its_layout(group: bool) -> None:
    rf = RF.TOTAL_TIME_ENABLED | RF.ID | RF.LOST | (RF.GROUP if group else 0)
    st = ST.TID | ST.READ | ST.RAW
    attr = pack_attr(type=1, sample_type=st, read_format=rf)
    if group:  # nr, enabled, then (value, id, lost) per member
        block = struct.pack("<5Q", 2, 1000, 11, 101, 0) + struct.pack("<3Q", 22, 102, 3)
        values = [(101, 11, 0), (102, 22, 3)]
    else:  # value, enabled, id, lost
        block = struct.pack("<4Q", 11, 1000, 101, 0)
        values = [(101, 11, 0)]
    raw = b"\1\2\3\4"
    ev, rec = _sample(attr, struct.pack("<ii", 5, 6) + block + struct.pack("<I", len(raw)) + raw)
    f = ev.sample_fields(rec, 0)
    assert f["values"] == values and f["time_enabled"] == 1000 and "time_running" not in f
    assert f["raw"] == raw and (f["pid"], f["tid"]) == (5, 6)
    assert ev.parse(rec, 0)[S_RAW] == raw  # the generated parser skips the block by the same layout
    if not group:
        assert ev.fixed_layout["raw"][0] == 8 + 8 + 32 + 4


def test_named_tid() -> None:
    comm = struct.pack("<ii", 10, 11) + b"bash\0\0\0\0"
    fork = struct.pack("<iiii", 10, 1, 12, 11)
    assert named_tid(RecordType.COMM, comm) == 11
    assert named_tid(RecordType.FORK, fork) == 12
    assert named_tid(RecordType.FORK, fork[:12]) is None  # too short to name one
    assert named_tid(RecordType.EXIT, fork) is None
