"""print_fmt tokens -> its format string and the typed trees of its arguments, as
libtraceevent (perf 6.1's built-in copy) parses them.

What libtraceevent does that C does not: a parenthesized right operand of lower
precedence is re-associated (``X & (A | B)`` is ``(X & A) | B``), only the calls it
knows are accepted, ``__builtin_expect(x, y)`` is ``x``, and a table entry
``{0, NULL}`` in a table is dropped.  A format nested deeper than this parser (and the Python
it is compiled to) bounds is a `ParseError` too.
"""

from __future__ import annotations

from dataclasses import replace
from typing import NamedTuple, Optional

from scripthost.engine.printfmt.lexer import ParseError, Token, TokenKind, num_value, tokens, unescape
from scripthost.engine.printfmt.nodes import (
    C_TYPES, Atom, Binary, Bitmask, Cast, Cond, DynArray, DynLen, FieldRef, Flags, GetStr, Hex,
    Index, ListExpr, Node, Num, PrintArray, Rec, Str, Symbolic, Table, Unary, depth, fold)
from scripthost.engine.tpformat import EventFormat, Field

__all__ = ["ParsedFormat", "parse", "MAX_NESTING", "MAX_DEPTH"]

#: expressions and unary operands inside one another (a parenthesis counts 2, a prefix
#: operator or cast 1): each count costs the parser about 3 Python frames, so this keeps it
#: well inside the recursion limit; this machine's ~2,300 formats reach 33
MAX_NESTING = 100
#: nodes on one path of an argument's tree: the generated code nests at most 3 brackets per
#: node, and Python's parser takes 200; this machine's formats reach 18
MAX_DEPTH = 60

_TYPE_WORDS = {"unsigned", "signed", "int", "long", "short", "char", "void", "struct", "const",
               "u8", "s8", "u16", "s16", "u32", "s32", "u64", "s64", "__u8", "__u16", "__u32",
               "__u64", "__s8", "__s16", "__s32", "__s64", "bool", "size_t", "ssize_t", "pid_t",
               "gfp_t", "uint", "ulong", "enum", "union", "volatile"}
_FIELD_CALLS = {"__get_str": GetStr, "__get_rel_str": GetStr,
                "__get_dynamic_array": DynArray, "__get_rel_dynamic_array": DynArray,
                "__get_dynamic_array_len": DynLen, "__get_rel_dynamic_array_len": DynLen,
                "__get_bitmask": Bitmask, "__get_rel_bitmask": Bitmask}
_KNOWN_FUNCS = {"__print_flags", "__print_symbolic", "__print_flags_u64", "__print_symbolic_u64",
                "__print_hex", "__print_hex_str", "__print_array", "__builtin_expect",
                *_FIELD_CALLS}

_BINARY = [["||"], ["&&"], ["|"], ["^"], ["&"], ["==", "!="], ["<", ">", "<=", ">="],
           ["<<", ">>"], ["+", "-"], ["*", "/", "%"]]
_PRIO = {op: level for level, ops in enumerate(_BINARY) for op in ops}
_PREFIX = ("-", "!", "~", "+")


class ParsedFormat(NamedTuple):
    """A print_fmt: its format string (literals joined) and its arguments."""
    text: str
    args: tuple[Node, ...]


def parse(print_fmt: str, fmt: EventFormat) -> ParsedFormat:
    """Parse ``print_fmt`` against the fields of ``fmt``; raises ParseError where
    libtraceevent fails (or the format is nested past MAX_NESTING / MAX_DEPTH)."""
    return _Parser(print_fmt, fmt).top()


def _rotate(op: str, left: Node, right: Node) -> Node:
    """``left op (right)`` as libtraceevent builds it: each lower-precedence operator at the
    head of ``right`` (down its left operands, through a ternary's condition) takes
    ``left op`` in as its own left operand.  A loop: ``right`` may be a long chain."""
    spine: list[Node] = []
    while True:
        match right:
            case Binary(rop, rleft, _) if _PRIO[rop] < _PRIO[op]:
                spine.append(right)
                right = rleft
            case Cond(cond, _, _):
                spine.append(right)
                right = cond
            case _:
                break
    node: Node = Binary(op, left, right)
    for head in reversed(spine):
        node = Binary(head.op, node, head.right) if isinstance(head, Binary) else Cond(node, head.then, head.other)
    return node


class _Parser:
    def __init__(self, text: str, fmt: EventFormat) -> None:
        self.toks = tokens(text)
        self.i = 0
        self.fmt = fmt
        self.nesting = 0

    def peek(self) -> Token:
        return self.toks[self.i] if self.i < len(self.toks) else self.toks[-1]

    def next(self) -> Token:
        if self.i >= len(self.toks):
            raise ParseError("unexpected end of format")
        t = self.toks[self.i]
        self.i += 1
        return t

    def expect(self, value: str) -> None:
        t = self.next()
        if t.text != value:
            raise ParseError(f"expected {value!r}, got {t.text!r}")

    def enter(self) -> None:
        self.nesting += 1
        if self.nesting > MAX_NESTING:
            raise ParseError("expression nested too deeply")

    def top(self) -> ParsedFormat:
        t = self.next()
        if t.kind is not TokenKind.STR:
            raise ParseError("print fmt does not start with a string")
        text = unescape(t.text)
        while self.peek().kind is TokenKind.STR:
            text += unescape(self.next().text)
        args = []
        while self.peek().text == ",":
            self.next()
            arg = self.expr()
            if depth(arg) > MAX_DEPTH:
                raise ParseError("expression nested too deeply")
            args.append(arg)
        if self.peek().kind is not TokenKind.EOF:
            raise ParseError(f"bad op token {self.peek().text}")
        return ParsedFormat(text, tuple(args))

    def expr(self) -> Node:
        self.enter()
        cond = self.binary(0)
        if self.peek().text == "?":
            self.next()
            a = self.expr()
            self.expect(":")
            b = self.expr()
            cond = Cond(cond, a, b)
        self.nesting -= 1
        return cond

    def binary(self, level: int) -> Node:
        """The operators of precedence ``level`` and above, left-associative (precedence
        climbing: the tree recursive descent by level would build)."""
        left = self.unary()
        while True:
            t = self.peek()
            prio = _PRIO.get(t.text) if t.kind is TokenKind.OP else None
            if prio is None or prio < level:
                return left
            self.next()
            right = self.binary(prio + 1)
            left = _rotate(t.text, left, right) if right.paren else Binary(t.text, left, right)

    def _cast_ahead(self) -> Optional[int]:
        """If a cast starts here (at '('), the index of its ')'."""
        j = self.i + 1
        words = []
        while self.toks[j].kind is TokenKind.ID or self.toks[j].text == "*":
            words.append(self.toks[j].text)
            j += 1
        if self.toks[j].text != ")" or not words:
            return None
        ids = [w for w in words if w != "*"]
        if not ids:
            return None
        if ids[0] in _TYPE_WORDS or "*" in words or len(ids) > 1 or ids[0].endswith("_t"):
            nxt = self.toks[j + 1]
            if nxt.kind in (TokenKind.ID, TokenKind.NUM, TokenKind.STR) or nxt.text in ("(", *_PREFIX):
                return j
        return None

    def unary(self) -> Node:
        self.enter()
        node = self._unary()
        self.nesting -= 1
        return node

    def _unary(self) -> Node:
        t = self.peek()
        if t.kind is TokenKind.OP and t.text in _PREFIX:
            self.next()
            return Unary(t.text, self.unary())
        if t.kind is TokenKind.OP and t.text == "(":
            end = self._cast_ahead()
            if end is not None:
                words = tuple(tok.text for tok in self.toks[self.i + 1:end])
                self.i = end + 1
                return Cast(words, self.unary())
        if t.kind is TokenKind.ID and t.text == "sizeof":
            self.next()
            self.expect("(")
            words = []
            while self.peek().text != ")":
                if self.peek().kind is TokenKind.EOF:
                    raise ParseError("unexpected end of format in sizeof")
                words.append(self.next().text)
            self.next()
            ident = " ".join(w for w in words if w != "*")
            size = 8 if "*" in words else C_TYPES.get(ident, (64, False))[0] // 8
            return Num(size, str(size))
        return self.postfix()

    def postfix(self) -> Node:
        node = self.primary()
        while True:
            op = self.peek().text
            if op == "[":
                self.next()
                idx = self.expr()
                self.expect("]")
                node = Index(node, idx)
            elif op in ("->", "."):
                self.next()
                t = self.next()
                if t.kind is not TokenKind.ID:
                    raise ParseError("bad field name")
                if not isinstance(node, Rec):
                    raise ParseError(f"bad op token {op}")
                f = self.fmt.field(t.text)
                if f is None:
                    raise ParseError(f"field {t.text} not found")
                node = FieldRef(f)
            else:
                return node

    def primary(self) -> Node:
        t = self.next()
        if t.kind is TokenKind.NUM:
            return Num(num_value(t.text), t.text)
        if t.kind is TokenKind.STR:
            s = unescape(t.text)
            while self.peek().kind is TokenKind.STR:
                s += unescape(self.next().text)
            return Str(s)
        if t.kind is TokenKind.ID:
            if t.text == "REC":
                return Rec()
            if self.peek().text == "(":
                return self.call(t.text)
            return Atom(t.text)
        if t.text == "(":
            e = self.expr()
            self.expect(")")
            return replace(e, paren=True)
        if t.text == "{":
            items = [self.expr()]
            while self.peek().text == ",":
                self.next()
                items.append(self.expr())
            self.expect("}")
            return ListExpr(tuple(items))
        raise ParseError(f"bad op token {t.text}")

    def call(self, name: str) -> Node:
        self.expect("(")
        args = []
        if self.peek().text != ")":
            args.append(self.expr())
            while self.peek().text == ",":
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
            if len(args) < 2 or not isinstance(args[1], Str):
                raise ParseError("bad __print_flags")
            return Flags(args[0], args[1].text, self._table(args[2:]))
        if name in ("__print_symbolic", "__print_symbolic_u64"):
            if not args:
                raise ParseError(f"bad {name}")
            return Symbolic(args[0], self._table(args[1:]))
        if name in _FIELD_CALLS:
            if len(args) != 1:
                raise ParseError(f"bad {name}")
            return _FIELD_CALLS[name](self._dyn_field(args[0]))
        if name in ("__print_hex", "__print_hex_str"):
            if len(args) != 2:
                raise ParseError(f"bad {name}")
            return Hex(args[0], args[1], spaced=not name.endswith("_str"))
        if len(args) != 3:
            raise ParseError("bad __print_array")
        return PrintArray(args[0], args[1], args[2])

    def _dyn_field(self, node: Node) -> Field:
        if isinstance(node, FieldRef):
            return node.field
        if isinstance(node, Atom):
            f = self.fmt.field(node.name)
            if f is not None:
                return f
        raise ParseError("bad dynamic field")

    @staticmethod
    def _table(entries: list[Node]) -> Table:
        """The ``{value, "name"}`` entries of a flag or symbol table, without the
        ``{0, NULL}`` sentinel some formats end with."""
        table = []
        for node in entries:
            if not isinstance(node, ListExpr) or len(node.items) != 2:
                raise ParseError("bad flag entry")
            value, name = node.items
            if not isinstance(name, Str):
                if fold(name) == 0:
                    continue
                raise ParseError("bad flag entry")
            table.append((value, name.text))
        return tuple(table)
