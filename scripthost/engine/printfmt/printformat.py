"""One event's print_fmt: parsed, compiled for rendering, walkable for perf's define_*
calls; and the warning perf prints for a format it fails to parse."""

from __future__ import annotations

from typing import Any, Callable, Optional

from scripthost.engine.printfmt.compiler import Compiled, compile_format, match_args
from scripthost.engine.printfmt.defines import marked_fields
from scripthost.engine.printfmt.lexer import ParseError
from scripthost.engine.printfmt.nodes import Node
from scripthost.engine.printfmt.parser import parse
from scripthost.engine.printfmt.runtime import failed_fields
from scripthost.engine.tpformat import EventFormat

__all__ = ["PrintFormat", "perf_warning"]


class PrintFormat:
    """One event's print_fmt.  ``render(raw)`` is a payload's text; ``failed`` where
    libtraceevent cannot parse the format (each record then renders as perf's
    "[FAILED TO PARSE]" field list).  ``args`` are the parsed arguments, kept where only
    the compiler rejected them (perf's define_* walk still sees them)."""

    def __init__(self, fmt: EventFormat, ksyms: Any = None, printk: Optional[dict[int, str]] = None) -> None:
        self.fmt = fmt
        self.failed = False
        self.format = ""
        self.args: tuple[Node, ...] = ()
        self.compiled: Optional[Compiled] = None
        self.render: Callable[[bytes], str] = self.render_failed
        try:
            parsed = parse(fmt.print_fmt, fmt)
            self.format, self.args = parsed
            self.compiled = compile_format(parsed, fmt, ksyms, printk, self.render_failed)
        except ParseError:
            self.failed = True
            return
        self.render = self.compiled.render

    def marked_fields(self) -> tuple[set[str], set[str]]:
        """The fields libtraceevent marks as flag and as symbolic fields (defines.marked_fields)."""
        return marked_fields(self.args)

    def render_failed(self, raw: bytes) -> str:
        """perf's fallback for a format it could not parse: every field as name=value."""
        return failed_fields(self.fmt.fields, raw)


def perf_warning(fmt: EventFormat) -> Optional[str]:
    """The line perf 6.1 prints on stderr when it reads the event's format, if its print
    fmt fails in a way whose words we know are perf's; else None."""
    try:
        text, args = parse(fmt.print_fmt, fmt)
        match_args(text, len(args))
    except ParseError as e:
        msg = str(e)
        if msg in ("no argument match", "argument already matched") or (
                msg.startswith("function ") and msg.endswith(" not defined")):
            return f"  [{fmt.full_name}] {msg}"
    return None
