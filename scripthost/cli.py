"""The `scripthost` command line.

    scripthost trace -i FILE [-s SCRIPT [args...]]   run a script (or print events) over a recording
    scripthost trace -l                              list installed scripts
    scripthost trace NAME [args] [-- cmd]            live: record and report at once
    scripthost trace record NAME [args]              the record half alone
    scripthost trace report NAME [args]              the report half alone
    scripthost record [perf record options]          write perf's pipe-mode stream

As with perf (parse-options stopping at the first non-option), options may follow
`-s SCRIPT`; the first argument that is not an option, and all after it, go to the
script, and a `--` ends the options without being passed on.
"""

from __future__ import annotations

import os
import signal
import sys
from typing import Optional

from scripthost.errors import ScripthostError, UsageError
from scripthost.report import run_recording
from scripthost.trace_options import OPTIONS, parse_trace_args
from scripthost.outfault import (OutputFault, StdoutBrokenPipe, StdoutWriteError, abandon_stdout,
                                 die_of_sigpipe, hold_std_fds, install_stdout)

__all__ = ["bash_completion", "main", "trace_main"]

MAIN_USAGE = """\
usage: scripthost [--version] [--help] COMMAND [ARGS]

       scripthost trace ...     run trace scripts (see `scripthost trace -h`)
       scripthost script ...    the same as `scripthost trace` (perf's name for it)
       scripthost record ...    record kernel events (see `scripthost record -h`)
       scripthost export ...    a recording as Parquet/Arrow/CSV/JSON datasets (see `scripthost export -h`)
       scripthost help [COMMAND]    this text, or COMMAND's
       scripthost completion bash   print the bash completion script
       scripthost version       print the version
"""

#: commands by every name they answer to: `script` is perf's name for `trace`
_COMMANDS = {"trace": "trace", "script": "trace", "record": "record", "export": "export"}


def trace_main(argv: list[str]) -> int:
    opts = parse_trace_args(argv)
    if opts.script == "lang":
        from scripthost.langs.specs import print_languages
        return print_languages(sys.stderr)
    if opts.list:
        from scripthost.library import print_listing
        return print_listing(sys.stdout)
    from scripthost.symbol_options import check_owner, symbol_options
    from scripthost.engine.source import default_input
    if opts.half is None and opts.name is None:
        check_owner(opts.input or default_input(), opts.force)
    if opts.header_only:
        from scripthost.engine.header_print import print_header_of
        return print_header_of(opts.input or default_input(), sys.stdout, opts.show_info)
    if opts.gen_script:
        from scripthost.langs.generate import generate_script
        return generate_script(opts.gen_script, opts.input or default_input())
    if opts.half is not None or opts.name is not None:
        from scripthost.live import live_main
        return live_main(opts.half, opts.name, opts.args, input_path=opts.input)
    if opts.reltime and opts.deltatime:
        raise UsageError("--reltime and --deltatime cannot be used together: give one of them",
                         exit_code=255)
    from scripthost.engine.fields import parse_fields
    from scripthost.engine.filters import parse_filters
    from scripthost.engine.timestamps import relative_clock
    filters = parse_filters(time=opts.time, cpu=opts.cpu, pid=opts.pid, tid=opts.tid)
    return run_recording(opts.input or default_input(), opts.script, opts.script_args,
                         filters=filters, nanoseconds=opts.ns,
                         fields=parse_fields(opts.fields) if opts.fields is not None else None,
                         hide_call_graph=opts.hide_call_graph,
                         clock=relative_clock(opts.reltime, opts.deltatime),
                         header=opts.header, full_header=opts.show_info, symbols=symbol_options(opts),
                         debug=opts.debug_mode, per_event_dump=opts.per_event_dump, dump_raw=opts.dump_raw_trace,
                         show=frozenset(o.dest for o in OPTIONS
                                        if o.long.startswith("show-") and o.long.endswith("-events") and getattr(opts, o.dest)))


def _exit_like(status: int) -> int:
    """A traced command's status (os.waitstatus_to_exitcode) as ours: a command killed by
    signal N kills us with N too, as perf record does, so a shell sees what it did."""
    if status >= 0:
        return status
    for f in (sys.stdout, sys.stderr):
        try:
            f.flush()
        except (OSError, ValueError, AttributeError):
            pass
    signal.signal(-status, signal.SIG_DFL)
    os.kill(os.getpid(), -status)
    return 128 - status


def _flush_stdout() -> None:
    """Flush what is left for stdout when a run ends in an error: the error is the news."""
    try:
        sys.stdout.flush()
    except (OSError, ValueError):
        pass


def bash_completion() -> str:
    """The bash completion script for these commands and `trace`'s options."""
    from scripthost.completion import bash_script
    return bash_script(tuple(_COMMANDS))


def _dispatch(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help") or argv == ["help"]:
        sys.stdout.write(MAIN_USAGE)
        return 0 if argv else 129
    cmd, rest = argv[0], argv[1:]
    if cmd in ("--version", "version"):
        from scripthost.version import print_version
        return print_version(sys.stdout)
    if cmd == "help":
        cmd, rest = rest[0], ["--help"]
    if cmd == "completion":
        from scripthost.completion import SHELLS
        if rest != ["bash"]:
            raise UsageError(f"usage: scripthost completion {'|'.join(SHELLS)}")
        sys.stdout.write(bash_completion())
        return 0
    if cmd not in _COMMANDS:
        raise UsageError(f"unknown command {cmd!r}\n{MAIN_USAGE}")
    cmd = _COMMANDS[cmd]
    if cmd == "trace":
        return _exit_like(trace_main(rest))
    if cmd == "export":
        from scripthost.export.command import export_main
        return export_main(rest)
    from scripthost.collect.record import record_main
    return _exit_like(record_main(rest))


def main(argv: Optional[list[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    hold_std_fds()
    install_stdout()
    try:
        try:
            status = _dispatch(argv)
            sys.stdout.flush()  # here, so that a last write that fails is said like any other
            return status
        except (StdoutBrokenPipe, StdoutWriteError) as e:
            raise OutputFault(e) from None
    except OutputFault as e:
        if e.silent:
            die_of_sigpipe()  # the reader has gone: nothing to say, as with `perf script | head`
        abandon_stdout()
        sys.stderr.write(f"scripthost: {e}\n")
        return e.exit_code
    except ScripthostError as e:
        _flush_stdout()
        sys.stderr.write(f"scripthost: {e}\n")
        return e.exit_code
    except KeyboardInterrupt:
        return 130
