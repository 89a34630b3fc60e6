"""`scripthost record`: open tracepoints with perf_event_open and write perf's
pipe-mode stream, system-wide, per CPU, per process or for a command and its
children.  The options mean what they mean to `perf record`.

usage: scripthost record -e EVENT [-e ...] [--filter EXPR] [-a] [-C CPUS]
                         [-p PID[,PID]] [-t TID] [-c PERIOD | -F FREQ] [-g] [-R]
                         [-m PAGES] [-o FILE|-] [-q] [--exclude-pid PID]
                         [--include-self] [-- COMMAND [ARGS...]]

EVENT is a tracepoint (sys:event, globs allowed) or a sampled event: cpu-clock,
task-clock, page-faults, context-switches, cpu-migrations, minor-faults,
major-faults, cycles, instructions, cache-references, cache-misses, branches,
branch-misses.  Sampled events run at -F 4000 Hz unless -c or -F says otherwise;
-g records callchains (frame pointers) for every event.

By default the recorder leaves out tracepoint events of its own process (and of
any --exclude-pid), so a live report does not count the tracer's own pipe writes.
"""

from __future__ import annotations

import os
import select
import signal
import sys
import threading
from dataclasses import dataclass, field
from typing import BinaryIO, Optional

from scripthost.collect.perf_event import EventFd, RingBuffer, pack_attr
from scripthost.collect.tracefs import Tracepoint, resolve_events, tracing_data_blob
from scripthost.collect.writer import StreamWriter
from scripthost.engine.layouts import (
    AttrFlag as F, HARDWARE_EVENTS, SOFTWARE_EVENTS, SampleType as ST,
)
from scripthost.errors import ScripthostError, UsageError

__all__ = ["RecordOptions", "Recorder", "parse_record_args", "record_main"]

SAMPLED_SAMPLE_TYPE = ST.IP | ST.TID | ST.TIME | ST.CPU | ST.PERIOD | ST.IDENTIFIER
DEFAULT_FREQ = 4000
#: sampled events by the names perf accepts: (perf type, config)
SAMPLED_EVENTS = {name: (1, i) for i, name in enumerate(SOFTWARE_EVENTS) if name not in ("dummy", "bpf-output")}
SAMPLED_EVENTS.update({name: (0, i) for i, name in enumerate(HARDWARE_EVENTS)})
SAMPLED_EVENTS.update({"faults": (1, 2), "cs": (1, 3), "migrations": (1, 4), "branches": (0, 4),
                       "cpu-cycles": (0, 0)})
TP_SAMPLE_TYPE = ST.IP | ST.TID | ST.TIME | ST.CPU | ST.PERIOD | ST.RAW | ST.IDENTIFIER
DUMMY_SAMPLE_TYPE = ST.IP | ST.TID | ST.TIME | ST.CPU | ST.PERIOD | ST.IDENTIFIER
READ_FORMAT = 4 | 16  # ID | LOST
TRAILER = 32  # TID, TIME, CPU, IDENTIFIER


@dataclass
class RecordOptions:
    events: list[str] = field(default_factory=list)
    filters: dict[int, str] = field(default_factory=dict)
    system_wide: bool = False
    cpus: Optional[list[int]] = None
    pids: list[int] = field(default_factory=list)
    tids: list[int] = field(default_factory=list)
    period: int = 1
    freq: Optional[int] = None
    callchain: bool = False
    pages: int = 1024
    output: str = "perf.data"
    quiet: bool = False
    exclude_pids: list[int] = field(default_factory=list)
    include_self: bool = False
    command: list[str] = field(default_factory=list)


def _cpu_list(spec: str) -> list[int]:
    out: list[int] = []
    for part in spec.split(","):
        if "-" in part:
            a, b = part.split("-", 1)
            out.extend(range(int(a), int(b) + 1))
        elif part:
            out.append(int(part))
    return out


def parse_record_args(argv: list[str]) -> RecordOptions:
    o = RecordOptions()
    i = 0

    def value() -> str:
        nonlocal i
        i += 1
        if i >= len(argv):
            raise UsageError(f"option {argv[i - 1]} needs a value\n{__doc__}")
        return argv[i]
    try:
        while i < len(argv):
            a = argv[i]
            if a == "--":
                o.command = argv[i + 1:]
                break
            if a in ("-h", "--help"):
                sys.stdout.write(__doc__ or "")
                raise SystemExit(0)
            if a in ("-e", "--event"):
                o.events.extend(e for e in value().split(",") if e)
            elif a.startswith("-e") and len(a) > 2:
                o.events.extend(e for e in a[2:].split(",") if e)
            elif a == "--filter":
                if not o.events:
                    raise UsageError("--filter must follow the -e it applies to")
                o.filters[len(o.events) - 1] = value()
            elif a in ("-a", "--all-cpus"):
                o.system_wide = True
            elif a in ("-C", "--cpu"):
                o.cpus = _cpu_list(value())
            elif a in ("-p", "--pid"):
                o.pids.extend(int(p) for p in value().split(","))
            elif a in ("-t", "--tid"):
                o.tids.extend(int(p) for p in value().split(","))
            elif a in ("-c", "--count"):
                o.period = int(value())
                o.freq = None
            elif a in ("-F", "--freq"):
                o.freq = int(value())
            elif a == "-g":
                o.callchain = True
            elif a.startswith("--call-graph"):
                mode = a.split("=", 1)[1] if "=" in a else value()
                if mode.split(",")[0] != "fp":
                    raise UsageError(f"--call-graph {mode}: only fp (frame pointers) is supported")
                o.callchain = True
            elif a in ("-m", "--mmap-pages"):
                o.pages = int(value())
            elif a in ("-o", "--output"):
                o.output = value()
            elif a in ("-R", "--raw-samples"):
                pass  # tracepoint samples always carry their raw data
            elif a in ("-q", "--quiet"):
                o.quiet = True
            elif a == "--exclude-pid":
                o.exclude_pids.append(int(value()))
            elif a == "--include-self":
                o.include_self = True
            elif a.startswith("-"):
                raise UsageError(f"unknown option {a}\n{__doc__}")
            else:
                o.command = argv[i:]
                break
            i += 1
    except ValueError as e:
        raise UsageError(f"bad number in options: {e}") from None
    if not o.events:
        raise UsageError(f"no events: give at least one -e SYS:EVENT\n{__doc__}")
    if o.pages < 1 or o.pages & (o.pages - 1):
        raise UsageError("-m takes a power of two (pages per CPU)")
    return o


def _online_cpus() -> list[int]:
    try:
        return _cpu_list(open("/sys/devices/system/cpu/online").read().strip())
    except OSError:
        return list(range(os.cpu_count() or 1))


class Recorder:
    """One recording: opens the events, drains the rings, writes the stream.

    Use as a context manager; everything opened is closed on exit.
    """

    def __init__(self, opts: RecordOptions) -> None:
        self.o = opts
        self.sampled = [e for e in opts.events if e in SAMPLED_EVENTS]
        self.tps: list[Tracepoint] = resolve_events([e for e in opts.events if e not in SAMPLED_EVENTS])
        self.fds: list[EventFd] = []
        self.rings: list[RingBuffer] = []
        self.child: Optional[int] = None
        self._go_w: Optional[int] = None
        self.lost = 0

    def __enter__(self) -> "Recorder":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        for ev in self.fds:
            ev.disable()
        for r in self.rings:
            r.close()
        for ev in self.fds:
            ev.close()
        self.fds, self.rings = [], []
        if self.child is not None:
            try:
                os.kill(self.child, signal.SIGKILL)
                os.waitpid(self.child, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
            self.child = None

    def _fork_command(self) -> int:
        """Fork the command stopped before exec; `_start_command` lets it go."""
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            try:
                os.close(w)
                os.read(r, 1)
                os.execvp(self.o.command[0], self.o.command)
            except OSError as e:
                sys.stderr.write(f"scripthost record: cannot run {self.o.command[0]}: {e.strerror}\n")
            os._exit(127)
        os.close(r)
        self._go_w = w
        return pid

    def _start_command(self) -> None:
        if self._go_w is not None:
            os.write(self._go_w, b"x")
            os.close(self._go_w)
            self._go_w = None

    def _targets(self) -> list[tuple[int, int]]:
        """(pid, cpu) pairs to open each event on."""
        cpus = self.o.cpus or _online_cpus()
        if self.o.command and not self.o.system_wide:
            self.child = self._fork_command()
            return [(self.child, c) for c in cpus]
        if self.o.tids:
            return [(t, -1) for t in self.o.tids]
        if self.o.pids:
            tids = []
            for p in self.o.pids:
                try:
                    tids += [int(t) for t in os.listdir(f"/proc/{p}/task")]
                except OSError:
                    raise ScripthostError(f"no such process {p}") from None
            return [(t, -1) for t in tids]
        if self.o.command:
            self.child = self._fork_command()
        return [(-1, c) for c in cpus]

    def _filter(self, index: int) -> str:
        parts = []
        if index in self.o.filters:
            parts.append(f"({self.o.filters[index]})")
        excl = list(self.o.exclude_pids)
        if not self.o.include_self:
            excl.append(os.getpid())
        parts += [f"common_pid != {p}" for p in excl]
        return " && ".join(parts)

    def open(self) -> None:
        targets = self._targets()
        per_task = targets[0][0] != -1
        flags = F.DISABLED | F.SAMPLE_ID_ALL | F.EXCLUDE_GUEST | F.WATERMARK
        if per_task and self.o.command and not self.o.system_wide:
            flags |= F.INHERIT | F.ENABLE_ON_EXEC
        elif not per_task:
            flags |= F.INHERIT
        watermark = max(mmap_page() * self.o.pages // 4, 4096)
        self.attrs: list[bytes] = []
        chain = ST.CALLCHAIN if self.o.callchain else 0
        for tp in self.tps:
            self.attrs.append(pack_attr(type=2, config=tp.id, sample_period=self.o.period,
                                        sample_type=TP_SAMPLE_TYPE | chain, read_format=READ_FORMAT,
                                        flags=flags, wakeup=watermark))
        for name in self.sampled:
            etype, config = SAMPLED_EVENTS[name]
            freq = self.o.freq if self.o.freq is not None else (None if self.o.period > 1 else DEFAULT_FREQ)
            self.attrs.append(pack_attr(type=etype, config=config,
                                        sample_period=freq if freq else self.o.period,
                                        sample_type=SAMPLED_SAMPLE_TYPE | chain, read_format=READ_FORMAT,
                                        flags=flags | (F.FREQ if freq else 0), wakeup=watermark))
        track = flags | F.COMM | F.TASK | F.COMM_EXEC
        if self.wants_maps:
            track |= F.MMAP | F.MMAP2
        self.attrs.append(pack_attr(type=1, config=9, sample_period=1, sample_type=DUMMY_SAMPLE_TYPE,
                                    read_format=READ_FORMAT, flags=track, wakeup=watermark))
        self.ids: list[list[int]] = [[] for _ in self.attrs]
        rings: dict[tuple[int, int], EventFd] = {}
        for pid, cpu in targets:
            for k, attr in enumerate(self.attrs):
                try:
                    ev = EventFd(attr, pid, cpu)
                except ScripthostError as e:
                    if per_task and "no such process" in str(e):
                        continue  # a thread that exited meanwhile
                    raise
                self.fds.append(ev)
                self.ids[k].append(ev.id)
                if k < len(self.tps):
                    flt = self._filter(k)
                    if flt:
                        ev.set_filter(flt)
                key = (pid, cpu) if cpu == -1 else (-1, cpu)
                if key in rings:
                    ev.set_output(rings[key])
                else:
                    rings[key] = ev
                    self.rings.append(RingBuffer(ev, self.o.pages))
        if not self.fds:
            raise ScripthostError("nothing to trace: the target processes are gone")

    @property
    def wants_maps(self) -> bool:
        """Whether samples need memory maps to be resolved (sampled events or -g)."""
        return bool(self.sampled) or self.o.callchain

    def names(self) -> list[str]:
        return [tp.full_name for tp in self.tps] + list(self.sampled) + ["dummy:HG"]

    def run(self, out: BinaryIO, stop: Optional[threading.Event] = None) -> int:
        """Record until stopped, the command exits, or the output closes; 0 on success."""
        self.open()
        w = StreamWriter(out, TRAILER)
        w.header()
        for attr, ids in zip(self.attrs, self.ids):
            w.attr(attr, ids)
        w.features([sys.argv[0]] + sys.argv[1:], list(zip(self.attrs, self.ids, self.names())))
        if self.tps:
            w.tracing_data(tracing_data_blob(self.tps))
        for ids, name in zip(self.ids, self.names()):
            if ids:
                w.event_name(ids[0], name)
        w.existing_tasks()
        if self.wants_maps:
            w.kernel_map()
            if self.o.system_wide or not self.o.command:
                w.existing_maps(self.o.pids or None)
        w.finished_init()
        w.flush()
        for ev in self.fds:
            if not (self.o.command and self.child is not None and not self.o.system_wide):
                ev.enable()
        self._start_command()
        poller = select.poll()
        for r in self.rings:
            poller.register(r.fd, select.POLLIN)
        status = 0
        try:
            while True:
                done = stop is not None and stop.is_set()
                targets = self.o.pids or self.o.tids
                if targets and not any(os.path.exists(f"/proc/{t}") for t in targets):
                    done = True  # every traced process has exited, as perf record -p stops
                if self.child is not None:
                    pid, st = os.waitpid(self.child, os.WNOHANG)
                    if pid:
                        self.child = None
                        status = os.waitstatus_to_exitcode(st)
                        done = True
                if done:
                    for ev in self.fds:
                        ev.disable()
                if self._drain(w) and not done:
                    continue
                if done:
                    self._drain(w)
                    break
                try:
                    poller.poll(100)
                except InterruptedError:
                    pass
        except BrokenPipeError:
            return 0
        finally:
            self.close()
        try:
            w.flush()
        except BrokenPipeError:
            pass
        return 0 if status >= 0 else 0

    def _drain(self, w: StreamWriter) -> bool:
        """Read every ring once; write what was read and a FINISHED_ROUND."""
        chunks = [r.read() for r in self.rings]
        data = b"".join(chunks)
        if not data:
            return False
        w.write(data)
        w.finished_round()
        w.flush()
        return len(data) > 65536


def mmap_page() -> int:
    import mmap as _m
    return _m.PAGESIZE


def record_main(argv: list[str]) -> int:
    opts = parse_record_args(argv)
    stop = threading.Event()

    def on_signal(signum: int, frame: object) -> None:
        stop.set()
    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, on_signal)
    if opts.output == "-":
        out: BinaryIO = os.fdopen(os.dup(1), "wb", buffering=1 << 20)
    else:
        try:
            out = open(opts.output, "wb", buffering=1 << 20)
        except OSError as e:
            raise ScripthostError(f"cannot write {opts.output}: {e.strerror}") from None
    try:
        with Recorder(opts) as rec:
            rc = rec.run(out, stop)
    finally:
        try:
            out.close()
        except BrokenPipeError:
            pass
    if not opts.quiet and opts.output != "-":
        sys.stderr.write(f"[ scripthost record: wrote {opts.output} ]\n")
    return rc


if __name__ == "__main__":
    from scripthost.cli import main
    sys.exit(main(["record"] + sys.argv[1:]))
