"""`scripthost trace --header-only`: a recording's header as perf 6.1 prints it
(file mode: the header, the attrs and the feature sections; pipe mode: only the
header block, as perf stops before reading the stream)."""

from __future__ import annotations

import os
import struct
import time
from typing import TYPE_CHECKING, Optional, TextIO

from scripthost.engine.attrs import parse_attr, sample_type_names
from scripthost.engine.features import FeatureCursor, event_desc
from scripthost.engine.layouts import PRECISE_IP_SHIFT, AttrFlag, Feature, HEADER_LAST_FEATURE, ReadFormat
from scripthost.engine.reader import Recording, open_recording

if TYPE_CHECKING:
    from scripthost.engine.session import Session

__all__ = ["render_header", "print_header_of", "header_session", "feature_lines", "FEATURE_NAMES"]

FEATURE_NAMES = {f.value: f.name for f in Feature}
_DISPLAY_WITH_I = {Feature.CPU_TOPOLOGY, Feature.NUMA_TOPOLOGY, Feature.CACHE, Feature.MEM_TOPOLOGY}
#: clock ids by the name perf 6.1 prints for them
_CLOCK_NAMES = {0: "realtime", 1: "monotonic", 4: "monotonic_raw", 7: "boottime", 11: "tai"}
_COMPRESSORS = {1: "Zstd"}


def _attr_line(name: str, attr_bytes: bytes, ids: list[int], at: Optional[int]) -> str:
    a = parse_attr(attr_bytes, 0, at)
    parts = [f"name = {name}", ""]
    if ids:
        parts.append("id = { " + ", ".join(str(i) for i in ids) + " }")
    parts.append(f"type = {a['type']}")
    parts.append(f"size = {a['size']}")
    if a["config"]:
        parts.append(f"config = {a['config']:#x}")
    if a["sample_period"]:
        parts.append(f"{{ sample_period, sample_freq }} = {a['sample_period']}")
    if a["sample_type"]:
        parts.append("sample_type = " + "|".join(sample_type_names(a["sample_type"])))
    if a["read_format"]:
        parts.append("read_format = " + "|".join(f.name for f in ReadFormat if a["read_format"] & f))
    flags = a["flags"]
    set_flags = [f for f in AttrFlag if flags & f]
    parts.extend(f"{f.name.lower()} = 1" for f in set_flags)
    precise = flags >> PRECISE_IP_SHIFT & 3
    if precise:  # perf prints it in its place among the flags
        parts.insert(len(parts) - sum(1 for f in set_flags if f >> PRECISE_IP_SHIFT),
                     f"precise_ip = {precise}")
    for key, label in (("bp_type", "bp_type"), ("config1", "{ bp_addr, config1 }"),
                       ("config2", "{ bp_len, config2 }"), ("branch_sample_type", "branch_sample_type"),
                       ("sample_regs_user", "sample_regs_user"), ("sample_stack_user", "sample_stack_user"),
                       ("clockid", "clockid"), ("sample_regs_intr", "sample_regs_intr"),
                       ("aux_watermark", "aux_watermark"), ("sample_max_stack", "sample_max_stack"),
                       ("aux_sample_size", "aux_sample_size"), ("sig_data", "sig_data")):
        if a[key]:
            v = a[key]
            parts.append(f"{label} = {v:#x}" if key in ("config1", "config2", "branch_sample_type",
                                                       "sample_regs_user", "sample_regs_intr") else f"{label} = {v}")
    return "# event : " + ", ".join(parts)


def _size_units(n: int) -> str:
    units = "BKMGTPE"
    i = 0
    while n >= 1024 and i < len(units) - 1:
        n //= 1024
        i += 1
    return f"{n}{units[i]}"


def _bit_list(words: list[int], nbits: int) -> str:
    """A bitmap as perf prints it: ranges of set bits, "0-23,32-199"."""
    bits = [b for b in range(nbits) if words[b // 64] >> (b % 64) & 1]
    runs: list[list[int]] = []
    for b in bits:
        if runs and runs[-1][1] == b - 1:
            runs[-1][1] = b
        else:
            runs.append([b, b])
    return ",".join(f"{a}" if a == z else f"{a}-{z}" for a, z in runs)


def _cpu_topology(c: FeatureCursor, nr_cpus: int) -> list[str]:
    sockets = [c.str64() for _ in range(c.u32())]
    threads = [c.str64() for _ in range(c.u32())]
    if c.p == len(c.d):
        return ([f"# sibling sockets : {x}" for x in sockets]
                + [f"# sibling threads : {x}" for x in threads]
                + ["# Core ID and Socket ID information is not available"])
    ids = [(c.u32(), c.u32()) for _ in range(nr_cpus)]
    dies: Optional[list[str]] = None
    die_ids: list[int] = []
    if c.p < len(c.d):
        dies = [c.str64() for _ in range(c.u32())]
        die_ids = [c.u32() for _ in range(nr_cpus)]
    lines = [f"# sibling sockets : {x}" for x in sockets]
    lines += [f"# sibling dies    : {x}" for x in dies or []]
    lines += [f"# sibling threads : {x}" for x in threads]
    for cpu, (core, sock) in enumerate(ids):
        if dies is not None:
            lines.append(f"# CPU {cpu}: Core ID {_s32(core)}, Die ID {_s32(die_ids[cpu])}, Socket ID {_s32(sock)}")
        else:
            lines.append(f"# CPU {cpu}: Core ID {_s32(core)}, Socket ID {_s32(sock)}")
    return lines


def _s32(v: int) -> int:
    return v - (1 << 32) if v >= 1 << 31 else v


def _numa_topology(c: FeatureCursor) -> list[str]:
    lines = []
    for _ in range(c.u32()):
        node, total, free = c.u32(), c.u64(), c.u64()
        cpus = c.str64()
        lines += [f"# node{node} meminfo  : total = {total} kB, free = {free} kB",
                  f"# node{node} cpu list : {cpus}"]
    return lines


def _cache(c: FeatureCursor) -> list[str]:
    c.u32()  # version
    lines = ["# CPU cache info:"]
    for _ in range(c.u32()):
        level = c.u32()
        c.u32(), c.u32(), c.u32()  # line size, sets, ways: not printed
        ctype, size, cmap = c.str64(), c.str64(), c.str64()
        lines.append(f"#  L{level} {ctype:<15} {size:>8} [{cmap}]")
    return lines


def _mem_topology(c: FeatureCursor) -> list[str]:
    c.u64()  # version
    block, nr = c.u64(), c.u64()
    lines = [f"# memory nodes (nr {nr}, block size {block:#x}):"]
    for _ in range(nr):
        node, _stored_size, nbits = c.u64(), c.u64(), c.u64()
        del _stored_size  # perf prints the online blocks' sum instead (below)
        words = [c.u64() for _ in range((nbits + 63) // 64)]
        # perf prints the memory the node's online blocks add up to, not the stored size
        online = sum(bin(w).count("1") for w in words)
        lines.append(f"#  {node:3} [{_size_units(online * block)}]: {_bit_list(words, nbits)}")
    return lines


def _clock_data(c: FeatureCursor) -> list[str]:
    c.u32()  # version
    clockid, tod, clock = c.u32(), c.u64(), c.u64()
    sec, usec = tod // 10**9, tod % 10**9 // 1000
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(sec))
    return [f"# clockid: {_CLOCK_NAMES.get(clockid, 'unknown')} ({clockid})",
            f"# reference time: {when}.{usec:06d} = {sec}.{usec:06d} (TOD) = "
            f"{clock // 10**9}.{clock % 10**9:09d} ({_CLOCK_NAMES.get(clockid, 'unknown')})"]


def _group_desc(c: FeatureCursor, names: list[str]) -> list[str]:
    lines = []
    for _ in range(c.u32()):
        name, leader, members = c.str64(), c.u32(), c.u32()
        prefix = "" if name == "{anon_group}" else name
        lines.append(f"# group: {prefix}{{" + ",".join(names[leader:leader + members]) + "}")
    return lines


def feature_lines(fid: int, payload: bytes, base: Optional[int], features: dict[int, bytes],
                  full: bool = False) -> list[str]:
    """The lines perf prints for one feature; ``features``: the recording's others (the
    CPU count and event names some features refer to); ``full``: -I/--show-info."""
    c = FeatureCursor(payload, FEATURE_NAMES.get(fid, str(fid)), base)
    simple = {Feature.HOSTNAME: "hostname", Feature.OSRELEASE: "os release",
              Feature.VERSION: "perf version", Feature.ARCH: "arch", Feature.CPUDESC: "cpudesc",
              Feature.CPUID: "cpuid"}
    if fid in simple:
        return [f"# {simple[fid]} : {c.str64()}"]
    if fid == Feature.NRCPUS:
        avail, online = c.u32(), c.u32()
        return [f"# nrcpus online : {online}", f"# nrcpus avail : {avail}"]
    if fid == Feature.TOTAL_MEM:
        return [f"# total memory : {c.u64()} kB"]
    if fid == Feature.CMDLINE:
        n = c.u32()
        return ["# cmdline : " + "".join(c.str64() + " " for _ in range(n))]
    if fid == Feature.EVENT_DESC:
        return [_attr_line(name, attr, ids, at) for attr, name, ids, at in event_desc(payload, base)]
    if fid in _DISPLAY_WITH_I and full:
        if fid == Feature.CPU_TOPOLOGY:
            nrcpus = features.get(Feature.NRCPUS, b"")
            return _cpu_topology(c, struct.unpack_from("<I", nrcpus)[0] if len(nrcpus) >= 4 else 0)
        if fid == Feature.NUMA_TOPOLOGY:
            return _numa_topology(c)
        return _cache(c) if fid == Feature.CACHE else _mem_topology(c)
    if fid in _DISPLAY_WITH_I:
        return [f"# {FEATURE_NAMES[fid]} info available, use -I to display"]
    if fid == Feature.PMU_MAPPINGS:
        n = c.u32()
        maps = []
        for _ in range(n):
            t = c.u32()
            maps.append(f"{c.str64()} = {t}")
        return ["# pmu mappings: " + ", ".join(maps)]
    if fid == Feature.SAMPLE_TIME:
        first, last = c.u64(), c.u64()
        return [f"# time of first sample : {first // 10**9}.{first % 10**9 // 1000:06d}",
                f"# time of last sample : {last // 10**9}.{last % 10**9 // 1000:06d}",
                f"# sample duration : {(last - first) / 1e6:10.3f} ms"]
    if fid == Feature.GROUP_DESC:
        desc = features.get(Feature.EVENT_DESC)
        return _group_desc(c, [name for _, name, _, _ in event_desc(desc)] if desc else [])
    if fid == Feature.CLOCKID:
        res = c.u64()
        return [f"# clockid frequency: {1000 // res if res else 0} MHz"]
    if fid == Feature.CLOCK_DATA:
        return _clock_data(c)
    if fid == Feature.COMPRESSED:
        c.u32()  # version
        kind, level, ratio = c.u32(), c.u32(), c.u32()
        return [f"# compressed : {_COMPRESSORS.get(kind, 'Unknown')}, level = {level}, ratio = {ratio}"]
    return []


def render_header(rec: Recording, mtime: Optional[float], full: bool = False) -> str:
    """The header block (and, from a file, its features) as perf prints it."""
    captured = time.ctime(mtime if mtime is not None else time.time())
    lines = ["# ========", f"# captured on    : {captured}"]
    if rec.pipe:
        lines += ["# header version : 1", "# data offset    : 0", "# data size      : 0",
                  "# feat offset    : 0", "# ========", "#"]
        return "\n".join(lines) + "\n"
    lines += ["# header version : 1", f"# data offset    : {rec.data_offset}",
              f"# data size      : {rec.data_size}", f"# feat offset    : {rec.feat_offset}"]
    for fid in sorted(rec.features):
        lines += feature_lines(fid, rec.features[fid], rec.feature_offsets.get(fid), rec.features, full)
    missing = [FEATURE_NAMES[f] for f in range(Feature.TRACING_DATA, HEADER_LAST_FEATURE)
               if f not in rec.features and f in FEATURE_NAMES]
    if missing:
        lines.append("# missing features: " + "".join(m + " " for m in missing))
    lines += ["# ========", "#"]
    return "\n".join(lines) + "\n"


def input_mtime(rec: Recording) -> Optional[float]:
    """When the input was last written (perf's "captured on"); None when unknown."""
    try:
        return os.fstat(rec.source._f.fileno()).st_mtime  # type: ignore[attr-defined]
    except (AttributeError, OSError, ValueError):
        return None


def print_header_of(inp: str, out: TextIO, full: bool = False) -> int:
    """Print a recording's header as `perf script --header-only [-I]` does."""
    rec = open_recording(inp)
    out.write(render_header(rec, input_mtime(rec), full))
    out.flush()
    return 0


def header_session(inp: object, out: TextIO, full: bool = False) -> "Session":
    """`--header`: print the header now and return the session that prints the events
    after it; from a pipe, each feature prints as its record arrives, as perf does."""
    from scripthost.engine.session import Session
    session = Session(inp)  # type: ignore[arg-type]
    rec = session.rec
    out.write(render_header(rec, input_mtime(rec), full))
    out.flush()
    if rec.pipe:
        def print_feature(fid: int, payload: bytes, at: int) -> None:
            lines = feature_lines(fid, payload, at, session.features, full)
            if lines:
                out.write("\n".join(lines) + "\n")
                out.flush()
        session.on_feature = print_feature
    return session
