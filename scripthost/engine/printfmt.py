"""print_fmt: parsing a tracepoint's C-like print format, rendering records
with it as perf 6.1 (built-in libtraceevent) renders them, and perf's
define_* walk over its arguments.

Each print_fmt is compiled once into a Python function (generated source,
one precompiled Struct for the scalar fields it reads, a ``%`` format with the
C conversions translated), so rendering a record is one call.
"""

from __future__ import annotations

import re
import struct
from typing import Any, Callable, Optional

from scripthost.engine.codegen import struct_reads
from scripthost.engine.tpformat import EventFormat, Field

__all__ = ["PrintFormat", "ParseError", "perf_warning"]

M64 = (1 << 64) - 1
M32 = (1 << 32) - 1

#: the only symbolic names libtraceevent/perf know (softirq vectors, hrtimer restart)
KNOWN_NAMES = {"HI": 0, "TIMER": 1, "NET_TX": 2, "NET_RX": 3, "BLOCK": 4, "IRQ_POLL": 5,
               "TASKLET": 6, "SCHED": 7, "HRTIMER": 8, "RCU_SOFTIRQ": 9,
               "HRTIMER_NORESTART": 0, "HRTIMER_RESTART": 1}

_TYPE_WORDS = {"unsigned", "signed", "int", "long", "short", "char", "void", "struct", "const",
               "u8", "s8", "u16", "s16", "u32", "s32", "u64", "s64", "__u8", "__u16", "__u32",
               "__u64", "__s8", "__s16", "__s32", "__s64", "bool", "size_t", "ssize_t", "pid_t",
               "gfp_t", "uint", "ulong", "enum", "union", "volatile"}
# casts: (bits, signed); pointers are 64-bit unsigned
_CASTS = {"char": (8, True), "signed char": (8, True), "unsigned char": (8, False),
          "short": (16, True), "unsigned short": (16, False), "int": (32, True),
          "unsigned int": (32, False), "unsigned": (32, False), "long": (64, True),
          "unsigned long": (64, False), "long long": (64, True), "unsigned long long": (64, False),
          "u8": (8, False), "s8": (8, True), "u16": (16, False), "s16": (16, True),
          "u32": (32, False), "s32": (32, True), "u64": (64, False), "s64": (64, True),
          "__u8": (8, False), "__u16": (16, False), "__u32": (32, False), "__u64": (64, False),
          "__s8": (8, True), "__s16": (16, True), "__s32": (32, True), "__s64": (64, True),
          "bool": (8, False), "size_t": (64, False), "ssize_t": (64, True), "pid_t": (32, True)}
_KNOWN_FUNCS = {"__print_flags", "__print_symbolic", "__print_flags_u64", "__print_symbolic_u64",
                "__get_str", "__get_rel_str", "__get_dynamic_array", "__get_rel_dynamic_array",
                "__get_dynamic_array_len", "__get_rel_dynamic_array_len", "__print_hex",
                "__print_hex_str", "__print_array", "__get_bitmask", "__get_rel_bitmask",
                "__builtin_expect"}


class ParseError(Exception):
    """libtraceevent could not parse this print_fmt (perf prints [FAILED TO PARSE])."""


# -- tokenizer ------------------------------------------------------------------------

_TOKEN = re.compile(r"""
    \s*(?:
      (?P<str>"(?:[^"\\]|\\.)*")
    | (?P<num>0[xX][0-9a-fA-F]+[uUlL]*|\d+[uUlL]*)
    | (?P<id>[A-Za-z_][A-Za-z0-9_]*)
    | (?P<op>->|<<|>>|<=|>=|==|!=|&&|\|\||[-+*/%&|^!~<>?:()\[\]{},.])
    )""", re.VERBOSE)

_ESC = {"n": "\n", "t": "\t", "\\": "\\", '"': '"', "r": "\r", "0": "\0"}


def _tokens(text: str) -> list[tuple[str, str]]:
    out = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            if text[pos:].strip() == "":
                break
            raise ParseError(f"bad token {text[pos:pos + 10]!r}")
        pos = m.end()
        kind = m.lastgroup
        out.append((kind, m.group(kind)))
    out.append(("eof", ""))
    return out


def _unescape(lit: str) -> str:
    body = lit[1:-1]
    return re.sub(r"\\(.)", lambda m: _ESC.get(m.group(1), m.group(1)), body)


def _num_value(text: str) -> int:
    t = text.rstrip("uUlL")
    if t.lower().startswith("0x"):
        return int(t, 16)
    if len(t) > 1 and t.startswith("0"):
        return int(t, 8)
    return int(t)


# -- parser -----------------------------------------------------------------------------

_BINARY = [["||"], ["&&"], ["|"], ["^"], ["&"], ["==", "!="], ["<", ">", "<=", ">="],
           ["<<", ">>"], ["+", "-"], ["*", "/", "%"]]
_PRIO = {op: level for level, ops in enumerate(_BINARY) for op in ops}


class _Parser:
    def __init__(self, text: str, fmt: EventFormat) -> None:
        self.toks = _tokens(text)
        self.i = 0
        self.fmt = fmt
        self.parened: set[int] = set()
        self.keep: list[tuple] = []  # keeps parenthesized nodes alive so their ids stay unique

    def peek(self, k: int = 0) -> tuple[str, str]:
        return self.toks[min(self.i + k, len(self.toks) - 1)]

    def next(self) -> tuple[str, str]:
        t = self.toks[self.i]
        self.i += 1
        return t

    def expect(self, value: str) -> None:
        t = self.next()
        if t[1] != value:
            raise ParseError(f"expected {value!r}, got {t[1]!r}")

    def top(self) -> tuple[str, list]:
        k, v = self.next()
        if k != "str":
            raise ParseError("print fmt does not start with a string")
        fmt = _unescape(v)
        while self.peek()[0] == "str":
            fmt += _unescape(self.next()[1])
        args = []
        while self.peek()[1] == ",":
            self.next()
            args.append(self.expr())
        if self.peek()[0] != "eof":
            raise ParseError(f"bad op token {self.peek()[1]}")
        return fmt, args

    def expr(self) -> tuple:
        cond = self.binary(0)
        if self.peek()[1] == "?":
            self.next()
            a = self.expr()
            self.expect(":")
            b = self.expr()
            return ("cond", cond, a, b)
        return cond

    def binary(self, level: int) -> tuple:
        if level == len(_BINARY):
            return self.unary()
        left = self.binary(level + 1)
        while self.peek()[0] == "op" and self.peek()[1] in _BINARY[level]:
            op = self.next()[1]
            right = self.binary(level + 1)
            left = self._rotate(op, left, right) if id(right) in self.parened else ("bin", op, left, right)
        return left

    def _rotate(self, op: str, left: tuple, right: tuple) -> tuple:
        """libtraceevent re-associates a parenthesized right operand of lower
        precedence: X & (A | B) is evaluated as (X & A) | B."""
        if right[0] == "bin" and _PRIO[right[1]] < _PRIO[op]:
            return ("bin", right[1], self._rotate(op, left, right[2]), right[3])
        if right[0] == "cond":
            return ("cond", self._rotate(op, left, right[1]), right[2], right[3])
        return ("bin", op, left, right)

    def _cast_ahead(self) -> Optional[int]:
        """If a cast starts here (at '('), the index of its ')'."""
        j = self.i + 1
        words = []
        while self.toks[j][0] == "id" or self.toks[j][1] == "*":
            words.append(self.toks[j][1])
            j += 1
        if self.toks[j][1] != ")" or not words:
            return None
        ids = [w for w in words if w != "*"]
        if not ids:
            return None
        if ids[0] in _TYPE_WORDS or "*" in words or len(ids) > 1 or ids[0].endswith("_t"):
            nxt = self.toks[j + 1]
            if nxt[0] in ("id", "num", "str") or nxt[1] in ("(", "-", "!", "~", "+"):
                return j
        return None

    def unary(self) -> tuple:
        k, v = self.peek()
        if k == "op" and v in ("-", "!", "~", "+"):
            self.next()
            return ("un", v, self.unary())
        if k == "op" and v == "(":
            end = self._cast_ahead()
            if end is not None:
                words = [t[1] for t in self.toks[self.i + 1:end]]
                self.i = end + 1
                return ("cast", words, self.unary())
        if k == "id" and v == "sizeof":
            self.next()
            self.expect("(")
            words = []
            while self.peek()[1] != ")":
                words.append(self.next()[1])
            self.next()
            ident = " ".join(w for w in words if w != "*")
            size = 8 if "*" in words else _CASTS.get(ident, (64, False))[0] // 8
            return ("num", size, str(size))
        return self.postfix()

    def postfix(self) -> tuple:
        node = self.primary()
        while True:
            v = self.peek()[1]
            if v == "[":
                self.next()
                idx = self.expr()
                self.expect("]")
                node = ("index", node, idx)
            elif v in ("->", "."):
                self.next()
                k, name = self.next()
                if k != "id":
                    raise ParseError("bad field name")
                if node != ("rec",):
                    raise ParseError(f"bad op token {v}")
                f = self.fmt.field(name)
                if f is None:
                    raise ParseError(f"field {name} not found")
                node = ("field", f)
            else:
                return node

    def primary(self) -> tuple:
        k, v = self.next()
        if k == "num":
            return ("num", _num_value(v), v)
        if k == "str":
            s = _unescape(v)
            while self.peek()[0] == "str":
                s += _unescape(self.next()[1])
            return ("str", s)
        if k == "id":
            if v == "REC":
                return ("rec",)
            if self.peek()[1] == "(":
                return self.call(v)
            return ("atom", v)
        if v == "(":
            e = self.expr()
            self.expect(")")
            self.parened.add(id(e))
            self.keep.append(e)
            return e
        if v == "{":
            items = [self.expr()]
            while self.peek()[1] == ",":
                self.next()
                items.append(self.expr())
            self.expect("}")
            return ("list", items)
        raise ParseError(f"bad op token {v}")

    def call(self, name: str) -> tuple:
        self.expect("(")
        args = []
        if self.peek()[1] != ")":
            args.append(self.expr())
            while self.peek()[1] == ",":
                self.next()
                args.append(self.expr())
        self.expect(")")
        if name not in _KNOWN_FUNCS:
            raise ParseError(f"function {name} not defined")
        if name == "__builtin_expect":  # a hint to the compiler: its value is the first argument
            if len(args) != 2:
                raise ParseError("bad __builtin_expect")
            return args[0]
        if name in ("__print_flags", "__print_flags_u64"):
            if len(args) < 2 or args[1][0] != "str":
                raise ParseError("bad __print_flags")
            return ("flags", args[0], args[1][1], [p for p in map(self._pair, args[2:]) if p])
        if name in ("__print_symbolic", "__print_symbolic_u64"):
            return ("sym", args[0], [p for p in map(self._pair, args[1:]) if p])
        if name in ("__get_str", "__get_rel_str", "__get_dynamic_array", "__get_rel_dynamic_array",
                    "__get_dynamic_array_len", "__get_rel_dynamic_array_len", "__get_bitmask",
                    "__get_rel_bitmask"):
            if len(args) != 1:
                raise ParseError(f"bad {name}")
            f = self._dyn_field(args[0])
            kind = {"str": "getstr", "array": "dynarr", "len": "dynlen", "bitmask": "bitmask"}[
                "str" if name.endswith("_str") else "len" if name.endswith("_len")
                else "bitmask" if name.endswith("bitmask") else "array"]
            return (kind, f)
        if name in ("__print_hex", "__print_hex_str"):
            if len(args) != 2:
                raise ParseError(f"bad {name}")
            return ("hexstr" if name.endswith("_str") else "hex", args[0], args[1])
        if len(args) != 3:
            raise ParseError("bad __print_array")
        return ("array", args[0], args[1], args[2])

    def _dyn_field(self, node: tuple) -> Field:
        if node[0] == "field":
            return node[1]
        if node[0] == "atom":
            f = self.fmt.field(node[1])
            if f is not None:
                return f
        raise ParseError("bad dynamic field")

    @staticmethod
    def _pair(node: tuple) -> Optional[tuple]:
        """A `{value, "name"}` entry; None for the `{0, NULL}` sentinel some formats end with."""
        if node[0] != "list" or len(node[1]) != 2:
            raise ParseError("bad flag entry")
        if node[1][1][0] != "str":
            if _fold(node[1][1]) == 0:
                return None
            raise ParseError("bad flag entry")
        return node[1][0], node[1][1][1]


# -- constant folding for flag/symbol tables ---------------------------------------------

def _fold(node: tuple) -> Optional[int]:
    """The constant value of a flag table entry, or None when it names an unknown symbol."""
    k = node[0]
    if k == "num":
        return node[1]
    if k == "atom":
        return KNOWN_NAMES.get(node[1])
    if k == "cast":
        return _fold(node[2])
    if k == "un":
        v = _fold(node[2])
        if v is None:
            return None
        return {"-": -v, "!": int(not v), "~": ~v & M64, "+": v}[node[1]]
    if k == "bin":
        a, b = _fold(node[2]), _fold(node[3])
        if a is None or b is None:
            return None
        try:
            return _binop(node[1], a, b) & M64
        except ZeroDivisionError:
            return None
    return None


def _binop(op: str, a: int, b: int) -> int:
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if op == "/":
        return _cdiv(a, b)
    if op == "%":
        return _cmod(a, b)
    if op == "<<":
        return (a << (b & 63)) & M64
    if op == ">>":
        return (a & M64) >> (b & 63) if a >= 0 else a >> (b & 63)
    if op == "&":
        return a & b
    if op == "|":
        return a | b
    if op == "^":
        return a ^ b
    if op == "==":
        return int(a & M64 == b & M64)
    if op == "!=":
        return int(a & M64 != b & M64)
    if op == "<":
        return int(a < b)
    if op == ">":
        return int(a > b)
    if op == "<=":
        return int(a <= b)
    if op == ">=":
        return int(a >= b)
    if op == "&&":
        return int(bool(a) and bool(b))
    if op == "||":
        return int(bool(a) or bool(b))
    raise ParseError(f"bad op {op}")


def _cdiv(a: int, b: int) -> int:
    if b == 0:
        return 0
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q


def _cmod(a: int, b: int) -> int:
    if b == 0:
        return 0
    return a - b * _cdiv(a, b)


def _udiv(a: int, b: int) -> int:
    """C's unsigned 64-bit ``a / b``, 0 for a zero divisor (libtraceevent's result)."""
    b &= M64
    return (a & M64) // b if b else 0


def _umod(a: int, b: int) -> int:
    """C's unsigned 64-bit ``a % b``, 0 for a zero divisor."""
    b &= M64
    return (a & M64) % b if b else 0


def _perf_eval(node: tuple) -> int:
    """perf's own evaluation of a flag/symbol value for the define_* walk."""
    v = _fold(node)
    if v is not None:
        return v
    return 0


# -- runtime helpers the generated code calls ---------------------------------------------

def _s(v: int, bits: int) -> int:
    v &= (1 << bits) - 1
    return v - (1 << bits) if v >> (bits - 1) else v


def _cstr(raw: bytes, off: int, size: int) -> str:
    b = raw[off:off + size]
    n = b.find(b"\0")
    return (b if n < 0 else b[:n]).decode("utf-8", "surrogateescape")  # the bytes, as the output writes them


def _dloc(raw: bytes, loc: int, base: int) -> tuple[int, int]:
    return (loc & 0xFFFF) + base, loc >> 16


def _getstr(raw: bytes, loc: int, base: int) -> str:
    off, n = _dloc(raw, loc, base)
    b = raw[off:off + n]
    z = b.find(b"\0")
    return (b if z < 0 else b[:z]).decode("utf-8", "surrogateescape")


def _flags(val: int, delim: str, table: list[tuple[Optional[int], str]]) -> str:
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


def _sym(val: int, table: list[tuple[Optional[int], str]]) -> str:
    v64 = val & M64
    for fval, text in table:
        if fval is not None and fval & M64 == v64:
            return text
    return "0x%x" % v64


def _hex(data: bytes, sep: str) -> str:
    return sep.join("%02x" % c for c in data)


def _ip4(b: bytes, padded: bool) -> str:
    if len(b) != 4:
        return "INVALIDIPv4"
    return ("%03d.%03d.%03d.%03d" if padded else "%d.%d.%d.%d") % tuple(b)


def _ip6(b: bytes, colons: bool) -> str:
    if len(b) != 16:
        return "INVALIDIPv6"
    return (":" if colons else "").join("%02x%02x" % (b[i], b[i + 1]) for i in range(0, 16, 2))


def _ip6c(b: bytes) -> str:
    """The kernel's compressed IPv6 text: the longest run of two or more zero words
    (the first of equal runs) as "::", IPv4-mapped and ISATAP addresses ending in
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


def _ipsa(b: bytes, padded: bool, port: bool, compressed: bool) -> str:
    """A struct sockaddr (AF_INET or AF_INET6, else nothing), with ":port" for 'p'."""
    family = b[0] | b[1] << 8 if len(b) >= 2 else 0
    if family == 2:  # AF_INET: family, port (network order), address
        if len(b) < 16:
            return "INVALIDIPv4"
        return _ip4(b[4:8], padded) + (":%d" % (b[2] << 8 | b[3]) if port else "")
    if family == 10:  # AF_INET6: family, port, flowinfo, address
        if len(b) < 28:
            return "INVALIDIPv6"
        addr = _ip6c(b[8:24]) if compressed else _ip6(b[8:24], not padded)
        return "[%s]:%d" % (addr, b[2] << 8 | b[3]) if port else addr
    return ""


def _ptr(v: int) -> str:
    v &= M64
    return "0x%x" % v if v else "(nil)"


class _Renderer:
    """Builds the generated render function for one event."""

    def __init__(self, fmt: EventFormat, ksyms: Any, printk: Optional[dict[int, str]] = None) -> None:
        self.fmt = fmt
        self.ksyms = ksyms
        self.printk = printk or {}
        self.reads: dict[tuple[int, str], str] = {}
        self.read_codes: dict[str, str] = {}
        self.env: dict[str, Any] = {
            "_s": _s, "_cstr": _cstr, "_getstr": _getstr, "_flags": _flags, "_sym": _sym,
            "_hex": _hex, "_ptr": _ptr, "_udiv": _udiv, "_umod": _umod, "M64": M64, "M32": M32,
            "_ksym": self._ksym, "_kstr": self._kstr, "_ip4": _ip4, "_ip6": _ip6, "_ip6c": _ip6c,
            "_ipsa": _ipsa,
            "_dloc": _dloc, "_star": _star, "_array": self._array, "_unpack": struct.unpack_from,
        }
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

    @staticmethod
    def _array(data: bytes, count: int, size: int) -> str:
        if size not in (1, 2, 4, 8):
            return ""
        code = {1: "B", 2: "H", 4: "I", 8: "Q"}[size]
        n = min(count, len(data) // size) if count >= 0 else 0
        vals = struct.unpack_from(f"<{n}{code}", data, 0) if n else ()
        return "{" + ",".join("0x%x" % v for v in vals) + "}"

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

    def scalar(self, f: Field, off: int, size: int, signed: bool) -> str:
        if size not in (1, 2, 4, 8):
            return "0"
        code = {1: "b", 2: "h", 4: "i", 8: "q"}[size]
        return self.read(off, code if signed else code.upper())

    # expression -> (python source, kind) where kind is "int", "str" or "bytes"
    def gen(self, node: tuple) -> tuple[str, str]:
        k = node[0]
        if k == "num":
            return repr(node[1]), "int"
        if k == "str":
            return repr(node[1]), "str"
        if k == "atom":
            return "0", "int"  # unknown identifiers (e.g. vmemmap_base) evaluate to 0
        if k == "field":
            f = node[1]
            if f.is_dynamic or f.is_relative:
                return self.read(f.offset, "I"), "int"
            if f.is_array:
                if f.is_string:
                    return f"_cstr(raw, {f.offset}, {f.size})", "str"
                return f"raw[{f.offset}:{f.offset + f.size}]", "bytes"
            return self.scalar(f, f.offset, f.size, f.signed), "int"
        if k == "index":
            base, idx = node[1], node[2]
            if base[0] != "field":
                raise ParseError("bad index")
            f = base[1]
            elem = f.elem_size or 1
            ival = _fold(idx)
            if ival is not None and not (f.is_dynamic or f.is_relative):
                return self.scalar(f, f.offset + ival * elem, elem, f.signed), "int"
            isrc, _ = self.gen(idx)
            code = {1: "b", 2: "h", 4: "i", 8: "q"}.get(elem, "q")
            code = code if f.signed else code.upper()
            return f"_unpack('<{code}', raw, {f.offset} + ({isrc}) * {elem})[0]", "int"
        if k == "cast":
            src, kind = self.gen(node[2])
            if kind != "int":
                return src, kind
            words = node[1]
            if "*" in words:
                return f"(({src}) & M64)", "int"
            t = " ".join(w for w in words if w not in ("const", "volatile"))
            if t in _CASTS:
                bits, signed = _CASTS[t]
                if signed:
                    return f"_s({src}, {bits})", "int"
                return f"(({src}) & {hex((1 << bits) - 1)})", "int"
            return src, kind
        if k == "un":
            src, kind = self.gen(node[2])
            op = node[1]
            if op == "!":
                return f"(0 if {src} else 1)", "int"
            if op == "~":
                return f"(~({src}) & M64)", "int"
            return f"({op}({src}))", "int"
        if k == "bin":
            op = node[1]
            a, ka = self.gen(node[2])
            b, kb = self.gen(node[3])
            if op == "&&":
                return f"(1 if ({a}) and ({b}) else 0)", "int"
            if op == "||":
                return f"(1 if ({a}) or ({b}) else 0)", "int"
            if op in ("==", "!="):
                if ka == "int" and kb == "int":
                    return f"(1 if (({a}) & M64) {op} (({b}) & M64) else 0)", "int"
                return f"(1 if ({a}) {op} ({b}) else 0)", "int"
            # libtraceevent computes in unsigned long long: a negative difference
            # divides and compares as its 64-bit two's complement
            if op in ("<", ">", "<=", ">="):
                if ka == "int" and kb == "int":
                    return f"(1 if (({a}) & M64) {op} (({b}) & M64) else 0)", "int"
                return f"(1 if ({a}) {op} ({b}) else 0)", "int"
            if op == "/":
                return f"_udiv({a}, {b})", "int"
            if op == "%":
                return f"_umod({a}, {b})", "int"
            if op == "<<":
                return f"((({a}) << (({b}) & 63)) & M64)", "int"
            if op == ">>":
                return f"(({a}) >> (({b}) & 63))", "int"
            return f"(({a}) {op} ({b}))", "int"
        if k == "cond":
            c, _ = self.gen(node[1])
            a, ka = self.gen(node[2])
            b, kb = self.gen(node[3])
            return f"(({a}) if ({c}) else ({b}))", ka if ka == kb else "any"
        if k == "flags":
            v, _ = self.gen(node[1])
            table = self.const([(_fold(e), s) for e, s in node[3]])
            return f"_flags({v}, {node[2]!r}, {table})", "str"
        if k == "sym":
            v, _ = self.gen(node[1])
            table = self.const([(_fold(e), s) for e, s in node[2]])
            return f"_sym({v}, {table})", "str"
        if k == "getstr":
            f = node[1]
            base = f.offset + 4 if f.is_relative else 0
            return f"_getstr(raw, {self.read(f.offset, 'I')}, {base})", "str"
        if k == "dynarr":
            f = node[1]
            base = f.offset + 4 if f.is_relative else 0
            loc = self.read(f.offset, "I")
            return (f"raw[(({loc}) & 0xFFFF) + {base}:(({loc}) & 0xFFFF) + {base} + (({loc}) >> 16)]",
                    "bytes")
        if k == "dynlen":
            return f"({self.read(node[1].offset, 'I')} >> 16)", "int"
        if k in ("hex", "hexstr"):
            buf, kb = self.gen(node[1])
            n, _ = self.gen(node[2])
            if kb != "bytes":
                buf = "b''"
            sep = " " if k == "hex" else ""
            return f"_hex(({buf})[:max(0, {n})], {sep!r})", "str"
        if k == "array":
            buf, kb = self.gen(node[1])
            n, _ = self.gen(node[2])
            size, _ = self.gen(node[3])
            if kb != "bytes":
                buf = "b''"
            return f"_array({buf}, {n}, {size})", "str"
        if k == "bitmask":
            raise ParseError("function __get_bitmask not supported")
        if k == "rec":
            raise ParseError("bad op token REC")
        raise ParseError(f"bad op token {k}")


_SPEC = re.compile(r"%(?P<flags>[-+ #0]*)(?P<width>\*|\d+)?(?:\.(?P<prec>\*|\d+))?"
                   r"(?P<len>hh|h|ll|l|L|z|j|t|q)?(?P<conv>[diouxXcspn%])")


#: a width or precision beyond this, or beyond the payload's size where that is larger,
#: is cut to it: perf prints what the record asks for, and a record (or a byte of its
#: format) asking for a 2^31-character field has it print gigabytes
WIDTH_CAP = 64


def _star(spec: str, width: Optional[int], prec: Optional[int], value: Any, size: int) -> str:
    """``value`` under the printf conversion ``spec`` ("%" flags conv) with a width and
    precision chosen per record (C's rules: a negative width left-justifies, a negative
    precision is none), each cut to the record's bound."""
    cap = max(WIDTH_CAP, size)
    flags = spec[1:-1]
    mid = ""
    if width is not None:
        if width < 0:
            width = -width
            flags = flags if "-" in flags else flags + "-"
        mid = str(min(width, cap))
    if prec is not None and prec >= 0:
        mid += "." + str(min(prec, cap))
    return ("%" + flags + mid + spec[-1]) % (value,)


def _match_args(text: str, nargs: int) -> None:
    """Raise libtraceevent's ParseError where the conversions of ``text`` ask for more than
    its ``nargs`` arguments, or one asks for both a width and a precision argument (perf
    6.1 then fails the event: measured, "no argument match" / "argument already matched")."""
    need = 0
    for m in _SPEC.finditer(text):
        if m.group("conv") == "%":
            continue
        stars = (m.group("width") == "*") + (m.group("prec") == "*")
        if stars == 2:
            raise ParseError("argument already matched")
        need += 1 + stars
        if need > nargs:
            raise ParseError("no argument match")


def perf_warning(fmt: EventFormat) -> Optional[str]:
    """The line perf 6.1 prints on stderr when it reads the event's format, if its print
    fmt fails in a way whose words we know are perf's; else None."""
    try:
        text, args = _Parser(fmt.print_fmt, fmt).top()
        _match_args(text, len(args))
    except ParseError as e:
        msg = str(e)
        if msg in ("no argument match", "argument already matched") or (
                msg.startswith("function ") and msg.endswith(" not defined")):
            return f"  [{fmt.full_name}] {msg}"
    except (ValueError, RecursionError, IndexError):
        pass
    return None


def _count(a: str, kind: str) -> str:
    """A width or precision argument: C's int of a number; what is not a number counts 0
    (a string-valued argument: perf 6.1 prints the field unpadded)."""
    if kind == "int":
        return f"_s({a}, 32)"
    return "0" if kind in ("str", "bytes") else f"(_s({a}, 32) if type({a}) is int else 0)"


def _convert(spec: re.Match, rend: _Renderer, args: list[str], kinds: list[str],
             text: str, pos: int) -> tuple[str, list[str], int]:
    """One printf conversion -> (python spec, the arg expressions it consumes, chars of
    the format consumed after the match for %p extensions); `_match_args` has checked
    that the arguments are there."""
    flags = spec.group("flags") or ""
    width = spec.group("width") or ""
    prec = spec.group("prec")
    wexpr = pexpr = "None"
    if width == "*":
        wexpr = _count(args.pop(0), kinds.pop(0))
    elif width:
        wexpr = str(int(width))
    if prec == "*":
        pexpr = _count(args.pop(0), kinds.pop(0))
    elif prec is not None:
        pexpr = str(int(prec))
    a, kind = args.pop(0), kinds.pop(0)
    static = "*" not in (width, prec) and int(width or 0) <= WIDTH_CAP and int(prec or 0) <= WIDTH_CAP
    head = "%" + flags.replace("#", "")
    if static:
        pyspec, value, extra = _value(spec, rend, flags, head + width + ("" if prec is None else "." + prec),
                                      a, kind, text, pos)
        return pyspec, [value], extra
    pyspec, value, extra = _value(spec, rend, flags, head, a, kind, text, pos)
    return "%s", [f"_star({pyspec!r}, {wexpr}, {pexpr}, {value}, len(raw))"], extra


def _value(spec: re.Match, rend: _Renderer, flags: str, pyspec: str, a: str, kind: str,
           text: str, pos: int) -> tuple[str, str, int]:
    """A conversion's value: (python spec, the expression of ``a`` it formats, chars of
    the format consumed after the match)."""
    length = spec.group("len") or ""
    conv = spec.group("conv")
    wide = length in ("l", "ll", "L", "z", "j", "t", "q")
    bits = 64 if wide else 16 if length == "h" else 8 if length == "hh" else 32
    extra = 0
    read_code = rend.read_codes.get(a)  # a bare field read needs no coercion when it fits
    if conv in "di":
        if read_code is not None and _fits(read_code, bits, True):
            return pyspec + "d", a, 0
        return pyspec + "d", f"_s({a}, {bits})" if kind == "int" else a, 0
    if conv in "uxXo":
        mask = hex((1 << bits) - 1)
        if read_code is not None and _fits(read_code, bits, False):
            v = a
        else:
            v = f"(({a}) & {mask})" if kind == "int" else a
        if "#" in flags and conv in "xXo":
            alt = {"x": "0x", "X": "0X", "o": "0"}[conv]
            return pyspec + "s", f"(({alt!r} + format({v}, {conv!r})) if {v} else '0')", 0
        return pyspec + ("d" if conv == "u" else conv), v, 0
    if conv == "c":
        return pyspec + "s", f"chr(({a}) & 0xff)" if kind == "int" else a, 0
    if conv == "s":
        if read_code in ("q", "Q"):
            # a pointer-sized field: the kernel string it points to, from the recording's
            # printk formats, else the address in hex (libtraceevent's choice)
            return pyspec + "s", f"_kstr({a})", 0
        return pyspec + "s", a if kind == "str" else f"str({a})", 0
    if conv == "p":
        ext = re.match(r"[SsFfBR]|[iI][46]c?|[iI]Sp?c?|[mM]R?|U[bBlL]?|[a-z]+", text[pos:])
        e = ext.group(0) if ext else ""
        if e[:1] in ("S", "s", "F", "f", "B"):
            extra = 1
            return pyspec + "s", f"_ksym({a}, {e[:1] in ('S', 'F', 'B')})", extra
        if e == "i6c" or e.startswith("iS"):
            e = e[:2]  # 'c' and 'p' are I6's and IS's alone: after 'i' they print as text
        if e[:1] in ("i", "I", "M", "m", "U"):
            extra = len(e)
            return pyspec + "s", _fmt_p_ext(e, a, kind), extra
        if e:
            extra = len(e)
        return pyspec + "s", f"_ptr({a})" if kind == "int" else "'(nil)'", extra
    return pyspec + "s", a, 0


_CODE_RANGE = {"b": (8, True), "h": (16, True), "i": (32, True), "q": (64, True),
               "B": (8, False), "H": (16, False), "I": (32, False), "Q": (64, False)}


def _fits(code: str, bits: int, signed: bool) -> bool:
    """Whether every value a struct code reads prints unchanged under a C conversion."""
    cbits, csigned = _CODE_RANGE[code]
    if signed:
        return cbits < bits or (cbits == bits and csigned)
    return not csigned and cbits <= bits


def _fmt_p_ext(e: str, a: str, kind: str) -> str:
    if kind != "bytes":
        return f"_ptr({a})" if kind == "int" else "''"
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


class _Compiled:
    """A compiled print_fmt, for callers that fuse it into a larger format:
    ``pyfmt % tuple(eval(v) for v in values)`` is the rendered text, where the
    values read ``raw`` and the variables in ``struct_reads``."""

    def __init__(self, pyfmt: str, values: list[str], rend: _Renderer) -> None:
        self.pyfmt = pyfmt
        self.values = values
        self.env = rend.env
        self.uses_raw = any("raw" in v for v in values)
        self._reads = rend.reads

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


class PrintFormat:
    """One event's print_fmt, compiled for rendering and walkable for perf's define_* calls."""

    def __init__(self, fmt: EventFormat, ksyms: Any = None, printk: Optional[dict[int, str]] = None) -> None:
        self.fmt = fmt
        self.failed = False
        self.error_lines: list[str] = []
        self.args: list[tuple] = []
        self.format = ""
        self.compiled: Optional[_Compiled] = None
        try:
            self.format, self.args = _Parser(fmt.print_fmt, fmt).top()
            self.render = self._compile(ksyms, printk)
        except (ParseError, ValueError, RecursionError, SyntaxError, IndexError) as e:
            self.failed = True
            self.error_lines = [f"  [{fmt.full_name}] {e}"]
            self.render = self._failed_render

    def marked_fields(self) -> tuple[set[str], set[str]]:
        """The names of the fields libtraceevent marks as flag and as symbolic fields: the
        first ``REC->field`` read after each ``__print_flags(`` / ``__print_symbolic(`` (the
        mark waits for the next field when its first argument has none)."""
        flags: set[str] = set()
        symbols: set[str] = set()
        pending = {"flag": False, "sym": False}

        def visit(node: Any) -> None:
            if isinstance(node, list):
                for c in node:
                    visit(c)
                return
            if not isinstance(node, tuple) or not node:
                return
            if node[0] == "field":
                if pending["flag"]:
                    flags.add(node[1].name)
                    pending["flag"] = False
                elif pending["sym"]:
                    symbols.add(node[1].name)
                    pending["sym"] = False
                return
            if node[0] == "flags":
                pending["flag"] = True
            elif node[0] == "sym":
                pending["sym"] = True
            for child in node[1:]:
                visit(child)
        for a in self.args:
            visit(a)
        return flags, symbols

    def _compile(self, ksyms: Any, printk: Optional[dict[int, str]]) -> Callable[[bytes], str]:
        rend = _Renderer(self.fmt, ksyms, printk)
        srcs, kinds = [], []
        for a in self.args:
            s, k = rend.gen(a)
            srcs.append(s)
            kinds.append(k)
        text = self.format
        _match_args(text, len(srcs))
        out: list[str] = []
        values: list[str] = []
        pos = 0
        while pos < len(text):
            j = text.find("%", pos)
            if j < 0:
                out.append(text[pos:].replace("%", "%%"))
                break
            out.append(text[pos:j])
            m = _SPEC.match(text, j)
            if m is None:
                out.append("%%")
                pos = j + 1
                continue
            if m.group("conv") == "%":
                out.append("%%")
                pos = m.end()
                continue
            pyspec, used, extra = _convert(m, rend, srcs, kinds, text, m.end())
            out.append(pyspec)
            values.extend(used)
            pos = m.end() + extra
        pyfmt = "".join(out)
        self.compiled = _Compiled(pyfmt, values, rend)
        lines = ["def render(raw):"]
        if rend.reads:
            fmt, names, over = self.compiled.struct_reads()
            rend.env["_S"] = struct.Struct(fmt)
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
        rend.env["_short"] = self._failed_render
        exec(compile("\n".join(lines), f"<print_fmt {self.fmt.full_name}>", "exec"), rend.env)
        return rend.env["render"]

    def _failed_render(self, raw: bytes) -> str:
        """perf's fallback for a format it could not parse: every field as name=value."""
        parts = ["[FAILED TO PARSE]"]
        for f in self.fmt.fields:
            parts.append(f" {f.name}={_field_text(f, raw)}")
        return "".join(parts)

    # -- perf's define_* walk -------------------------------------------------------

    _current_field = ""

    def walk_defines(self, flag_field: Callable, flag_value: Callable, symbolic_field: Callable,
                     symbolic_value: Callable, event_name: str) -> None:
        """Call perf's define_* callbacks for this event as perf 6.1 does."""

        class _Stop(Exception):
            pass

        def visit(node: tuple) -> None:
            k = node[0]
            if k == "field":
                PrintFormat._current_field = node[1].name
            elif k == "num":
                flag_value(event_name, PrintFormat._current_field, 0, node[2])
            elif k == "str":
                flag_value(event_name, PrintFormat._current_field, 0, node[1])
            elif k == "atom":
                flag_value(event_name, PrintFormat._current_field, 0, node[1])
            elif k == "flags":
                visit(node[1])
                cur = PrintFormat._current_field
                flag_field(event_name, cur, node[2])
                for e, s in node[3]:
                    flag_value(event_name, cur, _perf_eval(e), s)
            elif k == "sym":
                visit(node[1])
                cur = PrintFormat._current_field
                symbolic_field(event_name, cur)
                for e, s in node[2]:
                    symbolic_value(event_name, cur, _perf_eval(e), s)
            elif k in ("un", "cast"):
                visit(node[2])
            elif k in ("bin",):
                visit(node[2])
                visit(node[3])
            elif k == "index":
                visit(node[1])
                visit(node[2])
            elif k == "cond":
                visit(node[1])
                visit(node[2])
                visit(node[3])
            elif k in ("hex", "hexstr"):
                visit(node[1])
                visit(node[2])
            elif k == "array":
                visit(node[1])
                visit(node[2])
                visit(node[3])
            elif k == "getstr":
                pass
            else:  # dynamic arrays, bitmasks, functions: perf stops the walk here
                raise _Stop

        try:
            for a in self.args:
                visit(a)
        except _Stop:
            pass


def _field_text(f: Field, raw: bytes) -> str:
    """A field's value as perf prints it after [FAILED TO PARSE]."""
    try:
        if f.is_dynamic or f.is_relative:
            loc = struct.unpack_from("<I", raw, f.offset)[0]
            if f.is_string:
                return _getstr(raw, loc, f.offset + 4 if f.is_relative else 0)
            if not f.is_array:
                return str(loc)
            off, n = _dloc(raw, loc, f.offset + 4 if f.is_relative else 0)
            return "ARRAY[" + ", ".join("%02x" % c for c in raw[off:off + n]) + "]"
        if f.is_array:
            if f.is_string:
                return _cstr(raw, f.offset, f.size)
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
