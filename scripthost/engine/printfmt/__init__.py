"""print_fmt: a tracepoint's C-like print format, rendered as perf 6.1 (built-in
libtraceevent) renders it, and perf's define_* walk over its arguments.

  lexer.py        text -> tokens; ParseError (libtraceevent fails the format)
  parser.py       tokens -> the format string and typed argument trees
  nodes.py        the tree's frozen dataclasses, constant folding
  compiler.py     a parsed format -> one generated Python render function
  runtime.py      what the generated code calls
  defines.py      perf's define_* walk and libtraceevent's flag/symbolic field marks
  printformat.py  PrintFormat (one event's format) and perf's parse warning
"""

from scripthost.engine.printfmt.defines import DefineCalls, DefineWalk
from scripthost.engine.printfmt.lexer import ParseError
from scripthost.engine.printfmt.printformat import PrintFormat, perf_warning

__all__ = ["PrintFormat", "ParseError", "perf_warning", "DefineCalls", "DefineWalk"]
