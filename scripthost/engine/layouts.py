"""perf's on-disk and on-pipe binary layouts, declared once as data.

Everything here is little-endian x86_64 as perf 6.1 writes it.  The reader, the
collector's writer and the header printer all take their numbers from this
module, so a layout is never spelled twice.
"""

from __future__ import annotations

import struct
from enum import IntEnum, IntFlag
from typing import NamedTuple, Optional

__all__ = [
    "PERF_MAGIC", "PIPE_HEADER", "FILE_HEADER", "EVENT_HEADER", "ATTR", "ATTR_FIELDS", "ATTR_LAYOUT",
    "ATTR_SIZE_VER7", "RecordType", "SampleType", "SAMPLE_FIXED_FIELDS", "SAMPLE_ID_TRAILER",
    "ReadFormat", "ReadLayout", "read_layout", "AttrFlag", "AttrType", "PRECISE_IP_SHIFT", "Feature",
    "HEADER_LAST_FEATURE", "RECORD_NAMES", "U32", "U64", "U16", "S32", "STR64_LEN", "named_tid",
    "SOFTWARE_EVENTS", "HARDWARE_EVENTS", "DUMMY_CONFIG",
    "U64_COUNT", "ID_INDEX_ENTRY", "THREAD_MAP_ENTRY",
    "EVENT_UPDATE_HEAD", "CPU_MAP_TYPE", "CPU_MAP_LIST_NR", "CPU_MAP_MASK_HEAD", "CPU_MAP_RANGE", "CpuMapType",
    "EventUpdateType",
]

PERF_MAGIC = b"PERFILE2"

U16 = struct.Struct("<H")
U32 = struct.Struct("<I")
U64 = struct.Struct("<Q")
S32 = struct.Struct("<i")
STR64_LEN = U32

#: pipe header: magic, size (== 16)
PIPE_HEADER = struct.Struct("<8sQ")
#: file header: magic, size, attr_size, attrs{off,size}, data{off,size},
#: event_types{off,size}, features bitmap (4 x u64)
FILE_HEADER = struct.Struct("<8sQQQQQQQQ4Q")
#: perf_event_header: type, misc, size
EVENT_HEADER = struct.Struct("<IHH")

#: perf_event_attr (VER7, 128 bytes): (field name, struct code) in their on-disk order;
#: the names are the kernel's (wakeup_events shares its u32 with wakeup_watermark)
ATTR_LAYOUT: tuple[tuple[str, str], ...] = (
    ("type", "I"), ("size", "I"), ("config", "Q"), ("sample_period", "Q"), ("sample_type", "Q"),
    ("read_format", "Q"), ("flags", "Q"), ("wakeup_events", "I"), ("bp_type", "I"),
    ("config1", "Q"), ("config2", "Q"), ("branch_sample_type", "Q"), ("sample_regs_user", "Q"),
    ("sample_stack_user", "I"), ("clockid", "i"), ("sample_regs_intr", "Q"),
    ("aux_watermark", "I"), ("sample_max_stack", "H"), ("reserved_2", "H"),
    ("aux_sample_size", "I"), ("reserved_3", "I"), ("sig_data", "Q"),
)
ATTR_FIELDS = tuple(name for name, _ in ATTR_LAYOUT)
ATTR = struct.Struct("<" + "".join(code for _, code in ATTR_LAYOUT))
ATTR_SIZE_VER7 = 128
assert ATTR.size == ATTR_SIZE_VER7


class RecordType(IntEnum):
    """perf_event_header.type values (kernel 1-21, perf tool 64-82)."""

    MMAP = 1
    LOST = 2
    COMM = 3
    EXIT = 4
    THROTTLE = 5
    UNTHROTTLE = 6
    FORK = 7
    READ = 8
    SAMPLE = 9
    MMAP2 = 10
    AUX = 11
    ITRACE_START = 12
    LOST_SAMPLES = 13
    SWITCH = 14
    SWITCH_CPU_WIDE = 15
    NAMESPACES = 16
    KSYMBOL = 17
    BPF_EVENT = 18
    CGROUP = 19
    TEXT_POKE = 20
    AUX_OUTPUT_HW_ID = 21

    HEADER_ATTR = 64
    HEADER_EVENT_TYPE = 65
    HEADER_TRACING_DATA = 66
    HEADER_BUILD_ID = 67
    FINISHED_ROUND = 68
    ID_INDEX = 69
    AUXTRACE_INFO = 70
    AUXTRACE = 71
    AUXTRACE_ERROR = 72
    THREAD_MAP = 73
    CPU_MAP = 74
    STAT_CONFIG = 75
    STAT = 76
    STAT_ROUND = 77
    EVENT_UPDATE = 78
    TIME_CONV = 79
    HEADER_FEATURE = 80
    COMPRESSED = 81
    FINISHED_INIT = 82


RECORD_NAMES = {t.value: t.name for t in RecordType}

#: where a COMM or FORK record's body names the thread it is about (its tid, an s32 as
#: samples hold it): record type -> (the body bytes that takes, the tid's offset)
TID_IN_BODY = {RecordType.COMM: (8, 4), RecordType.FORK: (16, 8)}


def named_tid(rtype: int, body: bytes) -> Optional[int]:
    """The tid a COMM or FORK record's body names; None for another record or a short body."""
    at = TID_IN_BODY.get(rtype)
    if at is None or len(body) < at[0]:
        return None
    return S32.unpack_from(body, at[1])[0]


#: tool records' bodies (after the 8-byte header), as perf reads them
U64_COUNT = U64  # the u64 nr heading ID_INDEX and THREAD_MAP
ID_INDEX_ENTRY = struct.Struct("<QQqq")  # id, idx, cpu, tid
THREAD_MAP_ENTRY = struct.Struct("<q16s")  # pid, comm
EVENT_UPDATE_HEAD = struct.Struct("<QQ")  # type (EventUpdateType), id; the payload follows
CPU_MAP_TYPE = U16  # CpuMapType; that type's data follows
CPU_MAP_LIST_NR = U16  # CPUS: nr, then nr u16 cpus
CPU_MAP_MASK_HEAD = struct.Struct("<HH")  # MASK: nr, long size (4 or 8), then nr longs
CPU_MAP_RANGE = struct.Struct("<BBHH")  # RANGE: any cpu, pad, start, end


class CpuMapType:
    CPUS = 0
    MASK = 1
    RANGE = 2


class EventUpdateType:
    UNIT = 0
    SCALE = 1
    NAME = 2
    CPUS = 3


#: record types a reader must recognise; anything else is "unknown"
KNOWN_RECORD_TYPES = frozenset(t for t in RECORD_NAMES if 1 <= t <= 21 or 64 <= t <= 83)


class SampleType(IntFlag):
    """perf_event_attr.sample_type bits."""

    IP = 1 << 0
    TID = 1 << 1
    TIME = 1 << 2
    ADDR = 1 << 3
    READ = 1 << 4
    CALLCHAIN = 1 << 5
    ID = 1 << 6
    CPU = 1 << 7
    PERIOD = 1 << 8
    STREAM_ID = 1 << 9
    RAW = 1 << 10
    BRANCH_STACK = 1 << 11
    REGS_USER = 1 << 12
    STACK_USER = 1 << 13
    WEIGHT = 1 << 14
    DATA_SRC = 1 << 15
    IDENTIFIER = 1 << 16
    TRANSACTION = 1 << 17
    REGS_INTR = 1 << 18
    PHYS_ADDR = 1 << 19
    AUX = 1 << 20
    CGROUP = 1 << 21
    DATA_PAGE_SIZE = 1 << 22
    CODE_PAGE_SIZE = 1 << 23
    WEIGHT_STRUCT = 1 << 24


#: A SAMPLE record's leading fixed-size fields, in their on-disk order: (sample_type bit,
#: name, struct code). Everything that reads a sample's head takes its offsets from here.
SAMPLE_FIXED_FIELDS: tuple[tuple[int, str, str], ...] = (
    (SampleType.IDENTIFIER, "identifier", "Q"), (SampleType.IP, "ip", "Q"),
    (SampleType.TID, "pid", "i"), (SampleType.TID, "tid", "i"),
    (SampleType.TIME, "time", "Q"), (SampleType.ADDR, "addr", "Q"),
    (SampleType.ID, "id", "Q"), (SampleType.STREAM_ID, "stream_id", "Q"),
    (SampleType.CPU, "cpu", "I"), (SampleType.CPU, "res", "I"),
    (SampleType.PERIOD, "period", "Q"),
)

#: The sample_id_all trailer of a non-sample record, in its on-disk order (u64 slots).
SAMPLE_ID_TRAILER: tuple[tuple[int, str], ...] = (
    (SampleType.TID, "tid"), (SampleType.TIME, "time"), (SampleType.ID, "id"),
    (SampleType.STREAM_ID, "stream_id"), (SampleType.CPU, "cpu"),
    (SampleType.IDENTIFIER, "identifier"),
)


class ReadFormat(IntFlag):
    """perf_event_attr.read_format bits."""

    TOTAL_TIME_ENABLED = 1
    TOTAL_TIME_RUNNING = 2
    ID = 4
    GROUP = 8
    LOST = 16


#: A read block (PERF_SAMPLE_READ's) is u64 slots: a lead (a group's member count, else
#: the value), these times, then per value (a group's members follow the times; a lone
#: value is the lead) these slots after it.  In their on-disk order:
READ_TIMES = ((ReadFormat.TOTAL_TIME_ENABLED, "time_enabled"), (ReadFormat.TOTAL_TIME_RUNNING, "time_running"))
READ_VALUE_TAIL = ((ReadFormat.ID, "id"), (ReadFormat.LOST, "lost"))


class ReadLayout(NamedTuple):
    """The read block of one read_format: which optional slots it has."""

    group: bool
    times: tuple[str, ...]
    tail: tuple[str, ...]

    @property
    def head_size(self) -> int:
        """Bytes of the lead and the times."""
        return 8 * (1 + len(self.times))

    @property
    def value_size(self) -> int:
        """Bytes of one group member (its value and tail)."""
        return 8 * (1 + len(self.tail))

    @property
    def fixed_size(self) -> Optional[int]:
        """Bytes of a non-group block; None for a group's (its size is in the data)."""
        return None if self.group else self.head_size + 8 * len(self.tail)


def read_layout(read_format: int) -> ReadLayout:
    """The read block layout ``read_format`` selects."""
    return ReadLayout(bool(read_format & ReadFormat.GROUP),
                      tuple(name for bit, name in READ_TIMES if read_format & bit),
                      tuple(name for bit, name in READ_VALUE_TAIL if read_format & bit))


class AttrFlag(IntFlag):
    """Bits of perf_event_attr's flags word (offset 40); precise_ip is the 2-bit field
    at `PRECISE_IP_SHIFT`."""

    DISABLED = 1 << 0
    INHERIT = 1 << 1
    PINNED = 1 << 2
    EXCLUSIVE = 1 << 3
    EXCLUDE_USER = 1 << 4
    EXCLUDE_KERNEL = 1 << 5
    EXCLUDE_HV = 1 << 6
    EXCLUDE_IDLE = 1 << 7
    MMAP = 1 << 8
    COMM = 1 << 9
    FREQ = 1 << 10
    INHERIT_STAT = 1 << 11
    ENABLE_ON_EXEC = 1 << 12
    TASK = 1 << 13
    WATERMARK = 1 << 14
    MMAP_DATA = 1 << 17
    SAMPLE_ID_ALL = 1 << 18
    EXCLUDE_HOST = 1 << 19
    EXCLUDE_GUEST = 1 << 20
    EXCLUDE_CALLCHAIN_KERNEL = 1 << 21
    EXCLUDE_CALLCHAIN_USER = 1 << 22
    MMAP2 = 1 << 23
    COMM_EXEC = 1 << 24
    USE_CLOCKID = 1 << 25
    CONTEXT_SWITCH = 1 << 26
    WRITE_BACKWARD = 1 << 27
    NAMESPACES = 1 << 28
    KSYMBOL = 1 << 29
    BPF_EVENT = 1 << 30
    AUX_OUTPUT = 1 << 31
    CGROUP = 1 << 32
    TEXT_POKE = 1 << 33
    BUILD_ID = 1 << 34
    INHERIT_THREAD = 1 << 35
    REMOVE_ON_EXEC = 1 << 36
    SIGTRAP = 1 << 37


class Feature(IntEnum):
    """HEADER_FEATURE ids / file-mode feature section bits."""

    TRACING_DATA = 1
    BUILD_ID = 2
    HOSTNAME = 3
    OSRELEASE = 4
    VERSION = 5
    ARCH = 6
    NRCPUS = 7
    CPUDESC = 8
    CPUID = 9
    TOTAL_MEM = 10
    CMDLINE = 11
    EVENT_DESC = 12
    CPU_TOPOLOGY = 13
    NUMA_TOPOLOGY = 14
    BRANCH_STACK = 15
    PMU_MAPPINGS = 16
    GROUP_DESC = 17
    AUXTRACE = 18
    STAT = 19
    CACHE = 20
    SAMPLE_TIME = 21
    MEM_TOPOLOGY = 22
    CLOCKID = 23
    DIR_FORMAT = 24
    BPF_PROG_INFO = 25
    BPF_BTF = 26
    COMPRESSED = 27
    CPU_PMU_CAPS = 28
    CLOCK_DATA = 29
    HYBRID_TOPOLOGY = 30
    PMU_CAPS = 31


HEADER_LAST_FEATURE = 32

#: where precise_ip (2 bits) sits in perf_event_attr's flags word
PRECISE_IP_SHIFT = 15


class AttrType(IntEnum):
    """perf_event_attr.type values."""

    HARDWARE = 0
    SOFTWARE = 1
    TRACEPOINT = 2
    HW_CACHE = 3
    RAW = 4
    BREAKPOINT = 5


#: misc bits
MISC_CPUMODE_MASK = 7
MISC_COMM_EXEC = 1 << 13
MISC_SWITCH_OUT = 1 << 13
MISC_SWITCH_OUT_PREEMPT = 1 << 14
MISC_MMAP_BUILD_ID = 1 << 14
MISC_MMAP_DATA = 1 << 13  # a data map (perf record -d)
#: an MMAP2 record's prot bit of an executable map
PROT_EXEC = 4
#: an MMAP/MMAP2 perf record synthesized after its /proc maps read timed out
MISC_PROC_MAP_PARSE_TIMEOUT = 1 << 12


#: generic event names by config, for PERF_TYPE_SOFTWARE (1) and PERF_TYPE_HARDWARE (0)
SOFTWARE_EVENTS = ["cpu-clock", "task-clock", "page-faults", "context-switches", "cpu-migrations",
                   "minor-faults", "major-faults", "alignment-faults", "emulation-faults", "dummy",
                   "bpf-output", "cgroup-switches"]
#: the software event perf adds to carry side-band records, and skips when printing
DUMMY_CONFIG = SOFTWARE_EVENTS.index("dummy")
HARDWARE_EVENTS = ["cycles", "instructions", "cache-references", "cache-misses",
                   "branch-instructions", "branch-misses", "bus-cycles", "stalled-cycles-frontend",
                   "stalled-cycles-backend", "ref-cycles"]
