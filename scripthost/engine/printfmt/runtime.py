"""What the code compiled from a print_fmt calls when it renders a record: C's integer
arithmetic, strings and dynamic arrays out of the payload, perf's flag/symbol tables,
``%p`` extensions, and perf's "[FAILED TO PARSE]" field list.

`ENV` is the namespace the generated code runs in, by the names the compiler writes.
"""

from __future__ import annotations

import struct
from typing import Any, Optional

from scripthost.engine.printfmt.nodes import M32, M64
from scripthost.engine.tpformat import Field

__all__ = ["ENV", "WIDTH_CAP", "failed_fields", "signed", "print_array"]

#: a width or precision beyond this, or beyond the payload's size where that is larger,
#: is cut to it: perf prints what the record asks for, and a record (or a byte of its
#: format) asking for a 2^31-character field has it print gigabytes
WIDTH_CAP = 64

_INT_CODES = {1: "B", 2: "H", 4: "I", 8: "Q"}


def signed(v: int, bits: int) -> int:
    """``v`` as C's signed integer of ``bits`` bits."""
    v &= (1 << bits) - 1
    return v - (1 << bits) if v >> (bits - 1) else v


def udiv(a: int, b: int) -> int:
    """C's unsigned 64-bit ``a / b``, 0 for a zero divisor (libtraceevent's result)."""
    b &= M64
    return (a & M64) // b if b else 0


def umod(a: int, b: int) -> int:
    """C's unsigned 64-bit ``a % b``, 0 for a zero divisor."""
    b &= M64
    return (a & M64) % b if b else 0


def cstr(raw: bytes, off: int, size: int) -> str:
    """A char array field: its bytes up to the first NUL, as the output writes them."""
    b = raw[off:off + size]
    n = b.find(b"\0")
    return (b if n < 0 else b[:n]).decode("utf-8", "surrogateescape")


def dloc(raw: bytes, loc: int, base: int) -> tuple[int, int]:
    """A __data_loc / __rel_loc word: (offset in the payload, length)."""
    return (loc & 0xFFFF) + base, loc >> 16


def getstr(raw: bytes, loc: int, base: int) -> str:
    """``__get_str``: the dynamic string up to its NUL."""
    off, n = dloc(raw, loc, base)
    b = raw[off:off + n]
    z = b.find(b"\0")
    return (b if z < 0 else b[:z]).decode("utf-8", "surrogateescape")


def flags(val: int, delim: str, table: list[tuple[Optional[int], str]]) -> str:
    """``__print_flags``: the names of the set flags, what is left in hex."""
    val &= M64
    out = []
    for fval, text in table:
        fv = -1 if fval is None else fval
        if not val and fv < 0:
            out.append(text)
            val = 0
            break
        if fv > 0 and (val & fv) == fv:
            out.append(text)
            val &= ~fv
    s = delim.join(out)
    if val:
        s = (s + delim if out else s) + "0x%x" % val
    return s


def symbolic(val: int, table: list[tuple[Optional[int], str]]) -> str:
    """``__print_symbolic``: the value's name, else the value in hex."""
    v64 = val & M64
    for fval, text in table:
        if fval is not None and fval & M64 == v64:
            return text
    return "0x%x" % v64


def hexbytes(data: bytes, sep: str) -> str:
    """``__print_hex`` / ``__print_hex_str``."""
    return sep.join("%02x" % c for c in data)


def print_array(data: bytes, count: int, size: int) -> str:
    """``__print_array``: ``count`` elements of ``size`` bytes, in hex."""
    if size not in _INT_CODES:
        return ""
    n = min(count, len(data) // size) if count >= 0 else 0
    vals = struct.unpack_from(f"<{n}{_INT_CODES[size]}", data, 0) if n else ()
    return "{" + ",".join("0x%x" % v for v in vals) + "}"


def ip4(b: bytes, padded: bool) -> str:
    """``%pI4`` / ``%pi4``."""
    if len(b) != 4:
        return "INVALIDIPv4"
    return ("%03d.%03d.%03d.%03d" if padded else "%d.%d.%d.%d") % tuple(b)


def ip6(b: bytes, colons: bool) -> str:
    """``%pI6`` / ``%pi6``."""
    if len(b) != 16:
        return "INVALIDIPv6"
    return (":" if colons else "").join("%02x%02x" % (b[i], b[i + 1]) for i in range(0, 16, 2))


def ip6c(b: bytes) -> str:
    """The kernel's compressed IPv6 text (``%pI6c``): the longest run of two or more zero
    words (the first of equal runs) as "::", IPv4-mapped and ISATAP addresses ending in
    dotted quad."""
    if len(b) != 16:
        return "INVALIDIPv6"
    v4 = (b[:10] == bytes(10) and b[10:12] == b"\xff\xff") or \
        (b[8] | 0x02, b[9], b[10], b[11]) == (0x02, 0x00, 0x5E, 0xFE)
    words = [b[i] << 8 | b[i + 1] for i in range(0, 12 if v4 else 16, 2)]
    start, longest = -1, 1
    for i in range(len(words)):
        run = 0
        while i + run < len(words) and words[i + run] == 0:
            run += 1
        if run > longest:
            start, longest = i, run
    out, i, colon = [], 0, False
    while i < len(words):
        if i == start:
            out.append("::" if colon or i == 0 else ":")
            colon = False
            i += longest
            continue
        if colon:
            out.append(":")
        out.append("%x" % words[i])
        colon = True
        i += 1
    if v4:
        out.append(":" if colon else "")
        out.append("%d.%d.%d.%d" % tuple(b[12:]))
    return "".join(out)


def ipsa(b: bytes, padded: bool, port: bool, compressed: bool) -> str:
    """``%pIS``: a struct sockaddr (AF_INET or AF_INET6, else nothing), ":port" for 'p'."""
    family = b[0] | b[1] << 8 if len(b) >= 2 else 0
    if family == 2:  # AF_INET: family, port (network order), address
        if len(b) < 16:
            return "INVALIDIPv4"
        return ip4(b[4:8], padded) + (":%d" % (b[2] << 8 | b[3]) if port else "")
    if family == 10:  # AF_INET6: family, port, flowinfo, address
        if len(b) < 28:
            return "INVALIDIPv6"
        addr = ip6c(b[8:24]) if compressed else ip6(b[8:24], not padded)
        return "[%s]:%d" % (addr, b[2] << 8 | b[3]) if port else addr
    return ""


def ptr(v: int) -> str:
    """``%p``: the address in hex, "(nil)" for 0."""
    v &= M64
    return "0x%x" % v if v else "(nil)"


def star(spec: str, width: Optional[int], prec: Optional[int], value: Any, size: int) -> str:
    """``value`` under the printf conversion ``spec`` ("%" flags conv) with a width and
    precision chosen per record (C's rules: a negative width left-justifies, a negative
    precision is none), each cut to the record's bound."""
    cap = max(WIDTH_CAP, size)
    fl = spec[1:-1]
    mid = ""
    if width is not None:
        if width < 0:
            width = -width
            fl = fl if "-" in fl else fl + "-"
        mid = str(min(width, cap))
    if prec is not None and prec >= 0:
        mid += "." + str(min(prec, cap))
    return ("%" + fl + mid + spec[-1]) % (value,)


#: the generated code's namespace; the compiler adds the per-event names (_ksym, _kstr,
#: _S, _short and the table constants)
ENV: dict[str, Any] = {
    "_s": signed, "_cstr": cstr, "_getstr": getstr, "_flags": flags, "_sym": symbolic,
    "_hex": hexbytes, "_ptr": ptr, "_udiv": udiv, "_umod": umod, "M64": M64, "M32": M32,
    "_ip4": ip4, "_ip6": ip6, "_ip6c": ip6c, "_ipsa": ipsa, "_dloc": dloc,
    "_star": star, "_array": print_array, "_unpack": struct.unpack_from,
}


def failed_fields(fields: list[Field], raw: bytes) -> str:
    """perf's fallback for a format it could not parse: every field as name=value."""
    return "".join(["[FAILED TO PARSE]", *(f" {f.name}={_field_text(f, raw)}" for f in fields)])


def _field_text(f: Field, raw: bytes) -> str:
    """A field's value as perf prints it after [FAILED TO PARSE]."""
    try:
        if f.is_dynamic or f.is_relative:
            loc = struct.unpack_from("<I", raw, f.offset)[0]
            if f.is_string:
                return getstr(raw, loc, f.offset + 4 if f.is_relative else 0)
            if not f.is_array:
                return str(loc)
            off, n = dloc(raw, loc, f.offset + 4 if f.is_relative else 0)
            return "ARRAY[" + ", ".join("%02x" % c for c in raw[off:off + n]) + "]"
        if f.is_array:
            if f.is_string:
                return cstr(raw, f.offset, f.size)
            return "ARRAY[" + ", ".join("%02x" % c for c in raw[f.offset:f.offset + f.size]) + "]"
        if f.size not in (1, 2, 4, 8):
            return "0"
        if f.offset + f.size > len(raw):
            return ""  # past the payload (corrupt input): nothing to show
        v = int.from_bytes(raw[f.offset:f.offset + f.size], "little", signed=f.signed)
        # perf 6.1 (measured): a pointer, an unsigned long and a 4-byte signed long in hex,
        # every other number in decimal (an 8-byte signed long too)
        if f.is_pointer or (f.is_long and (not f.signed or f.size == 4)):
            return "0x%x" % (v & (M32 if f.size == 4 and f.signed else M64))
        return str(v)
    except struct.error:
        return ""
