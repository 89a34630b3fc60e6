"""Event selectors (evsels): a perf_event_attr, its ids and name, and the
sample decoder precompiled for its ``sample_type``.

The session queues each SAMPLE as ``(time, pos, buf, evsel)``: the record
starts at ``buf[pos]``.  `Evsel.parse(buf, pos)` decodes it into a plain tuple
whose indices are the ``S_*`` constants below (see docs/architecture.md); hot
consumers instead read the fields they need at `Evsel.fixed_layout` offsets.  The fields nobody asks for on the hot path
(addr, read values, branch stacks, registers...) are decoded on demand by
`Evsel.sample_fields` from the record bytes the tuple keeps a reference to.
"""

from __future__ import annotations

import struct
from typing import Any, Callable, NoReturn, Optional

from scripthost.engine.layouts import (
    ATTR, ATTR_FIELDS, ATTR_SIZE_VER7, AttrFlag, AttrType, SAMPLE_FIXED_FIELDS, SAMPLE_ID_TRAILER,
    SampleType, U16, U32, U64, read_layout,
)
from scripthost.engine.generated import exec_generated
from scripthost.engine.source import record_fault
from scripthost.errors import CorruptInput

__all__ = [
    "Evsel", "parse_attr", "S_TIME", "S_CPU", "S_PID", "S_TID", "S_IP", "S_PERIOD", "S_RAW",
    "S_CALLCHAIN", "S_EVSEL", "S_BUF", "S_POS", "sample_type_names",
]

S_TIME, S_CPU, S_PID, S_TID, S_IP, S_PERIOD, S_RAW, S_CALLCHAIN, S_EVSEL, S_BUF, S_POS = range(11)

def parse_attr(data: bytes | memoryview, offset: int = 0, at: Optional[int] = None) -> dict[str, int]:
    """Decode a perf_event_attr of any size version into a dict of its fields (``at``: its
    input offset, for the error of one that runs past ``data``)."""
    size = U32.unpack_from(data, offset + 4)[0] if len(data) >= offset + 8 else 0
    if size < 64 or offset + size > len(data):
        raise CorruptInput(f"corrupt perf_event_attr (size {size} in {len(data) - offset} bytes)",
                          at if at is not None else offset)
    raw = bytes(data[offset:offset + min(size, ATTR_SIZE_VER7)]).ljust(ATTR_SIZE_VER7, b"\0")
    return dict(zip(ATTR_FIELDS, ATTR.unpack(raw)))


def sample_type_names(sample_type: int) -> list[str]:
    """The names of the bits set in ``sample_type``, lowest first (as perf prints them)."""
    return [bit.name for bit in SampleType if sample_type & bit]


class _ChainStructs(dict):
    """n -> the unpack_from of n u64 callchain entries, made at first use."""

    def __missing__(self, n: int) -> Callable[..., tuple]:
        f = struct.Struct(f"<{n}Q").unpack_from
        if n <= 1 << 16:  # more than any stack perf records is a corrupt count: not kept
            self[n] = f
        return f


#: the generated parser's local names for the fixed fields it reads but does not return
_PARSER_VARS = {"identifier": "_ident", "addr": "_addr", "id": "_id", "stream_id": "_sid", "res": "_res"}
#: sample_fields' names where they are not the table's (perf calls IDENTIFIER "id" too)
_DICT_NAMES = {"identifier": "id"}


def _build_parser(evsel: "Evsel") -> Callable[[bytes, int], tuple]:
    """Generate the hot-path decoder for one sample_type.

    The decoder takes (buf, pos of the record header) and returns the sample
    tuple.  Fixed-size runs of fields are read with one precompiled Struct.
    """
    st = evsel.sample_type
    env: dict[str, Any] = {"evsel": evsel, "U16": U16, "U32": U32, "U64": U64, "struct": struct,
                           "fault": record_fault}
    lines = ["def parse(buf, pos):", "  end = pos + U16.unpack_from(buf, pos + 6)[0]", "  try:", "    p = pos + 8"]
    fmt: list[str] = []
    names: list[str] = []
    have = set()

    def flush() -> None:
        if not fmt:
            return
        s = struct.Struct("<" + "".join(fmt))
        key = f"F{len(env)}"
        env[key] = s
        targets = ", ".join(names) + ("," if len(names) == 1 else "")
        lines.append(f"    {targets} = {key}.unpack_from(buf, p)")
        lines.append(f"    p += {s.size}")
        fmt.clear()
        names.clear()

    def add(bit: int, f: str, *vars_: str) -> None:
        if st & bit:
            fmt.append(f)
            names.extend(vars_)
            have.update(vars_)

    for bit, name, code in SAMPLE_FIXED_FIELDS:
        add(bit, code, _PARSER_VARS.get(name, name))
    if st & SampleType.READ:
        rl = evsel.read_layout
        if rl.fixed_size is not None:
            fmt.append(f"{rl.fixed_size}x")
        else:
            flush()
            lines.append(f"    p += {rl.head_size} + U64.unpack_from(buf, p)[0] * {rl.value_size}")
    flush()
    if st & SampleType.CALLCHAIN:
        env["chains"] = _ChainStructs()
        lines.append("    n = U64.unpack_from(buf, p)[0]")
        lines.append("    cc = chains[n](buf, p + 8)")
        lines.append("    p += 8 + 8 * n")
    else:
        lines.append("    cc = ()")
    if st & SampleType.RAW:
        lines.append("    rs = U32.unpack_from(buf, p)[0]")
        lines.append("    raw = buf[p + 4:p + 4 + rs]")
    else:
        lines.append("    raw = None")
    ret = ["time" if "time" in have else "0", "cpu" if "cpu" in have else "-1",
           "pid" if "pid" in have else "-1", "tid" if "tid" in have else "-1",
           "ip" if "ip" in have else "0",
           # as perf: without PERIOD sampled, a sample's period is the attr's
           "period" if "period" in have else str(evsel.attr["sample_period"]),
           "raw", "cc", "evsel", "buf", "pos"]
    lines.append("    if p > end or (raw is not None and p + 4 + rs > end):")
    lines.append("      raise fault(f'corrupt sample: fields run past its {end - pos} bytes', buf, pos)")
    lines.append(f"    return ({', '.join(ret)})")
    lines.append("  except struct.error:")
    lines.append("    raise fault(f'corrupt sample: fields run past its {end - pos} bytes', buf, pos) from None")
    exec_generated("\n".join(lines), f"<sample parser {st:#x}>", env)
    return env["parse"]


class Evsel:
    """One event selector of a recording."""

    __slots__ = ("index", "attr", "attr_bytes", "ids", "name", "type", "config",
                 "sample_type", "read_format", "read_layout", "flags", "sample_id_all", "tp_format",
                 "parse", "trailer_time",
                 "time_off", "pid_off", "cpu_off", "min_size", "fixed_layout", "fixed_end", "__weakref__")

    def __init__(self, index: int, attr_bytes: bytes, ids: list[int], at: Optional[int] = None) -> None:
        self.index = index
        self.attr_bytes = attr_bytes
        self.attr = parse_attr(attr_bytes, 0, at)
        self.ids = list(ids)
        self.type = self.attr["type"]
        self.config = self.attr["config"]
        self.sample_type = self.attr["sample_type"]
        self.read_format = self.attr["read_format"]
        self.read_layout = read_layout(self.read_format)
        self.flags = self.attr["flags"]
        self.sample_id_all = bool(self.flags & AttrFlag.SAMPLE_ID_ALL)
        self.name = ""
        self.tp_format = None
        self.parse = _build_parser(self)
        self._trailer_layout()
        self._fixed_layout()

    def _fixed_layout(self) -> None:
        """Offsets of the leading sample fields, for decoders that skip the tuple.

        ``time_off`` is TIME's offset from the record start (0 if not sampled), likewise
        ``pid_off`` (TID's pid, its tid 4 bytes on) and ``cpu_off``;
        ``fixed_end`` is where the fixed-size fields end: READ's offset, else CALLCHAIN's.
        ``fixed_layout`` maps each field before any variable-length one to its
        (offset, struct code); RAW's payload offset appears as "raw" when only
        fixed-size fields precede it.
        """
        st = self.sample_type
        off = 8
        layout: dict[str, tuple[int, str]] = {}
        for bit, name, code in SAMPLE_FIXED_FIELDS:
            if st & bit:
                layout[name] = (off, code)
                off += struct.calcsize(code)
        self.time_off = layout["time"][0] if "time" in layout else 0
        self.pid_off = layout["pid"][0] if "pid" in layout else 0  # the tid follows it
        self.cpu_off = layout["cpu"][0] if "cpu" in layout else 0
        self.min_size = max(self.time_off + 8, off)
        variable = False
        self.fixed_end = off
        if st & SampleType.READ:
            rsize = self.read_layout.fixed_size
            if rsize is None:
                variable = True
            else:
                off += rsize
        if st & SampleType.CALLCHAIN:
            variable = True
        if st & SampleType.RAW and not variable:
            layout["raw_size"] = (off, "I")
            layout["raw"] = (off + 4, "")
        self.fixed_layout = layout

    def fixed_struct(self, names: list[str], extra: str = "") -> Optional[struct.Struct]:
        """A Struct reading ``names`` (in this order, which must follow the
        record layout; "size" is the record header's) from the record start, then ``extra``
        codes laid out from the RAW payload on; None when a field is missing or not at a
        fixed offset."""
        fmt = ["<"]
        pos = 0
        for name in names:
            if name == "size":  # the record's, from its header
                off, code = 6, "H"
            elif name not in self.fixed_layout:
                return None
            else:
                off, code = self.fixed_layout[name]
            if off < pos:
                return None
            if off > pos:
                fmt.append(f"{off - pos}x")
            fmt.append(code)
            pos = off + struct.calcsize("<" + code)
        if extra:
            if "raw" not in self.fixed_layout:
                return None
            raw_off = self.fixed_layout["raw"][0]
            if raw_off < pos:
                return None
            fmt.append(f"{raw_off - pos}x" if raw_off > pos else "")
            fmt.append(extra.lstrip("<"))
        return struct.Struct("".join(fmt))

    def lead_reader(self) -> Callable[[bytes, int], tuple]:
        """For a sample whose leading fields are at fixed offsets: a reader of (record
        size, tid, time, cpu, RAW size) that raises the sample's fault where they run
        past the input."""
        lead = self.fixed_struct(["size", "tid", "time", "cpu", "raw_size"])
        assert lead is not None

        def read(buf: bytes, pos: int) -> tuple:
            try:
                return lead.unpack_from(buf, pos)
            except struct.error:
                self.payload_fault(buf, pos)
        return read

    def payload_fault(self, buf: bytes, pos: int) -> NoReturn:
        """Raise the CorruptInput of a sample whose payload runs past its record."""
        self.parse(buf, pos)  # the parser's words
        raise record_fault("corrupt sample: its payload runs past its record", buf, pos)

    @property
    def attr_struct(self) -> bytes:
        """The perf_event_attr as perf 6.1 holds it (what scripts get as ``attr``): the
        recording's bytes cut or zero-filled to its size, ATTR_SIZE_VER7."""
        return self.attr_bytes[:ATTR_SIZE_VER7].ljust(ATTR_SIZE_VER7, b"\0")

    @property
    def is_tracepoint(self) -> bool:
        return self.type == AttrType.TRACEPOINT

    def _trailer_layout(self) -> None:
        """Where TIME sits in the sample_id_all trailer, counted back from the record end."""
        st = self.sample_type
        slots = [tag for bit, tag in SAMPLE_ID_TRAILER if st & bit]
        n = len(slots) if self.sample_id_all else 0
        self.trailer_time = (n - slots.index("time")) * 8 if n and "time" in slots else 0

    def trailer_time_of(self, buf: bytes, end: int) -> int:
        """Timestamp from a non-sample record's sample_id_all trailer (0 when absent)."""
        if not self.trailer_time:
            return 0
        return U64.unpack_from(buf, end - self.trailer_time)[0]

    def sample_fields(self, buf: bytes, pos: int) -> dict[str, Any]:
        """Every field of a SAMPLE record, by perf's names (slow path, on demand)."""
        st = self.sample_type
        out: dict[str, Any] = {}
        p = pos + 8

        def take(fmt: str) -> tuple:
            nonlocal p
            v = struct.unpack_from("<" + fmt, buf, p)
            p += struct.calcsize("<" + fmt)
            return v

        for bit, name, code in SAMPLE_FIXED_FIELDS:
            if st & bit:
                value, = take(code)
                if name != "res":
                    out[_DICT_NAMES.get(name, name)] = value
        if st & SampleType.READ:
            rl = self.read_layout
            lead, = take("Q")  # a group's member count, else the value
            out.update(zip(rl.times, take(f"{len(rl.times)}Q")))
            values = []
            for _ in range(lead if rl.group else 1):
                value = take("Q")[0] if rl.group else lead
                tail = dict(zip(rl.tail, take(f"{len(rl.tail)}Q")))
                values.append((tail.get("id", 0), value, tail.get("lost")))
            out["values"] = values
        if st & SampleType.CALLCHAIN:
            n, = take("Q")
            out["callchain"] = take(f"{n}Q")
        if st & SampleType.RAW:
            rs, = take("I")
            out["raw"] = bytes(buf[p:p + rs])
            p += rs
        if st & SampleType.BRANCH_STACK:
            n, = take("Q")
            entries = take(f"{3 * n}Q") if n else ()
            out["brstack"] = [entries[i:i + 3] for i in range(0, len(entries), 3)]
        if st & SampleType.REGS_USER:
            abi, = take("Q")
            n = bin(self.attr["sample_regs_user"]).count("1") if abi else 0
            out["user_regs"] = (abi, take(f"{n}Q"))
        if st & SampleType.STACK_USER:
            at = p - pos  # perf keeps the stack's place: its size field's offset in the record
            size, = take("Q")
            p += size
            out["user_stack"] = (at, take("Q")[0] if size else 0)  # (offset, dynamic size)
        if st & (SampleType.WEIGHT | SampleType.WEIGHT_STRUCT):
            out["weight"], = take("Q")
        if st & SampleType.DATA_SRC:
            out["data_src"], = take("Q")
        if st & SampleType.TRANSACTION:
            out["transaction"], = take("Q")
        if st & SampleType.REGS_INTR:
            abi, = take("Q")
            n = bin(self.attr["sample_regs_intr"]).count("1") if abi else 0
            out["intr_regs"] = (abi, take(f"{n}Q"))
        if st & SampleType.PHYS_ADDR:
            out["phys_addr"], = take("Q")
        if st & SampleType.CGROUP:
            out["cgroup"], = take("Q")
        if st & SampleType.DATA_PAGE_SIZE:
            out["data_page_size"], = take("Q")
        if st & SampleType.CODE_PAGE_SIZE:
            out["code_page_size"], = take("Q")
        if st & SampleType.AUX:
            out["aux_size"], = take("Q")
        return out
