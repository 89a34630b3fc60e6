"""The typed syntax tree of a print_fmt argument, and the walks every user shares.

Each C construct libtraceevent understands in a print_fmt argument is one frozen
dataclass; the calls it knows (``__print_flags``, ``__get_str``, ...) are nodes of
their own.  A parenthesized expression is the same node with ``paren`` set: the
grouping changes nothing but the parser's re-association (see parser.py).

Walkers dispatch with ``match`` on the node's class and raise `UnknownNode` on a
class they do not handle, so a node added here without its walkers fails loudly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional, Union

from scripthost.engine.tpformat import Field

__all__ = ["Node", "Num", "Str", "Atom", "Rec", "FieldRef", "Index", "Cast", "Unary", "Binary",
           "Cond", "ListExpr", "Flags", "Symbolic", "GetStr", "DynArray", "DynLen", "Bitmask",
           "Hex", "PrintArray", "NODE_TYPES", "UnknownNode", "children", "depth", "fold",
           "KNOWN_NAMES", "C_TYPES", "M64", "M32"]

M64 = (1 << 64) - 1
M32 = (1 << 32) - 1

#: the only symbolic names libtraceevent/perf know (softirq vectors, hrtimer restart)
KNOWN_NAMES = {"HI": 0, "TIMER": 1, "NET_TX": 2, "NET_RX": 3, "BLOCK": 4, "IRQ_POLL": 5,
               "TASKLET": 6, "SCHED": 7, "HRTIMER": 8, "RCU_SOFTIRQ": 9,
               "HRTIMER_NORESTART": 0, "HRTIMER_RESTART": 1}

#: the integer types a cast or ``sizeof`` names: (bits, signed); pointers are 64-bit unsigned
C_TYPES = {"char": (8, True), "signed char": (8, True), "unsigned char": (8, False),
           "short": (16, True), "unsigned short": (16, False), "int": (32, True),
           "unsigned int": (32, False), "unsigned": (32, False), "long": (64, True),
           "unsigned long": (64, False), "long long": (64, True), "unsigned long long": (64, False),
           "u8": (8, False), "s8": (8, True), "u16": (16, False), "s16": (16, True),
           "u32": (32, False), "s32": (32, True), "u64": (64, False), "s64": (64, True),
           "__u8": (8, False), "__u16": (16, False), "__u32": (32, False), "__u64": (64, False),
           "__s8": (8, True), "__s16": (16, True), "__s32": (32, True), "__s64": (64, True),
           "bool": (8, False), "size_t": (64, False), "ssize_t": (64, True), "pid_t": (32, True)}


class UnknownNode(TypeError):
    """A walker met a node class it does not handle: a bug in this package, never input."""

    def __init__(self, walker: str, node: object) -> None:
        super().__init__(f"{walker}: no case for {type(node).__name__} node {node!r}")


@dataclass(frozen=True, slots=True)
class _Base:
    #: written inside parentheses
    paren: bool = field(default=False, kw_only=True)


@dataclass(frozen=True, slots=True)
class Num(_Base):
    """An integer literal (or a folded ``sizeof``): its value and its text as written."""
    value: int
    text: str


@dataclass(frozen=True, slots=True)
class Str(_Base):
    """A string literal, adjacent literals joined, escapes resolved."""
    text: str


@dataclass(frozen=True, slots=True)
class Atom(_Base):
    """A bare identifier that is not a call: an enum name, a kernel variable."""
    name: str


@dataclass(frozen=True, slots=True)
class Rec(_Base):
    """``REC``, the record: only ``REC->field`` has a value."""


@dataclass(frozen=True, slots=True)
class FieldRef(_Base):
    """``REC->field``."""
    field: Field


@dataclass(frozen=True, slots=True)
class Index(_Base):
    """``base[index]``."""
    base: Node
    index: Node


@dataclass(frozen=True, slots=True)
class Cast(_Base):
    """``(type words) operand``; the words as written, ``*`` among them for a pointer."""
    words: tuple[str, ...]
    operand: Node


@dataclass(frozen=True, slots=True)
class Unary(_Base):
    """A prefix operator: ``-``, ``+``, ``!`` or ``~``."""
    op: str
    operand: Node


@dataclass(frozen=True, slots=True)
class Binary(_Base):
    """A binary operator, by its C token."""
    op: str
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Cond(_Base):
    """``cond ? then : other``."""
    cond: Node
    then: Node
    other: Node


@dataclass(frozen=True, slots=True)
class ListExpr(_Base):
    """A brace list ``{a, b, ...}``: only flag and symbol table entries use one."""
    items: tuple[Node, ...]


#: a flag or symbol table: (value expression, name) per entry, ``{0, NULL}`` sentinels left out
Table = tuple[tuple["Node", str], ...]


@dataclass(frozen=True, slots=True)
class Flags(_Base):
    """``__print_flags(value, delim, {v, "name"}, ...)`` (and its _u64 form)."""
    value: Node
    delim: str
    table: Table


@dataclass(frozen=True, slots=True)
class Symbolic(_Base):
    """``__print_symbolic(value, {v, "name"}, ...)`` (and its _u64 form)."""
    value: Node
    table: Table


@dataclass(frozen=True, slots=True)
class GetStr(_Base):
    """``__get_str(field)`` / ``__get_rel_str(field)``."""
    field: Field


@dataclass(frozen=True, slots=True)
class DynArray(_Base):
    """``__get_dynamic_array(field)`` / ``__get_rel_dynamic_array(field)``: its bytes."""
    field: Field


@dataclass(frozen=True, slots=True)
class DynLen(_Base):
    """``__get_dynamic_array_len(field)`` (and its rel form)."""
    field: Field


@dataclass(frozen=True, slots=True)
class Bitmask(_Base):
    """``__get_bitmask(field)`` (and its rel form)."""
    field: Field


@dataclass(frozen=True, slots=True)
class Hex(_Base):
    """``__print_hex(buf, len)`` (bytes joined by spaces) / ``__print_hex_str`` (not)."""
    buf: Node
    length: Node
    spaced: bool


@dataclass(frozen=True, slots=True)
class PrintArray(_Base):
    """``__print_array(buf, count, elem_size)``."""
    buf: Node
    count: Node
    size: Node


Node = Union[Num, Str, Atom, Rec, FieldRef, Index, Cast, Unary, Binary, Cond, ListExpr, Flags,
             Symbolic, GetStr, DynArray, DynLen, Bitmask, Hex, PrintArray]
NODE_TYPES: tuple[type, ...] = Node.__args__  # type: ignore[attr-defined]


def children(node: Node) -> tuple[Node, ...]:
    """A node's child nodes in source order, flag and symbol table entries included."""
    match node:
        case Num() | Str() | Atom() | Rec() | FieldRef() | GetStr() | DynArray() | DynLen() | Bitmask():
            return ()
        case Index(base, index):
            return base, index
        case Cast(_, operand) | Unary(_, operand):
            return (operand,)
        case Binary(_, left, right):
            return left, right
        case Cond(cond, then, other):
            return cond, then, other
        case ListExpr(items):
            return items
        case Flags(value, _, table) | Symbolic(value, table):
            return (value, *(e for e, _ in table))
        case Hex(buf, length, _):
            return buf, length
        case PrintArray(buf, count, size):
            return buf, count, size
    raise UnknownNode("children", node)


def depth(node: Node) -> int:
    """The number of nodes on the longest path down from ``node`` (without recursion: a
    long ``a + b + c ...`` chain is as deep as it is long)."""
    most = 0
    stack = [(node, 1)]
    while stack:
        n, d = stack.pop()
        most = max(most, d)
        stack.extend((c, d + 1) for c in children(n))
    return most


def fold(node: Node) -> Optional[int]:
    """The constant value of a flag table entry, or None where it is not a constant
    (an unknown symbol, a field); C's division by zero folds to 0."""
    match node:
        case Num(value):
            return value
        case Atom(name):
            return KNOWN_NAMES.get(name)
        case Cast(_, operand):
            return fold(operand)
        case Unary(op, operand):
            v = fold(operand)
            if v is None:
                return None
            return {"-": -v, "!": int(not v), "~": ~v & M64, "+": v}[op]
        case Binary(op, left, right):
            a, b = fold(left), fold(right)
            if a is None or b is None:
                return None
            return _binop(op, a, b) & M64
        case (Str() | Rec() | FieldRef() | Index() | Cond() | ListExpr() | Flags() | Symbolic()
              | GetStr() | DynArray() | DynLen() | Bitmask() | Hex() | PrintArray()):
            return None
    raise UnknownNode("fold", node)


def _binop(op: str, a: int, b: int) -> int:
    """C's ``a op b`` on signed values as libtraceevent folds a table entry."""
    match op:
        case "+":
            return a + b
        case "-":
            return a - b
        case "*":
            return a * b
        case "/":
            return _cdiv(a, b)
        case "%":
            return a - b * _cdiv(a, b) if b else 0
        case "<<":
            return (a << (b & 63)) & M64
        case ">>":
            return (a & M64) >> (b & 63) if a >= 0 else a >> (b & 63)
        case "&":
            return a & b
        case "|":
            return a | b
        case "^":
            return a ^ b
        case "==":
            return int(a & M64 == b & M64)
        case "!=":
            return int(a & M64 != b & M64)
        case "<":
            return int(a < b)
        case ">":
            return int(a > b)
        case "<=":
            return int(a <= b)
        case ">=":
            return int(a >= b)
        case "&&":
            return int(bool(a) and bool(b))
        case "||":
            return int(bool(a) or bool(b))
    raise ValueError(f"no binary operator {op!r}")  # the parser makes only the ops above


def _cdiv(a: int, b: int) -> int:
    if b == 0:
        return 0
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q
