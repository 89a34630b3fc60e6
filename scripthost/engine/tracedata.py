"""The tracing-data blob (version 0.6) that perf stores after its attrs:
header_page, header_event, ftrace and event formats, kallsyms, printk formats
and saved cmdlines."""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Optional

from scripthost.engine.tpformat import EventFormat, parse_format
from scripthost.errors import CorruptInput, StreamError

__all__ = ["TracingData", "parse_tracing_data"]

_MAGIC = b"\x17\x08\x44tracing"


@dataclass
class TracingData:
    version: str = ""
    big_endian: bool = False
    long_size: int = 8
    page_size: int = 4096
    header_page: bytes = b""
    header_event: bytes = b""
    formats: dict[int, EventFormat] = field(default_factory=dict)
    kallsyms: bytes = b""
    printk: dict[int, str] = field(default_factory=dict)
    saved_cmdlines: bytes = b""
    size: int = 0


class _Cursor:
    def __init__(self, data: bytes, base: int) -> None:
        self.data = data
        self.pos = 0
        self.base = base

    def fail(self, what: str) -> CorruptInput:
        return CorruptInput(f"corrupt tracing data: {what}", self.base + self.pos)

    def take(self, n: int, what: str) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise self.fail(f"{what} runs past the end ({n} bytes)")
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out

    def num(self, fmt: str, what: str) -> int:
        s = struct.calcsize(fmt)
        return struct.unpack(fmt, self.take(s, what))[0]

    def cstr(self, what: str) -> bytes:
        end = self.data.find(b"\0", self.pos)
        if end < 0:
            raise self.fail(f"unterminated {what}")
        out = self.data[self.pos:end]
        self.pos = end + 1
        return out


def _printk(text: bytes) -> dict[int, str]:
    out: dict[int, str] = {}
    for line in text.decode("utf-8", "replace").splitlines():
        addr, sep, fmt = line.partition(" : ")
        if not sep:
            continue
        try:
            out[int(addr, 16)] = fmt.strip().strip('"')
        except ValueError:
            continue
    return out


def _format(td: TracingData, c: _Cursor, what: str, system: str) -> None:
    """The next format of the blob into ``td``; its fault names where it starts."""
    start = c.pos
    text = c.take(c.num("<Q", f"{what} size"), what)
    try:
        f = parse_format(text, system)
    except StreamError as e:
        raise CorruptInput(f"corrupt tracing data: {e}", c.base + start) from None
    td.formats[f.id] = f


def parse_tracing_data(blob: bytes | memoryview, declared_size: Optional[int] = None,
                       base_offset: int = 0) -> TracingData:
    """Parse a tracing-data blob; raises StreamError naming the offset on any inconsistency."""
    c = _Cursor(bytes(blob), base_offset)
    if c.take(10, "magic") != _MAGIC:
        c.pos = 0
        raise c.fail("bad magic")
    td = TracingData()
    td.version = c.cstr("version").decode("ascii", "replace")
    td.big_endian = c.take(1, "endianness")[0] == 1
    if td.big_endian:
        raise c.fail("big-endian tracing data is not supported")
    td.long_size = c.take(1, "long size")[0]
    td.page_size = c.num("<I", "page size")
    if c.cstr("header_page tag") != b"header_page":
        raise c.fail("missing header_page")
    td.header_page = c.take(c.num("<Q", "header_page size"), "header_page")
    if c.cstr("header_event tag") != b"header_event":
        raise c.fail("missing header_event")
    td.header_event = c.take(c.num("<Q", "header_event size"), "header_event")
    for _ in range(c.num("<I", "ftrace format count")):
        _format(td, c, "ftrace format", "ftrace")
    nsys = c.num("<I", "system count")
    if nsys > 100000:
        raise c.fail(f"implausible system count {nsys}")
    for _ in range(nsys):
        system = c.cstr("system name").decode("utf-8", "replace")
        for _ in range(c.num("<I", "event count")):
            _format(td, c, "event format", system)
    td.kallsyms = c.take(c.num("<I", "kallsyms size"), "kallsyms")
    td.printk = _printk(c.take(c.num("<I", "printk size"), "printk formats"))
    try:
        major, minor = (int(x) for x in td.version.split(".")[:2])
    except ValueError:
        major, minor = 0, 0
    if (major, minor) >= (0, 6):
        td.saved_cmdlines = c.take(c.num("<Q", "saved cmdlines size"), "saved cmdlines")
    consumed = c.pos
    td.size = consumed + (-consumed % 8)
    if declared_size is not None:
        if td.size != declared_size or len(c.data) < declared_size:
            raise CorruptInput(f"corrupt tracing data: size mismatch ({declared_size} declared, "
                              f"{td.size} parsed)", base_offset)
    return td
