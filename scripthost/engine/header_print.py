"""`scripthost trace --header-only`: a recording's header as perf 6.1 prints it
(file mode: the header, the attrs and the feature sections; pipe mode: only the
header block, as perf stops before reading the stream)."""

from __future__ import annotations

import os
import struct
import time
from typing import Optional, TextIO

from scripthost.engine.attrs import parse_attr, sample_type_names
from scripthost.engine.layouts import Feature, HEADER_LAST_FEATURE
from scripthost.engine.reader import Recording, open_recording
from scripthost.errors import StreamError

__all__ = ["render_header", "print_header_of", "event_desc", "FEATURE_NAMES"]

FEATURE_NAMES = {v: k for k, v in vars(Feature).items() if not k.startswith("_")}
_DISPLAY_WITH_I = {Feature.CPU_TOPOLOGY, Feature.NUMA_TOPOLOGY, Feature.CACHE, Feature.MEM_TOPOLOGY}
_FLAG_NAMES = ["disabled", "inherit", "pinned", "exclusive", "exclude_user", "exclude_kernel",
               "exclude_hv", "exclude_idle", "mmap", "comm", "freq", "inherit_stat",
               "enable_on_exec", "task", "watermark", None, None, "mmap_data", "sample_id_all",
               "exclude_host", "exclude_guest", "exclude_callchain_kernel",
               "exclude_callchain_user", "mmap2", "comm_exec", "use_clockid", "context_switch",
               "write_backward", "namespaces", "ksymbol", "bpf_event", "aux_output", "cgroup",
               "text_poke", "build_id", "inherit_thread", "remove_on_exec", "sigtrap"]
_READ_FORMAT = [(1, "TOTAL_TIME_ENABLED"), (2, "TOTAL_TIME_RUNNING"), (4, "ID"), (8, "GROUP"),
                (16, "LOST")]


class _Cur:
    """Reads a feature's payload; ``base``: where it starts in the input (None: unknown)."""

    def __init__(self, data: bytes, what: str, base: Optional[int] = None) -> None:
        self.d, self.p, self.what, self.base = data, 0, what, base

    def fail(self, what: str) -> StreamError:
        return StreamError(f"corrupt header feature {self.what}: {what}",
                           None if self.base is None else self.base + self.p)

    def u32(self) -> int:
        return self.num("<I")

    def u64(self) -> int:
        return self.num("<Q")

    def num(self, fmt: str) -> int:
        n = struct.calcsize(fmt)
        if self.p + n > len(self.d):
            raise self.fail("runs past its section")
        v = struct.unpack_from(fmt, self.d, self.p)[0]
        self.p += n
        return v

    def str64(self) -> str:
        n = self.u32()
        if n > len(self.d) - self.p:
            raise self.fail("string runs past its section")
        s = self.d[self.p:self.p + n].split(b"\0", 1)[0].decode("utf-8", "replace")
        self.p += n
        return s

    def take(self, n: int) -> bytes:
        if n > len(self.d) - self.p:
            raise self.fail("runs past its section")
        b = self.d[self.p:self.p + n]
        self.p += n
        return b


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
        parts.append("read_format = " + "|".join(n for b, n in _READ_FORMAT if a["read_format"] & b))
    flags = a["flags"]
    for bit, fname in enumerate(_FLAG_NAMES):
        if fname and flags >> bit & 1:
            parts.append(f"{fname} = 1")
    precise = flags >> 15 & 3
    if precise:
        parts.insert(len(parts) - sum(1 for b, n in enumerate(_FLAG_NAMES) if n and b > 15 and flags >> b & 1),
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


def event_desc(payload: bytes, base: Optional[int] = None) -> list[tuple[bytes, str, list[int], Optional[int]]]:
    """(attr, name, ids, the attr's input offset) of each event the EVENT_DESC payload
    describes; ``base``: where the payload starts in the input."""
    c = _Cur(payload, "EVENT_DESC", base)
    nr, size = c.u32(), c.u32()
    out = []
    for _ in range(nr):
        at = None if base is None else base + c.p
        attr = c.take(size)
        nids = c.u32()
        name = c.str64()
        if nids > (len(payload) - c.p) // 8:
            raise c.fail(f"{nids} ids run past its section")
        ids = [c.u64() for _ in range(nids)]
        out.append((attr, name, ids, at))
    return out


def _feature_lines(fid: int, payload: bytes, base: Optional[int]) -> list[str]:
    c = _Cur(payload, FEATURE_NAMES.get(fid, str(fid)), base)
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
        n = c.u32()
        lines = []
        for _ in range(n):
            name = c.str64()
            c.u32(), c.u32()  # leader index, member count: not printed without -I
            lines.append(f"# group: {name}")
        return lines
    return []


def render_header(rec: Recording, mtime: Optional[float]) -> str:
    captured = time.ctime(mtime if mtime is not None else time.time())
    lines = ["# ========", f"# captured on    : {captured}"]
    if rec.pipe:
        lines += ["# header version : 1", "# data offset    : 0", "# data size      : 0",
                  "# feat offset    : 0", "# ========", "#"]
        return "\n".join(lines) + "\n"
    lines += ["# header version : 1", f"# data offset    : {rec.data_offset}",
              f"# data size      : {rec.data_size}", f"# feat offset    : {rec.feat_offset}"]
    for fid in sorted(rec.features):
        lines += _feature_lines(fid, rec.features[fid], rec.feature_offsets.get(fid))
    missing = [FEATURE_NAMES[f] for f in range(Feature.TRACING_DATA, HEADER_LAST_FEATURE)
               if f not in rec.features and f in FEATURE_NAMES]
    if missing:
        lines.append("# missing features: " + "".join(m + " " for m in missing))
    lines += ["# ========", "#"]
    return "\n".join(lines) + "\n"


def print_header_of(inp: str, out: TextIO) -> int:
    """Print a recording's header as `perf script --header-only` does."""
    rec = open_recording(inp)
    mtime = None
    try:
        mtime = os.fstat(rec.source._f.fileno()).st_mtime  # type: ignore[attr-defined]
    except (AttributeError, OSError, ValueError):
        pass
    out.write(render_header(rec, mtime))
    out.flush()
    return 0
