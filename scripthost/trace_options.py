"""`scripthost trace`'s options: one table, parsed by perf's parse-options rules.

Each option is declared once, as an `Option` row of `OPTIONS`; the parser, the usage text
and the bash completion all read that table. perf's rules, which users rely on:

- `--name=value`, `--name value`, `-xvalue` and `-x value` all give an option its value;
- a long option may be shortened to any unambiguous prefix (`--head` for `--header`);
- `--no-NAME` turns a flag off;
- parsing stops at the first argument that is not an option: with `-s SCRIPT` given, it and
  all after it go to the script; a `--` ends the options and is not passed on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from scripthost.errors import UsageError

__all__ = ["Option", "OPTIONS", "TraceOptions", "parse_trace_args", "usage_text"]


@dataclass(frozen=True)
class Option:
    """One option: its long name, short letter, whether it takes a value, and its help."""

    long: str
    short: Optional[str] = None
    value: Optional[str] = None  # the value's name in the usage text; None for a flag
    help: str = ""
    repeat: bool = False  # a value option given more than once keeps every value, in order
    default: object = None  # the value when not given (None: [] / False / None by kind)

    @property
    def dest(self) -> str:
        return self.long.replace("-", "_")


OPTIONS: tuple[Option, ...] = (
    Option("input", "i", "FILE", "recording to read (perf.data or a pipe-mode stream; '-' = stdin)"),
    Option("script", "s", "SCRIPT", "script to run ([lang:]FILE, found as given or among the installed "
           "scripts; `-s lang` lists the languages); the first argument after it that is not an "
           "option, and all after that, go to the script"),
    Option("list", "l", None, "list available scripts"),
    Option("gen-script", "g", "LANG", "write a skeleton script (python, perl or lua) for the recording"),
    Option("header-only", None, None, "print the recording's header as perf does"),
    Option("header", None, None, "print the recording's header, then its events"),
    Option("show-info", "I", None, "with --header/--header-only: the topology, cache and memory "
           "features in full"),
    Option("ns", None, None, "nanosecond timestamps in the default output"),
    Option("hide-call-graph", "G", None, "when printing symbols do not display call chain"),
    Option("reltime", None, None, "timestamps relative to the first sample's"),
    Option("deltatime", None, None, "timestamps relative to the previous sample's"),
    Option("pid", None, "PID[,PID...]", "only samples of these process ids"),
    Option("tid", None, "TID[,TID...]", "only samples of these thread ids"),
    Option("cpu", "C", "CPU", "only samples on these cpus: a list of cpus and ranges (0-1,3)"),
    Option("time", None, "RANGES", "only samples in these time ranges: start,stop (either side open, "
           "several space-separated), or percentages of the sample span (10%-20%, 10%/2, 10%/1,10%/3)"),
    Option("show-task-events", None, None, "show the task events (if recorded)"),
    Option("show-mmap-events", None, None, "show the mmap events (if recorded)"),
    Option("show-switch-events", None, None, "show the switch events (if recorded)"),
    Option("show-namespace-events", None, None, "show the namespace events (if recorded)"),
    Option("show-lost-events", None, None, "show the lost events (if recorded)"),
    Option("show-cgroup-events", None, None, "show the cgroup events (if recorded)"),
    Option("show-bpf-events", None, None, "show the bpf events (if recorded)"),
    Option("show-round-events", None, None, "show the round events (if recorded); as with perf, "
           "events then come in input order, unsorted"),
    Option("fields", "F", "FIELDS", "comma separated output fields, prepend with 'type:' (hw, sw, trace, "
           "raw, synth); +field to add and -field to remove"),
    Option("comms", "c", "COMM[,COMM...]", "only samples of threads with these comms (at sample time)"),
    Option("symbols", "S", "SYM[,SYM...]", "only samples whose ip is in these symbols, or at these hex addresses"),
    Option("addr-range", None, "N", "with -S ADDR: samples whose ip is in [ADDR, ADDR+N) too"),
    Option("dsos", None, "DSO[,DSO...]", "only samples whose ip is in these DSOs (file name or full path)"),
    Option("max-stack", None, "N", "resolve at most N callchain entries (scripts see no more either)"),
    Option("stop-bt", None, "SYM[,SYM...]", "end a printed callchain after the first of these symbols"),
    Option("inline", None, None, "show inline functions (perf 6.1's default; changes no output)", default=True),
    Option("demangle", None, None, "demangle C++ symbol names (the default; --no-demangle: as in the file)",
           default=True),
    Option("demangle-kernel", None, None, "demangle kernel symbol names too"),
    Option("vmlinux", "k", "FILE", "kernel symbols from this vmlinux ELF file"),
    Option("kallsyms", None, "FILE", "kernel symbols from this kallsyms text"),
    Option("symfs", None, "DIR", "look for files with symbols relative to DIR"),
    Option("force", "f", None, "read a recording another user owns"),
    Option("debug-mode", "d", None, "check the samples' order instead of printing them (perf's "
           "misordered-sample lines and count, on stderr)"),
    Option("dump-raw-trace", "D", None, "dump the raw trace as perf does: each record's offset, size, "
           "bytes and description, each sample's decoded fields, then its line"),
    Option("per-event-dump", None, None, "each event's lines to a file of its own, named "
           "<input>.<event>.dump as perf names them"),
    Option("help", "h", None, "this text"),
    Option("version", None, None, "print scripthost's version and the perf version it follows"),
)

_BY_LONG = {o.long: o for o in OPTIONS}
_BY_SHORT = {o.short: o for o in OPTIONS if o.short}


@dataclass
class TraceOptions:
    """What the command line asked for: every option's value by its dest name, and the
    positional part (a live script's name and arguments, or a script's own arguments)."""

    values: dict = field(default_factory=dict)
    script_args: list = field(default_factory=list)
    name: Optional[str] = None  # live: the installed script's name
    args: list = field(default_factory=list)  # live: its arguments and the command
    half: Optional[str] = None  # "record" / "report": one half of a live script

    def __getattr__(self, dest: str):
        values = self.__dict__.get("values", {})
        if dest in values:
            return values[dest]
        opt = _BY_LONG.get(dest.replace("_", "-"))
        if opt is None:
            raise AttributeError(dest)
        if opt.default is not None:
            return opt.default
        return [] if opt.repeat else (False if opt.value is None else None)


def usage_text() -> str:
    lines = ["usage: scripthost trace [-i FILE] [-s SCRIPT [ARGS...]] [options]",
             "       scripthost trace -l",
             "       scripthost trace -g python|perl|lua [-i FILE]",
             "       scripthost trace NAME [ARGS...] [-- COMMAND...]      (live)",
             "       scripthost trace record NAME [ARGS...] / report NAME [ARGS...]", ""]
    for o in OPTIONS:
        left = (f"-{o.short}, " if o.short else "    ") + f"--{o.long}" + (f" {o.value}" if o.value else "")
        lines.append(f"  {left:<24} {o.help}")
    return "\n".join(lines) + "\n"


def _long_option(name: str) -> tuple[Option, bool]:
    """The option a (possibly shortened, possibly `no-`) long name means, and whether negated."""
    if name in _BY_LONG:
        return _BY_LONG[name], False
    negated = name.startswith("no-") and name[3:] in _BY_LONG and _BY_LONG[name[3:]].value is None
    if negated:
        return _BY_LONG[name[3:]], True
    matches = [o for o in OPTIONS if o.long.startswith(name)]
    if len(matches) == 1:
        return matches[0], False
    if len(matches) > 1:
        names = ", ".join("--" + o.long for o in matches)
        raise UsageError(f"ambiguous option --{name} (could be {names})")
    if name.startswith("no-"):
        matches = [o for o in OPTIONS if o.value is None and o.long.startswith(name[3:])]
        if len(matches) == 1:
            return matches[0], True
    raise UsageError(f"unknown option --{name} (`scripthost trace -h` lists them)")


def parse_trace_args(argv: list[str]) -> TraceOptions:
    opts = TraceOptions()
    i = 0

    def take(opt: Option, attached: Optional[str], shown: str) -> None:
        nonlocal i
        if attached is None:
            i += 1
            if i >= len(argv):
                raise UsageError(f"option {shown} needs a value (`scripthost trace -h` lists them)")
            attached = argv[i]
        if opt.repeat:
            opts.values.setdefault(opt.dest, []).append(attached)
        else:
            opts.values[opt.dest] = attached

    while i < len(argv):
        a = argv[i]
        script_given = opts.values.get("script") is not None
        if a == "--":
            if script_given:
                opts.script_args = argv[i + 1:]  # perf's end of options: not passed on
            else:
                opts.args = argv[i:]
            return opts
        if a.startswith("--"):
            name, eq, attached = a[2:].partition("=")
            opt, negated = _long_option(name)
            if opt.value is None:
                if eq:
                    raise UsageError(f"option --{opt.long} takes no value")
                opts.values[opt.dest] = not negated
            else:
                take(opt, attached if eq else None, "--" + opt.long)
        elif a.startswith("-") and a != "-":
            opt = _BY_SHORT.get(a[1])
            if opt is None:
                hint = ("; a script's own options go after its first other argument or after `--`"
                        if script_given else "")
                raise UsageError(f"unknown option {a[:2]} (`scripthost trace -h` lists them){hint}")
            if opt.value is None:
                if len(a) > 2:
                    raise UsageError(f"option -{opt.short} takes no value ({a})")
                opts.values[opt.dest] = True
            else:
                take(opt, a[2:] if len(a) > 2 else None, "-" + opt.short)
        elif script_given:
            opts.script_args = argv[i:]  # the first non-option and all after it, `--` too
            return opts
        else:
            words = ("record", "report")
            if opts.name is None and opts.half is None and len(a) >= 3 and any(w.startswith(a) for w in words):
                opts.half = "record" if "record".startswith(a) else "report"
            else:
                opts.name = a
                opts.args = argv[i + 1:]
                return opts
        if opts.values.get("help"):
            import sys
            sys.stdout.write(usage_text())
            raise SystemExit(0)
        if opts.values.get("version"):
            import sys
            from scripthost.version import print_version
            raise SystemExit(print_version(sys.stdout))
        i += 1
    return opts
