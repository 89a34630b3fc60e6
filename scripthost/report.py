"""The report half of every `scripthost trace` run: a recording read by a session and
handed to a script's runtime or to perf's default output (with the dump and debug modes
that wrap it). The CLI and live mode both call it."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any, Optional

from scripthost.errors import ScriptError, ScripthostError
from scripthost.outfault import OutputFault, StdoutBrokenPipe, StdoutWriteError, fault_of, stdout_writer

__all__ = ["DEFAULT_OUTPUT_BUFFER", "run_recording", "run_script_session"]

if TYPE_CHECKING:
    from scripthost.engine.filters import SampleFilter
    from scripthost.engine.session import Session
    from scripthost.langs.base import Runtime
    from scripthost.symbol_options import SymbolOptions

#: the default output writes one line per event: a large buffer
DEFAULT_OUTPUT_BUFFER = 1 << 16

def run_script_session(session: "Session", runtime: "Runtime", script: str, debug: bool = False) -> int:
    """Drive ``runtime`` over ``session`` (``debug``: under -d's checks); a handler's
    exception becomes a ScriptError."""
    try:
        session.run(_debugged(runtime) if debug else runtime)
    except (ScripthostError, SystemExit, KeyboardInterrupt):
        raise
    except Exception as e:  # the script's own handler raised
        fault = fault_of(e)
        if fault is not None:  # printing to a stdout that cannot take it: ours to say
            raise fault from None
        from scripthost.langs.python_rt import print_script_traceback
        print_script_traceback(e)
        if runtime.ending:
            raise ScriptError(f"trace_end in {script} raised {type(e).__name__}") from None
        raise ScriptError(f"a handler in {script} raised {type(e).__name__}; stopped "
                          "(trace_end not run, as with perf)") from None
    return 0


def _open_session(inp: object, filters: Optional["SampleFilter"], header: bool = False,
                  full_header: bool = False, symbols: Optional["SymbolOptions"] = None,
                  unordered: bool = False, filter_in_core: bool = True) -> "Session":
    """The session over ``inp``: printing the header first with --header (-I: in full),
    keeping only the samples ``filters`` accept (or, not ``filter_in_core``, leaving them
    to the consumer), symbols found and filtered as ``symbols`` (-c/-S/--dsos, --symfs,
    --kallsyms, ...) say, in input order when ``unordered``."""
    if header:
        from scripthost.engine.header_print import header_session
        session = header_session(inp, sys.stdout, full_header)
    else:
        from scripthost.engine.session import Session
        session = Session(inp)
    if filters is not None:
        session.set_filter(filters, in_core=filter_in_core)
    if symbols is not None:
        symbols.apply(session)
    if unordered:
        session.set_unordered()
    return session


def _debugged(consumer: Any) -> Any:
    from scripthost.engine.debug_mode import DebugMode
    return DebugMode(consumer)


def run_recording(inp: object, script: Optional[str], script_args: list[str], *,
                  filters: Optional["SampleFilter"] = None, header: bool = False,
                  full_header: bool = False, symbols: Optional["SymbolOptions"] = None,
                  debug: bool = False, per_event_dump: bool = False, dump_raw: bool = False,
                  **printer_options: Any) -> int:
    """`scripthost trace -i INPUT [-s SCRIPT args]`: the report half of everything.
    ``filters`` choose the samples scripts and the default output see (perf filters first);
    ``printer_options`` are DefaultPrinter's keywords (nanoseconds, clock, ...); with
    --show-round-events perf delivers in input order."""
    unordered = "show_round_events" in printer_options.get("show", ())
    if script is not None:
        from scripthost.langs.base import runtime_for
        from scripthost.langs.specs import resolve_script
        from scripthost.library import script_dirs
        path, lang = resolve_script(script, script_dirs)
        runtime = runtime_for(path, script_args, lang.key)
        with runtime:
            runtime.load()
            return run_script_session(_open_session(inp, filters, header, full_header, symbols, unordered),
                                      runtime, script, debug)
    from scripthost.engine.output import DefaultPrinter
    out = stdout_writer(DEFAULT_OUTPUT_BUFFER)
    try:
        printer = DefaultPrinter(out, **printer_options)
        if per_event_dump:
            from scripthost.engine.per_event_dump import PerEventDump
            printer = PerEventDump(printer, lambda f: DefaultPrinter(f, **printer_options), str(inp))
        if dump_raw:
            from scripthost.engine.raw_dump import RawDump
            printer = RawDump(printer, str(inp))
        session = _open_session(inp, filters, header, full_header, symbols, unordered,
                                filter_in_core=not dump_raw)
        session.run(_debugged(printer) if debug else printer)
        out.flush()
    except (StdoutBrokenPipe, StdoutWriteError) as e:
        raise OutputFault(e) from None
    return 0
