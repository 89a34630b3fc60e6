"""perf 6.1's walks over a parsed print_fmt's arguments: the define_* calls its Python
and Perl engines make before a script's first event of a type, and the flag/symbolic
fields libtraceevent marks (which ``-g`` skeletons print through flag_str/symbol_str).

perf keeps the name of the last field the define_* walk passed in one process-wide
variable (``cur_field_name``), never reset: a constant met before any field of an event
is defined under the previous event's last field.  A `DefineWalk` holds that name for
one script session.
"""

from __future__ import annotations

from typing import Callable, NamedTuple, Sequence

from scripthost.engine.printfmt.nodes import (
    Atom, Binary, Bitmask, Cast, Cond, DynArray, DynLen, FieldRef, Flags, GetStr, Hex, Index,
    ListExpr, Node, Num, PrintArray, Rec, Str, Symbolic, Unary, UnknownNode, children, fold)

__all__ = ["DefineCalls", "DefineWalk", "marked_fields"]


class DefineCalls(NamedTuple):
    """A script's define_* functions, each called as perf calls it."""
    flag_field: Callable[[str, str, str], None]  # (event, field, delimiter)
    flag_value: Callable[[str, str, int, str], None]  # (event, field, value, name)
    symbolic_field: Callable[[str, str], None]  # (event, field)
    symbolic_value: Callable[[str, str, int, str], None]  # (event, field, value, name)


class _Stop(Exception):
    """perf's walk ends at a node it has no case for (dynamic arrays, bitmasks, REC)."""


class DefineWalk:
    """perf's define_event_symbols, with the field name it carries from event to event."""

    def __init__(self) -> None:
        self.field = ""

    def walk(self, args: Sequence[Node], event_name: str, calls: DefineCalls) -> None:
        """Make perf's define_* calls for one event's print_fmt arguments."""
        try:
            for a in args:
                self._visit(a, event_name, calls)
        except _Stop:
            pass

    def _visit(self, node: Node, ev: str, calls: DefineCalls) -> None:
        match node:
            case FieldRef(f):
                self.field = f.name
            case Num(_, text):
                calls.flag_value(ev, self.field, 0, text)
            case Str(text):
                calls.flag_value(ev, self.field, 0, text)
            case Atom(name):
                calls.flag_value(ev, self.field, 0, name)
            case Flags(value, delim, table):
                self._visit(value, ev, calls)
                calls.flag_field(ev, self.field, delim)
                for e, s in table:
                    calls.flag_value(ev, self.field, fold(e) or 0, s)
            case Symbolic(value, table):
                self._visit(value, ev, calls)
                calls.symbolic_field(ev, self.field)
                for e, s in table:
                    calls.symbolic_value(ev, self.field, fold(e) or 0, s)
            case Unary() | Cast() | Binary() | Index() | Cond() | Hex() | PrintArray():
                for c in children(node):
                    self._visit(c, ev, calls)
            case GetStr():
                pass
            case DynArray() | DynLen() | Bitmask() | Rec() | ListExpr():
                raise _Stop
            case _:
                raise UnknownNode("DefineWalk", node)


def marked_fields(args: Sequence[Node]) -> tuple[set[str], set[str]]:
    """The names of the fields libtraceevent marks as flag and as symbolic fields: the
    first ``REC->field`` read after each ``__print_flags(`` / ``__print_symbolic(`` (the
    mark waits for the next field when its first argument has none; a flag mark goes
    first where both wait); table entries are not read."""
    flags: set[str] = set()
    symbols: set[str] = set()
    waiting = {Flags: False, Symbolic: False}

    def visit(node: Node) -> None:
        match node:
            case FieldRef(f):
                if waiting[Flags]:
                    flags.add(f.name)
                    waiting[Flags] = False
                elif waiting[Symbolic]:
                    symbols.add(f.name)
                    waiting[Symbolic] = False
            case Flags(value, _, _) | Symbolic(value, _):
                waiting[type(node)] = True
                visit(value)
            case (Num() | Str() | Atom() | Rec() | GetStr() | DynArray() | DynLen() | Bitmask()
                  | Index() | Cast() | Unary() | Binary() | Cond() | ListExpr() | Hex() | PrintArray()):
                for c in children(node):
                    visit(c)
            case _:
                raise UnknownNode("marked_fields", node)
    for a in args:
        visit(a)
    return flags, symbols
