"""A parsed print_fmt -> Python source rendering a record's payload as perf 6.1
(built-in libtraceevent) prints it, compiled once per event.

Each argument becomes a Python expression over ``raw`` (the payload) and the scalar
reads of one precompiled Struct; the C conversions become one ``%`` format, so
rendering a record is one call.  The compiler raises ParseError where libtraceevent
rejects what the parser let through (an index of a non-field, ``__get_bitmask``,
more conversions than arguments); anything else it raises is a bug here.
"""

from __future__ import annotations

import re
import struct
from enum import Enum
from typing import Any, Callable, NamedTuple, Optional, Sequence

from scripthost.engine.codegen import struct_reads
from scripthost.engine.printfmt.lexer import ParseError
from scripthost.engine.printfmt.nodes import (
    C_TYPES, M64, Atom, Binary, Bitmask, Cast, Cond, DynArray, DynLen, FieldRef, Flags, GetStr, Hex,
    Index, ListExpr, Node, Num, PrintArray, Rec, Str, Symbolic, Unary, UnknownNode, fold)
from scripthost.engine.printfmt.parser import ParsedFormat
from scripthost.engine.printfmt.runtime import ENV, WIDTH_CAP
from scripthost.engine.tpformat import EventFormat, Field

__all__ = ["Kind", "Compiled", "compile_format", "match_args", "SPEC"]


class Kind(Enum):
    """What an argument's Python expression evaluates to."""
    INT = "int"
    STR = "str"
    BYTES = "bytes"
    ANY = "any"  # a ternary whose branches differ


class Value(NamedTuple):
    src: str
    kind: Kind


#: one C printf conversion
SPEC = re.compile(r"%(?P<flags>[-+ #0]*)(?P<width>\*|\d+)?(?:\.(?P<prec>\*|\d+))?"
                  r"(?P<len>hh|h|ll|l|L|z|j|t|q)?(?P<conv>[diouxXcspn%])")
#: the ``%p`` extensions libtraceevent reads after the ``p``
_P_EXT = re.compile(r"[SsFfBR]|[iI][46]c?|[iI]Sp?c?|[mM]R?|U[bBlL]?|[a-z]+")
_SIZE_CODES = {1: "b", 2: "h", 4: "i", 8: "q"}
#: struct code -> (bits, signed)
_CODE_RANGE = {"b": (8, True), "h": (16, True), "i": (32, True), "q": (64, True),
               "B": (8, False), "H": (16, False), "I": (32, False), "Q": (64, False)}
_WIDE = ("l", "ll", "L", "z", "j", "t", "q")


class Compiled:
    """A compiled print_fmt.  ``render(raw)`` is the record's text; for callers that fuse
    it into a larger format, ``pyfmt % tuple(eval(v) for v in values)`` is the same text,
    where the values read ``raw`` and the variables in ``struct_reads``, in ``env``."""

    def __init__(self, pyfmt: str, values: list[str], env: dict[str, Any],
                 reads: dict[tuple[int, str], str]) -> None:
        self.pyfmt = pyfmt
        self.values = values
        self.env = env
        self.uses_raw = any("raw" in v for v in values)
        self._reads = reads
        self.render: Callable[[bytes], str] = _unset

    def reads(self) -> dict[str, tuple[int, str]]:
        """Each variable's (raw offset, struct code)."""
        return {name: key for key, name in self._reads.items()}

    def struct_reads(self) -> tuple[str, list[str], list[tuple[int, str, str]]]:
        """(struct format from raw offset 0, variable names in order, overlapping reads)."""
        return struct_reads((off, code, name) for (off, code), name in self._reads.items())

    @property
    def need(self) -> int:
        """Bytes of payload the reads need."""
        return max((off + struct.calcsize("<" + code) for off, code in self._reads), default=0)


def _unset(raw: bytes) -> str:
    raise AssertionError("Compiled.render used before compile_format set it")


def compile_format(parsed: ParsedFormat, fmt: EventFormat, ksyms: Any, printk: Optional[dict[int, str]],
                   short: Callable[[bytes], str]) -> Compiled:
    """Compile ``parsed`` (``fmt``'s print_fmt) with kernel symbols (``ksyms.lookup``) for
    ``%pS`` and the recording's printk strings for ``%s`` of a pointer; ``short(raw)``
    renders a payload too short for the reads or contradicting the format."""
    cg = _Codegen(ksyms, printk or {})
    args = [cg.gen(a) for a in parsed.args]
    text = parsed.text
    match_args(text, len(args))
    out: list[str] = []
    values: list[str] = []
    pos = at = 0
    while pos < len(text):
        j = text.find("%", pos)
        if j < 0:
            out.append(text[pos:].replace("%", "%%"))
            break
        out.append(text[pos:j])
        m = SPEC.match(text, j)
        if m is None:
            out.append("%%")
            pos = j + 1
            continue
        if m.group("conv") == "%":
            out.append("%%")
            pos = m.end()
            continue
        conv = _convert(m, cg, args[at:], text, m.end())
        out.append(conv.pyspec)
        values.append(conv.value)
        at += conv.used
        pos = m.end() + conv.extra
    pyfmt = "".join(out)
    comp = Compiled(pyfmt, values, cg.env, cg.reads)
    lines = ["def render(raw):"]
    if cg.reads:
        sfmt, names, over = comp.struct_reads()
        cg.env["_S"] = struct.Struct(sfmt)
        lines.append("    try:")
        lines.append(f"        {', '.join(names)}{',' if len(names) == 1 else ''} = _S.unpack_from(raw, 0)")
        for off, code, name in over:
            lines.append(f"        {name} = _unpack('<{code}', raw, {off})[0]")
        lines.append("    except Exception:")
        lines.append("        return _short(raw)")
    tuple_src = "(" + "".join(v + ", " for v in values) + ")"
    lines += ["    try:", f"        return {pyfmt!r} % {tuple_src}",
              "    except (TypeError, ValueError, OverflowError, IndexError):",
              "        return _short(raw)  # bytes that contradict the format (corrupt input)"]
    cg.env["_short"] = short
    exec(compile("\n".join(lines), f"<print_fmt {fmt.full_name}>", "exec"), cg.env)
    comp.render = cg.env["render"]
    return comp


def match_args(text: str, nargs: int) -> None:
    """Raise libtraceevent's ParseError where the conversions of ``text`` ask for more than
    its ``nargs`` arguments, or one asks for both a width and a precision argument (perf
    6.1 then fails the event: measured, "no argument match" / "argument already matched")."""
    need = 0
    for m in SPEC.finditer(text):
        if m.group("conv") == "%":
            continue
        stars = (m.group("width") == "*") + (m.group("prec") == "*")
        if stars == 2:
            raise ParseError("argument already matched")
        need += 1 + stars
        if need > nargs:
            raise ParseError("no argument match")


class _Codegen:
    """The Python expressions of one event's arguments, the payload reads and constants
    they use, and the namespace they run in."""

    def __init__(self, ksyms: Any, printk: dict[int, str]) -> None:
        self.ksyms = ksyms
        self.printk = printk
        self.reads: dict[tuple[int, str], str] = {}
        self.read_codes: dict[str, str] = {}
        self.env: dict[str, Any] = {**ENV, "_ksym": self._ksym, "_kstr": self._kstr}
        self.n = 0

    def _ksym(self, v: int, with_off: bool) -> str:
        v &= M64
        if self.ksyms is not None:
            hit = self.ksyms.lookup(v)
            if hit is not None:
                name, off = hit
                return f"{name}+0x{off:x}" if with_off else name
        return "0x%x" % v

    def _kstr(self, v: int) -> str:
        v &= M64
        text = self.printk.get(v)
        return text if text is not None else "%x" % v

    def const(self, value: Any) -> str:
        name = f"_c{self.n}"
        self.n += 1
        self.env[name] = value
        return name

    def read(self, off: int, code: str) -> str:
        key = (off, code)
        if key not in self.reads:
            name = f"_r{len(self.reads)}"
            self.reads[key] = name
            self.read_codes[name] = code
        return self.reads[key]

    def scalar(self, off: int, size: int, signed: bool) -> str:
        if size not in _SIZE_CODES:
            return "0"
        code = _SIZE_CODES[size]
        return self.read(off, code if signed else code.upper())

    def field(self, f: Field) -> Value:
        if f.is_dynamic or f.is_relative:
            return Value(self.read(f.offset, "I"), Kind.INT)
        if f.is_array:
            if f.is_string:
                return Value(f"_cstr(raw, {f.offset}, {f.size})", Kind.STR)
            return Value(f"raw[{f.offset}:{f.offset + f.size}]", Kind.BYTES)
        return Value(self.scalar(f.offset, f.size, f.signed), Kind.INT)

    def gen(self, node: Node) -> Value:
        match node:
            case Num(value):
                return Value(repr(value), Kind.INT)
            case Str(text):
                return Value(repr(text), Kind.STR)
            case Atom():
                return Value("0", Kind.INT)  # unknown identifiers (e.g. vmemmap_base) evaluate to 0
            case FieldRef(f):
                return self.field(f)
            case Index(base, idx):
                return self.index(base, idx)
            case Cast(words, operand):
                return self.cast(words, self.gen(operand))
            case Unary(op, operand):
                src = self.gen(operand).src
                if op == "!":
                    return Value(f"(0 if {src} else 1)", Kind.INT)
                if op == "~":
                    return Value(f"(~({src}) & M64)", Kind.INT)
                return Value(f"({op}({src}))", Kind.INT)
            case Binary(op, left, right):
                return Value(self.binary(op, self.gen(left), self.gen(right)), Kind.INT)
            case Cond(cond, then, other):
                c, a, b = self.gen(cond), self.gen(then), self.gen(other)
                return Value(f"(({a.src}) if ({c.src}) else ({b.src}))", a.kind if a.kind == b.kind else Kind.ANY)
            case Flags(value, delim, table):
                v = self.gen(value).src
                return Value(f"_flags({v}, {delim!r}, {self.table(table)})", Kind.STR)
            case Symbolic(value, table):
                v = self.gen(value).src
                return Value(f"_sym({v}, {self.table(table)})", Kind.STR)
            case GetStr(f):
                base = f.offset + 4 if f.is_relative else 0
                return Value(f"_getstr(raw, {self.read(f.offset, 'I')}, {base})", Kind.STR)
            case DynArray(f):
                base = f.offset + 4 if f.is_relative else 0
                loc = self.read(f.offset, "I")
                return Value(f"raw[(({loc}) & 0xFFFF) + {base}:(({loc}) & 0xFFFF) + {base} + (({loc}) >> 16)]",
                             Kind.BYTES)
            case DynLen(f):
                return Value(f"({self.read(f.offset, 'I')} >> 16)", Kind.INT)
            case Hex(buf, length, spaced):
                b, n = self.gen(buf), self.gen(length)
                data = b.src if b.kind is Kind.BYTES else "b''"
                return Value(f"_hex(({data})[:max(0, {n.src})], {' ' if spaced else ''!r})", Kind.STR)
            case PrintArray(buf, count, size):
                b, n, s = self.gen(buf), self.gen(count), self.gen(size)
                data = b.src if b.kind is Kind.BYTES else "b''"
                return Value(f"_array({data}, {n.src}, {s.src})", Kind.STR)
            case Bitmask():
                raise ParseError("function __get_bitmask not supported")
            case Rec():
                raise ParseError("bad op token REC")
            case ListExpr():
                raise ParseError("bad op token list")
        raise UnknownNode("gen", node)

    def table(self, table: tuple[tuple[Node, str], ...]) -> str:
        return self.const([(fold(e), s) for e, s in table])

    def index(self, base: Node, idx: Node) -> Value:
        if not isinstance(base, FieldRef):
            raise ParseError("bad index")
        f = base.field
        elem = f.elem_size or 1
        ival = fold(idx)
        if ival is not None and not (f.is_dynamic or f.is_relative):
            return Value(self.scalar(f.offset + ival * elem, elem, f.signed), Kind.INT)
        isrc = self.gen(idx).src
        code = _SIZE_CODES.get(elem, "q")
        code = code if f.signed else code.upper()
        return Value(f"_unpack('<{code}', raw, {f.offset} + ({isrc}) * {elem})[0]", Kind.INT)

    @staticmethod
    def cast(words: tuple[str, ...], v: Value) -> Value:
        if v.kind is not Kind.INT:
            return v
        if "*" in words:
            return Value(f"(({v.src}) & M64)", Kind.INT)
        t = " ".join(w for w in words if w not in ("const", "volatile"))
        if t in C_TYPES:
            bits, signed = C_TYPES[t]
            if signed:
                return Value(f"_s({v.src}, {bits})", Kind.INT)
            return Value(f"(({v.src}) & {hex((1 << bits) - 1)})", Kind.INT)
        return v

    @staticmethod
    def binary(op: str, a: Value, b: Value) -> str:
        if op == "&&":
            return f"(1 if ({a.src}) and ({b.src}) else 0)"
        if op == "||":
            return f"(1 if ({a.src}) or ({b.src}) else 0)"
        # libtraceevent computes in unsigned long long: a negative difference
        # divides and compares as its 64-bit two's complement
        if op in ("==", "!=", "<", ">", "<=", ">="):
            if a.kind is Kind.INT and b.kind is Kind.INT:
                return f"(1 if (({a.src}) & M64) {op} (({b.src}) & M64) else 0)"
            return f"(1 if ({a.src}) {op} ({b.src}) else 0)"
        if op == "/":
            return f"_udiv({a.src}, {b.src})"
        if op == "%":
            return f"_umod({a.src}, {b.src})"
        if op == "<<":
            return f"((({a.src}) << (({b.src}) & 63)) & M64)"
        if op == ">>":
            return f"(({a.src}) >> (({b.src}) & 63))"
        return f"(({a.src}) {op} ({b.src}))"


class _Conversion(NamedTuple):
    pyspec: str  # the Python conversion
    value: str  # the expression it formats
    used: int  # arguments consumed (a ``*`` width or precision takes one too)
    extra: int  # characters of the format consumed after the match (``%p`` extensions)


def _count(v: Value) -> str:
    """A width or precision argument: C's int of a number; what is not a number counts 0
    (a string-valued argument: perf 6.1 prints the field unpadded)."""
    if v.kind is Kind.INT:
        return f"_s({v.src}, 32)"
    if v.kind in (Kind.STR, Kind.BYTES):
        return "0"
    return f"(_s({v.src}, 32) if type({v.src}) is int else 0)"


def _convert(spec: re.Match, cg: _Codegen, args: Sequence[Value], text: str, pos: int) -> _Conversion:
    """One printf conversion over the arguments from ``args[0]`` on (`match_args` has
    checked that they are there); ``text[pos:]`` follows the match."""
    flags = spec.group("flags") or ""
    width = spec.group("width") or ""
    prec = spec.group("prec")
    used = 0
    wexpr = pexpr = "None"
    if width == "*":
        wexpr = _count(args[used])
        used += 1
    elif width:
        wexpr = str(int(width))
    if prec == "*":
        pexpr = _count(args[used])
        used += 1
    elif prec is not None:
        pexpr = str(int(prec))
    arg = args[used]
    used += 1
    static = "*" not in (width, prec) and int(width or 0) <= WIDTH_CAP and int(prec or 0) <= WIDTH_CAP
    head = "%" + flags.replace("#", "")
    if static:
        pyspec, value, extra = _value(spec, cg, flags, head + width + ("" if prec is None else "." + prec),
                                      arg, text, pos)
        return _Conversion(pyspec, value, used, extra)
    pyspec, value, extra = _value(spec, cg, flags, head, arg, text, pos)
    return _Conversion("%s", f"_star({pyspec!r}, {wexpr}, {pexpr}, {value}, len(raw))", used, extra)


def _value(spec: re.Match, cg: _Codegen, flags: str, pyspec: str, arg: Value,
           text: str, pos: int) -> tuple[str, str, int]:
    """A conversion's value: (python spec, the expression of ``arg`` it formats, chars of
    the format consumed after the match)."""
    length = spec.group("len") or ""
    conv = spec.group("conv")
    bits = 64 if length in _WIDE else 16 if length == "h" else 8 if length == "hh" else 32
    a, kind = arg
    read_code = cg.read_codes.get(a)  # a bare field read needs no coercion when it fits
    if conv in "di":
        if read_code is not None and _fits(read_code, bits, True):
            return pyspec + "d", a, 0
        return pyspec + "d", f"_s({a}, {bits})" if kind is Kind.INT else a, 0
    if conv in "uxXo":
        mask = hex((1 << bits) - 1)
        if read_code is not None and _fits(read_code, bits, False):
            v = a
        else:
            v = f"(({a}) & {mask})" if kind is Kind.INT else a
        if "#" in flags and conv in "xXo":
            alt = {"x": "0x", "X": "0X", "o": "0"}[conv]
            return pyspec + "s", f"(({alt!r} + format({v}, {conv!r})) if {v} else '0')", 0
        return pyspec + ("d" if conv == "u" else conv), v, 0
    if conv == "c":
        return pyspec + "s", f"chr(({a}) & 0xff)" if kind is Kind.INT else a, 0
    if conv == "s":
        if read_code in ("q", "Q"):
            # a pointer-sized field: the kernel string it points to, from the recording's
            # printk formats, else the address in hex (libtraceevent's choice)
            return pyspec + "s", f"_kstr({a})", 0
        return pyspec + "s", a if kind is Kind.STR else f"str({a})", 0
    if conv == "p":
        ext = _P_EXT.match(text, pos)
        e = ext.group(0) if ext else ""
        if e[:1] in ("S", "s", "F", "f", "B"):
            return pyspec + "s", f"_ksym({a}, {e[:1] in ('S', 'F', 'B')})", 1
        if e == "i6c" or e.startswith("iS"):
            e = e[:2]  # 'c' and 'p' are I6's and IS's alone: after 'i' they print as text
        if e[:1] in ("i", "I", "M", "m", "U"):
            return pyspec + "s", _p_ext(e, a, kind), len(e)
        return pyspec + "s", f"_ptr({a})" if kind is Kind.INT else "'(nil)'", len(e)
    return pyspec + "s", a, 0  # %n


def _fits(code: str, bits: int, signed: bool) -> bool:
    """Whether every value a struct code reads prints unchanged under a C conversion."""
    cbits, csigned = _CODE_RANGE[code]
    if signed:
        return cbits < bits or (cbits == bits and csigned)
    return not csigned and cbits <= bits


def _p_ext(e: str, a: str, kind: Kind) -> str:
    """A ``%p`` extension's text: IPv4/IPv6/sockaddr, MAC, UUID; of bytes only."""
    if kind is not Kind.BYTES:
        return f"_ptr({a})" if kind is Kind.INT else "''"
    if e.startswith(("I4", "i4")):
        return f"_ip4({a}, {e[0] == 'i'})"
    if e[:1] in ("M", "m"):
        sep = ":" if e[0] == "M" else ""
        return f"{sep!r}.join('%02x' % c for c in ({a})[:6])"
    if e == "I6c":
        return f"_ip6c({a})"
    if e.startswith(("IS", "iS")):
        return f"_ipsa({a}, {e[0] == 'i'}, {'p' in e}, {'c' in e})"
    if e.startswith(("I6", "i6")):
        return f"_ip6({a}, {e[0] == 'I'})"
    if e.startswith("U"):
        return f"str(__import__('uuid').UUID(bytes=bytes(({a})[:16])))"
    return "''"
