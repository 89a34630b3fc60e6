"""C++ symbol demangling as perf 6.1 prints it: the Itanium ABI demangler of the C++
runtime (libstdc++'s ``__cxa_demangle``, the same demangler as binutils'), then, as perf
asks for without -v, the top-level function's return type, parameter list, cv/ref
qualifiers and clone suffixes left out (``ns::Box<long>::spin`` for
``_ZNK2ns3BoxIlE4spinEi``); names inside the name keep theirs
(``work(int)::{lambda(int)#1}::operator()``), and special names (thunks, guard
variables, vtables) print in full.  Without the C++ runtime names stay as they are."""

from __future__ import annotations

import ctypes
import ctypes.util
import re
from functools import lru_cache
from typing import Callable, Optional

__all__ = ["demangle", "strip_function_type"]

#: special names the demangler prints as "PREFIX encoding": their encoding keeps its types
_SPECIAL_PREFIXES = ("vtable for ", "VTT for ", "typeinfo for ", "typeinfo name for ",
                     "typeinfo fn for ", "non-virtual thunk to ", "virtual thunk to ",
                     "covariant return thunk to ", "construction vtable for ", "guard variable for ",
                     "reference temporary #", "hidden alias for ", "transaction clone for ",
                     "non-transaction clone for ", "TLS init function for ", "TLS wrapper function for ",
                     "java Class for ")
#: operator spellings after "operator", longest first: their brackets are no nesting
_OPERATORS = ("<<=", ">>=", "<=>", "->*", "()", "[]", "<<", ">>", "<=", ">=", "->", "<", ">")
_OPEN, _CLOSE = "(<[{", ")>]}"
#: what may follow a function's parameter list: cv/ref qualifiers, then clone suffixes
_QUALIFIERS = re.compile(r"(?: const| volatile| restrict| &&| &)*(?: \[clone [^\]]*\])*")


def _load() -> Optional[Callable[[bytes], Optional[str]]]:
    name = ctypes.util.find_library("stdc++") or "libstdc++.so.6"
    try:
        lib = ctypes.CDLL(name)
        fn = lib.__cxa_demangle
    except (OSError, AttributeError):
        return None
    fn.restype = ctypes.c_void_p
    fn.argtypes = [ctypes.c_char_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.POINTER(ctypes.c_int)]
    libc = ctypes.CDLL(None)
    free = libc.free
    free.argtypes = [ctypes.c_void_p]

    def full(mangled: bytes) -> Optional[str]:
        status = ctypes.c_int()
        p = fn(mangled, None, None, ctypes.byref(status))
        if not p:
            return None
        try:
            return ctypes.string_at(p).decode("utf-8", "replace")
        finally:
            free(p)
    return full


_full = _load()


def _groups(text: str) -> tuple[list[tuple[int, int]], int]:
    """The top-level bracket groups of ``text`` as (open, close) positions of their
    parentheses, and where its last top-level "operator" starts (-1: none)."""
    groups: list[tuple[int, int]] = []
    depth, i, n, opened, operator = 0, 0, len(text), -1, -1
    while i < n:
        if text.startswith("operator", i) and (i == 0 or text[i - 1] in ": ~"):
            if depth == 0:
                operator = i
            i += len("operator")
            op = next((o for o in _OPERATORS if text.startswith(o, i)), None)
            i += len(op) if op is not None else 0
            continue
        ch = text[i]
        if ch in _OPEN:
            if depth == 0 and ch == "(":
                opened = i
            depth += 1
        elif ch in _CLOSE:
            depth -= 1
            if depth == 0 and ch == ")" and opened >= 0:
                groups.append((opened, i))
                opened = -1
        i += 1
    return groups, operator


def strip_function_type(text: str) -> str:
    """A demangled function name without its return type, parameters, qualifiers and clone
    suffixes; other demangled names unchanged."""
    if text.startswith(_SPECIAL_PREFIXES):
        return text
    groups, operator = _groups(text)
    if not groups or not _QUALIFIERS.fullmatch(text, groups[-1][1] + 1):
        return text  # no function: a variable's or a type's name
    name = text[:groups[-1][0]]
    if len(groups) > 1 and groups[-2][1] == len(name) - 1 and not 0 <= operator < groups[-2][0]:
        # a function returning a function pointer: "R (*NAME(PARAMS))(ARGS)"
        return strip_function_type(text[groups[-2][0] + 1:groups[-2][1]].lstrip("*&"))
    depth, cut = 0, 0
    for i, ch in enumerate(name[:operator] if operator >= 0 else name):
        if ch in _OPEN:
            depth += 1
        elif ch in _CLOSE:
            depth -= 1
        elif ch == " " and depth == 0:
            cut = i + 1  # after the return type
    return name[cut:]


@lru_cache(maxsize=1 << 16)
def demangle(name: str) -> str:
    """``name`` as perf 6.1 prints it: demangled (without the function's types) when it is
    a mangled C++ name, else as given."""
    if _full is None or not name.startswith("_Z"):
        return name
    text = _full(name.encode("utf-8", "surrogateescape"))
    return strip_function_type(text) if text is not None else name
