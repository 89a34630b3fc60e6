"""Unit tests of scripthost/engine/printfmt/ (no perf, root or tracefs): the lexer, the
parser on the shapes of real kernel formats that libtraceevent treats specially, every
walker on every node class, the compiler's output on a few records, and that only parse
failures become "[FAILED TO PARSE]"."""

from __future__ import annotations

import dataclasses
import struct

import pytest

from scripthost.engine.printfmt import DefineCalls, DefineWalk, ParseError, PrintFormat, perf_warning
from scripthost.engine.printfmt import compiler, nodes
from scripthost.engine.printfmt.defines import marked_fields
from scripthost.engine.printfmt.lexer import Token, TokenKind, num_value, tokens
from scripthost.engine.printfmt.nodes import (
    Atom, Binary, Cast, Cond, FieldRef, Flags, Num, Str, Symbolic, Unary, UnknownNode, fold)
from scripthost.engine.printfmt.parser import MAX_DEPTH, MAX_NESTING, parse
from scripthost.engine.tpformat import EventFormat, parse_format

FIELDS = """\
\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;
\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;
\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;
\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;

\tfield:int a;\toffset:8;\tsize:4;\tsigned:1;
\tfield:unsigned int c;\toffset:12;\tsize:4;\tsigned:0;
\tfield:unsigned long b;\toffset:16;\tsize:8;\tsigned:0;
\tfield:__data_loc char[] s;\toffset:24;\tsize:4;\tsigned:0;
\tfield:__u8 addr[4];\toffset:28;\tsize:4;\tsigned:0;
"""


def event(print_fmt: str, name: str = "ev") -> EventFormat:
    return parse_format(f"name: {name}\nID: 1\nformat:\n{FIELDS}\nprint fmt: {print_fmt}\n", "test")


def record(a: int = 0, c: int = 0, b: int = 0, s: bytes = b"", addr: bytes = bytes(4)) -> bytes:
    head = struct.pack("<HBBiiIQ", 1, 0, 0, 42, a, c, b)
    return head + struct.pack("<I", len(s) << 16 | 32) + addr + s


def args(print_fmt: str) -> tuple:
    ev = event(print_fmt)
    return parse(ev.print_fmt, ev).args


def ref(name: str) -> FieldRef:
    f = event('""').field(name)
    assert f is not None
    return FieldRef(f)


# -- lexer ---------------------------------------------------------------------------

def test_tokens_of_literals_identifiers_and_operators() -> None:
    assert tokens('"a\\"b" "c", REC->x >= 0x1fUL') == [
        Token(TokenKind.STR, '"a\\"b"'), Token(TokenKind.STR, '"c"'), Token(TokenKind.OP, ","),
        Token(TokenKind.ID, "REC"), Token(TokenKind.OP, "->"), Token(TokenKind.ID, "x"),
        Token(TokenKind.OP, ">="), Token(TokenKind.NUM, "0x1fUL"), Token(TokenKind.EOF, "")]


def test_numbers_hex_octal_decimal_suffixes() -> None:
    assert [num_value(t) for t in ("0x10", "010", "10", "1UL", "0")] == [16, 8, 10, 1, 0]
    with pytest.raises(ParseError):
        num_value("08")


def test_a_character_outside_c_is_a_parse_error() -> None:
    with pytest.raises(ParseError, match="bad token"):
        tokens('"x", REC->a @ 1')


# -- parser: libtraceevent's shapes ---------------------------------------------------

def test_adjacent_string_literals_join() -> None:
    ev = event('"a=%d " "b=%d", REC->a, REC->b')
    assert parse(ev.print_fmt, ev).text == "a=%d b=%d"


def test_a_parenthesized_lower_precedence_right_operand_is_reassociated() -> None:
    # block_rq_*'s shape: X & (A | B) is (X & A) | B in libtraceevent
    (node,) = args('"%d", REC->a & (REC->b | REC->c)')
    assert node == Binary("|", Binary("&", ref("a"), ref("b")), ref("c"))
    (node,) = args('"%d", REC->a & REC->b | REC->c')
    assert node == Binary("|", Binary("&", ref("a"), ref("b")), ref("c"))
    (node,) = args('"%d", REC->a + (REC->b ? 1 : 2)')  # through a ternary's condition
    assert node == Cond(Binary("+", ref("a"), ref("b")), Num(1, "1"), Num(2, "2"))


def test_a_higher_precedence_parenthesized_operand_stays() -> None:
    # sched_switch's prev_state & (((...) + 1) << 1)
    (node,) = args('"%d", REC->a & ((REC->b + 1) << 1)')
    assert node == Binary("&", ref("a"), Binary("<<", Binary("+", ref("b"), Num(1, "1"), paren=True),
                                                 Num(1, "1"), paren=True))


def test_casts_against_parenthesized_names() -> None:
    (a, b, c, d) = args('"%d %d %d %d", (unsigned long)REC->a, (REC->a), ( gfp_t)0, (foo) - 1')
    assert a == Cast(("unsigned", "long"), ref("a"))
    assert b == dataclasses.replace(ref("a"), paren=True)
    assert c == Cast(("gfp_t",), Num(0, "0"))
    assert d == Binary("-", Atom("foo", paren=True), Num(1, "1"))


def test_sizeof_folds_to_the_type_size() -> None:
    assert args('"%d %d %d", sizeof(u64), sizeof(void *), sizeof(int)') == (
        Num(8, "8"), Num(8, "8"), Num(4, "4"))


def test_builtin_expect_is_its_first_argument() -> None:
    # vm_unmapped_area's shape
    (node,) = args('"%d", __builtin_expect(!!((unsigned long)(void *)(REC->b) >= (unsigned long)-4095), 0)'
                   ' ? 0 : REC->b')
    assert isinstance(node, Cond) and node.cond == Unary("!", Unary("!", Binary(
        ">=", Cast(("unsigned", "long"), Cast(("void", "*"), dataclasses.replace(ref("b"), paren=True))),
        Cast(("unsigned", "long"), Unary("-", Num(4095, "4095"))), paren=True)))


def test_a_null_table_entry_is_dropped_and_softirq_names_fold() -> None:
    (node,) = args('"%s", __print_symbolic(REC->a, { NET_RX, "NET_RX" }, { 1, "one" }, { 0, ((void *)0) })')
    assert node == Symbolic(ref("a"), ((Atom("NET_RX"), "NET_RX"), (Num(1, "1"), "one")))
    assert fold(node.table[0][0]) == 3


@pytest.mark.parametrize("print_fmt,error", [
    ('"%d", foo(REC->a)', "function foo not defined"),
    ('"%d", REC->nope', "field nope not found"),
    ('"%d", sizeof(int', "sizeof"),
    ('"%s", __print_symbolic()', "bad __print_symbolic"),
    ('"%s", __print_flags(REC->a, 1)', "bad __print_flags"),
    ('"%d", REC->a, ', "bad op token"),
    ('"%d", 08', "bad number"),
    ("REC->a", "does not start with a string"),
])
def test_parse_failures(print_fmt: str, error: str) -> None:
    ev = event(print_fmt)
    with pytest.raises(ParseError, match=error):
        parse(ev.print_fmt, ev)
    assert PrintFormat(ev).failed


def test_perf_warning_only_for_perfs_words() -> None:
    assert perf_warning(event('"%d", foo(REC->a)')) == "  [test:ev] function foo not defined"
    assert perf_warning(event('"%d %d", REC->a')) == "  [test:ev] no argument match"
    assert perf_warning(event('"%*.*d", 1, 2, REC->a')) == "  [test:ev] argument already matched"
    assert perf_warning(event('"%d", REC->nope')) is None
    assert perf_warning(event('"%d", REC->a')) is None


def test_nesting_and_depth_are_bounded() -> None:
    deep = "(" * (MAX_NESTING // 2 + 1) + "REC->a" + ")" * (MAX_NESTING // 2 + 1)
    with pytest.raises(ParseError, match="nested too deeply"):
        args(f'"%d", {deep}')
    # the deepest code per node: a comparison; MAX_DEPTH of them still compiles and renders
    chain = " == ".join(["REC->a"] * MAX_DEPTH)
    pf = PrintFormat(event(f'"%d", {chain}'))
    assert not pf.failed and pf.render(record(a=1)) == "1"
    pf = PrintFormat(event(f'"%d", {chain} == REC->a'))
    assert pf.failed and pf.render(record()).startswith("[FAILED TO PARSE]")


# -- walkers: every node class has a case, a foreign one fails loudly ----------------

def one_of_each() -> list:
    s = event('""').field("s")
    a, one = ref("a"), Num(1, "1")
    return [one, Str("x"), Atom("TIMER"), nodes.Rec(), a, nodes.Index(a, one), Cast(("int",), a),
            Unary("-", a), Binary("+", a, one), Cond(a, one, one), nodes.ListExpr((one, Str("x"))),
            Flags(a, "|", ((one, "x"),)), Symbolic(a, ((one, "x"),)), nodes.GetStr(s), nodes.DynArray(s),
            nodes.DynLen(s), nodes.Bitmask(s), nodes.Hex(a, one, True), nodes.PrintArray(a, one, one)]


def test_one_of_each_covers_every_node_class() -> None:
    assert {type(n) for n in one_of_each()} == set(nodes.NODE_TYPES)


def walkers() -> dict:
    calls = DefineCalls(*([lambda *a: None] * 4))
    cg = compiler._Codegen(None, {})

    def gen(n: nodes.Node) -> None:
        try:
            cg.gen(n)
        except ParseError:  # what libtraceevent rejects (REC alone, a list, __get_bitmask)
            pass
    return {"children": nodes.children, "depth": nodes.depth, "fold": fold, "gen": gen,
            "marked_fields": lambda n: marked_fields([n]),
            "define walk": lambda n: DefineWalk().walk([n], "ev", calls)}


@pytest.mark.parametrize("walker", list(walkers()))
def test_every_walker_handles_every_node(walker: str) -> None:
    walk = walkers()[walker]
    for n in one_of_each():
        walk(n)

    @dataclasses.dataclass(frozen=True)
    class Foreign:
        paren: bool = False
    with pytest.raises(UnknownNode):
        walk(Foreign())


# -- compiler and the walks' results -------------------------------------------------

def test_renders_flags_symbols_strings_and_addresses() -> None:
    pf = PrintFormat(event('"a=%d c=0x%x s=%s ip=%pI4 st=%s sym=%s", REC->a, REC->c, __get_str(s), '
                           'REC->addr, REC->c ? __print_flags(REC->c, "|", {1, "A"}, {4, "C"}) : "R", '
                           '__print_symbolic(REC->a, {-1, "minus"}, {2, "two"})'))
    raw = record(a=-1, c=5, s=b"hey\0", addr=bytes([10, 0, 0, 1]))
    assert pf.render(raw) == "a=-1 c=0x5 s=hey ip=10.0.0.1 st=A|C sym=minus"
    assert pf.render(record(a=2, c=0)) == "a=2 c=0x0 s= ip=0.0.0.0 st=R sym=two"


def test_a_short_record_renders_perfs_field_list() -> None:
    pf = PrintFormat(event('"a=%d b=%lu", REC->a, REC->b'))
    assert pf.render(record(a=3)[:12]) == "[FAILED TO PARSE] a=3 c= b= s= addr=ARRAY[]"


def test_our_own_bug_raises_instead_of_failing_to_parse(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(self: object, node: object) -> None:
        raise KeyError("a bug")
    monkeypatch.setattr(compiler._Codegen, "gen", broken)
    with pytest.raises(KeyError):
        PrintFormat(event('"%d", REC->a'))


def test_define_walk_carries_the_field_between_events_as_perf_does() -> None:
    log: list[tuple] = []
    calls = DefineCalls(*[(lambda *a, k=k: log.append((k, *a))) for k in ("ff", "fv", "sf", "sv")])
    walk = DefineWalk()
    walk.walk(PrintFormat(event('"%s", __print_flags(REC->c, "|", {1, "A"})')).args, "one", calls)
    walk.walk(PrintFormat(event('"%d %d", 5, REC->a')).args, "two", calls)
    assert log == [("ff", "one", "c", "|"), ("fv", "one", "c", 1, "A"), ("fv", "two", "c", 0, "5")]


def test_marked_fields_and_no_mutation_of_fields() -> None:
    ev = event('"%s %s %d %d", __print_symbolic(__print_flags(__get_str(s), "|", {1, "A"}), {1, "B"}), '
               '__print_flags(REC->c, "|", {REC->b, "X"}), REC->a, REC->b')
    before = [dataclasses.astuple(f) for f in ev.fields]
    # the symbolic mark waits past the flag mark that takes REC->c
    assert PrintFormat(ev).marked_fields() == ({"c"}, {"a"})
    assert [dataclasses.astuple(f) for f in ev.fields] == before
