"""`scripthost trace`'s symbol options, from the command line to the session: the
-c/-S/--dsos filters (engine/filters.py), where symbols come from and how callchains are
followed and named (engine/symconf.py), and perf's check of who owns the input (-f)."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from typing import TYPE_CHECKING, Optional

from scripthost.engine.filters import ResolvedFilter, parse_resolved_filter
from scripthost.engine.symconf import SymbolConfig, symbol_config
from scripthost.errors import ScripthostError

if TYPE_CHECKING:
    from scripthost.engine.session import Session
    from scripthost.trace_options import TraceOptions

__all__ = ["SymbolOptions", "check_owner", "symbol_options"]

#: perf's exit status when it refuses a recording another user owns
NOT_OWNED_STATUS = 255


@dataclass(frozen=True)
class SymbolOptions:
    config: SymbolConfig
    select: Optional[ResolvedFilter]

    def apply(self, session: "Session") -> None:
        session.machine.config = self.config
        if self.select is not None:
            session.set_select(self.select.select(session.machine.resolve, session.comms))


def symbol_options(opts: "TraceOptions") -> Optional[SymbolOptions]:
    """What the options ask of symbols; None when they ask nothing of perf's defaults."""
    select = parse_resolved_filter(comms=opts.comms, symbols=opts.symbols, dsos=opts.dsos,
                                   addr_range=opts.addr_range)
    config = symbol_config(demangle=opts.demangle, demangle_kernel=opts.demangle_kernel,
                           vmlinux=opts.vmlinux, kallsyms=opts.kallsyms, symfs=opts.symfs,
                           max_stack=opts.max_stack, stop_bt=opts.stop_bt)
    if select is None and config == SymbolConfig():
        return None
    return SymbolOptions(config, select)


def check_owner(path: str, force: bool) -> None:
    """perf's refusal (without -f) of a recording file owned by neither the user nor root."""
    if force or path == "-":
        return
    try:
        st = os.stat(path)
    except OSError:
        return  # the reader says what is wrong with it
    if stat.S_ISREG(st.st_mode) and st.st_uid not in (0, os.geteuid()):
        raise ScripthostError(f"File {path} not owned by current user or root (use -f to override)",
                              exit_code=NOT_OWNED_STATUS)
