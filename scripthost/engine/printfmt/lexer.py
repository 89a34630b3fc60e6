"""print_fmt text -> tokens: C string and integer literals, identifiers, operators.

`ParseError` is what libtraceevent's own failure to parse a format becomes (perf
prints the event as "[FAILED TO PARSE]"); the lexer, the parser and the compiler's
checks of what libtraceevent rejects raise it, and nothing else does.
"""

from __future__ import annotations

import re
from enum import Enum
from typing import NamedTuple

__all__ = ["ParseError", "TokenKind", "Token", "tokens", "unescape", "num_value"]


class ParseError(Exception):
    """libtraceevent could not parse this print_fmt (perf prints [FAILED TO PARSE])."""


class TokenKind(Enum):
    STR = "str"
    NUM = "num"
    ID = "id"
    OP = "op"
    EOF = "eof"


class Token(NamedTuple):
    kind: TokenKind
    text: str


_TOKEN = re.compile(r"""
    \s*(?:
      (?P<str>"(?:[^"\\]|\\.)*")
    | (?P<num>0[xX][0-9a-fA-F]+[uUlL]*|\d+[uUlL]*)
    | (?P<id>[A-Za-z_][A-Za-z0-9_]*)
    | (?P<op>->|<<|>>|<=|>=|==|!=|&&|\|\||[-+*/%&|^!~<>?:()\[\]{},.])
    )""", re.VERBOSE)

_KINDS = {k.value: k for k in TokenKind}
_ESC = {"n": "\n", "t": "\t", "\\": "\\", '"': '"', "r": "\r", "0": "\0"}


def tokens(text: str) -> list[Token]:
    """The tokens of ``text``, ending with one EOF token."""
    out = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise ParseError(f"bad token {text[pos:pos + 10]!r}")
        pos = m.end()
        kind = m.lastgroup
        out.append(Token(_KINDS[kind], m.group(kind)))
    out.append(Token(TokenKind.EOF, ""))
    return out


def unescape(lit: str) -> str:
    """A string literal's text (quotes off, C escapes resolved)."""
    return re.sub(r"\\(.)", lambda m: _ESC.get(m.group(1), m.group(1)), lit[1:-1])


def num_value(text: str) -> int:
    """An integer literal's value: hex, octal (a leading 0) or decimal, suffixes dropped."""
    t = text.rstrip("uUlL")
    try:
        if t.lower().startswith("0x"):
            return int(t, 16)
        if len(t) > 1 and t.startswith("0"):
            return int(t, 8)
        return int(t)
    except ValueError:  # 08, 09: not octal
        raise ParseError(f"bad number {text}") from None
