"""`scripthost record`: open tracepoints with perf_event_open and write perf's
pipe-mode stream, system-wide, per CPU, per process or for a command and its
children.  The options mean what they mean to `perf record`.

usage: scripthost record [-e EVENT ...] [--filter EXPR] [-a] [-C CPUS]
                         [-p PID[,PID]] [-t TID] [-c PERIOD | -F FREQ] [-g] [-R]
                         [-m PAGES] [-o FILE|-] [-q] [--exclude-pid PID]
                         [--include-self] [-- COMMAND [ARGS...]]

EVENT is a tracepoint (sys:event, globs allowed) or a sampled event: cpu-clock,
task-clock, page-faults, context-switches, cpu-migrations, minor-faults,
major-faults, cycles, instructions, cache-references, cache-misses, branches,
branch-misses, with perf's modifiers (:u user only, :k kernel only); a group
`{a,b}` (without modifiers) records each of its members.  Sampled
events run at -F 4000 Hz unless -c or -F says otherwise; -g records callchains
(frame pointers) for every event.  Without -e, cycles is sampled, or cpu-clock
where the machine has no PMU; an unprivileged user gets the user-space part
(cpu-clock:u), as with perf.

With a command, only it and its children are traced, unless -a, -C, -p or -t
say what to trace; then the command just bounds the recording.  The command
keeps its terminal, stdin and stdout (stderr when the stream goes to stdout,
as with perf), and its exit status is ours.  -p follows the processes'
children; -t traces the given threads alone.

By default the recorder leaves out tracepoint events of its own process (and of
any --exclude-pid), so a live report does not count the tracer's own pipe writes.
"""

from __future__ import annotations

import errno
import io
import os
import select
import signal
import sys
from dataclasses import dataclass, field
from typing import BinaryIO, Optional

from scripthost.collect.perf_event import EventFd, OpenError, RingBuffer, pack_attr
from scripthost.collect.tracefs import Tracepoint, resolve_events, tracing_data_blob
from scripthost.collect.workload import Workload, become_subreaper, resolve_command, set_parent_death_signal
from scripthost.collect.writer import StreamWriter
from scripthost.engine.layouts import (
    AttrFlag as F, AttrType, HARDWARE_EVENTS, ReadFormat as RF, SOFTWARE_EVENTS, SampleType as ST,
)
from scripthost.errors import ScripthostError, UsageError
from scripthost.outfault import StdoutRaw

__all__ = ["RecordOptions", "Recorder", "StopFlag", "parse_record_args", "record_main", "split_events", "unavailable"]

SAMPLED_SAMPLE_TYPE = ST.IP | ST.TID | ST.TIME | ST.CPU | ST.PERIOD | ST.IDENTIFIER
DEFAULT_FREQ = 4000
#: sampled events by the names perf accepts: (perf type, config)
_SW, _HW = AttrType.SOFTWARE, AttrType.HARDWARE
SAMPLED_EVENTS = {name: (_SW, i) for i, name in enumerate(SOFTWARE_EVENTS) if name not in ("dummy", "bpf-output")}
SAMPLED_EVENTS.update({name: (_HW, i) for i, name in enumerate(HARDWARE_EVENTS)})
SAMPLED_EVENTS.update({"faults": (_SW, 2), "cs": (_SW, 3), "migrations": (_SW, 4), "branches": (_HW, 4),
                       "cpu-cycles": (_HW, 0)})
TP_SAMPLE_TYPE = ST.IP | ST.TID | ST.TIME | ST.CPU | ST.PERIOD | ST.RAW | ST.IDENTIFIER
DUMMY_SAMPLE_TYPE = ST.IP | ST.TID | ST.TIME | ST.CPU | ST.PERIOD | ST.IDENTIFIER
READ_FORMAT = RF.ID | RF.LOST
TRAILER = 32  # TID, TIME, CPU, IDENTIFIER
#: perf record's event when none is given, and what it becomes without a PMU
DEFAULT_EVENT = "cycles"
NO_PMU_FALLBACK = "cpu-clock"
#: errors that mean "this hardware event does not exist here" (perf then falls back)
NO_SUCH_EVENT = (errno.ENOENT, errno.EOPNOTSUPP, errno.ENODEV, errno.ENXIO)
#: the environment variable a live report half hands its record half: "PID,FD" (its own
#: pid, for the parent-death signal, and the fd to write the command's exit status to)
LIVE_PARENT_ENV = "SCRIPTHOST_LIVE_PARENT"
_MODIFIERS = set("ukhpPGHS")


@dataclass
class SampledEvent:
    """A PMU or software event to sample, by the name perf shows and its attr bits."""

    name: str
    type: int
    config: int
    exclude: int = 0

    def user_only(self) -> "SampledEvent":
        """This event without its kernel part (perf's fallback for unprivileged users)."""
        base, _, mods = self.name.partition(":")
        return SampledEvent(f"{base}:{mods.replace('k', '') or ''}u".replace("uu", "u"), self.type,
                            self.config, (self.exclude | F.EXCLUDE_KERNEL | F.EXCLUDE_HV) & ~F.EXCLUDE_USER)


def sampled_event(spec: str) -> Optional[SampledEvent]:
    """``cpu-clock``, ``cycles:u``, ...: a sampled event, or None when ``spec`` is not one."""
    base, _, mods = spec.partition(":")
    if base not in SAMPLED_EVENTS or set(mods) - _MODIFIERS:
        return None
    etype, config = SAMPLED_EVENTS[base]
    exclude = 0
    if set(mods) & set("ukh"):
        exclude = ((0 if "u" in mods else F.EXCLUDE_USER) | (0 if "k" in mods else F.EXCLUDE_KERNEL)
                   | (0 if "h" in mods else F.EXCLUDE_HV))
    return SampledEvent(spec, etype, config, exclude)


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


def split_events(spec: str) -> list[str]:
    """An -e list (`a,b`, `{a,b}` groups) as its events, each group's members in place.

    A group only schedules its members together, which tracepoints and software events
    need not be; a group with modifiers (`{a,b}:S`, leader sampling) is refused."""
    out: list[str] = []
    depth, start = 0, 0
    for k, c in enumerate(spec + ","):
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
        elif c == "," and depth == 0:
            part, start = spec[start:k], k + 1
            if part.startswith("{"):
                members, _, mods = part[1:].rpartition("}")
                if mods or depth:
                    raise UsageError(f"event group {part!r}: scripthost record takes groups "
                                     "without modifiers only; give the events one by one")
                out += split_events(members)
            elif part:
                out.append(part)
    if depth:
        raise UsageError(f"event list {spec!r}: a '{{' without its '}}'")
    return out


def unavailable(argv: list[str]) -> Optional[str]:
    """Why `scripthost record ARGV` cannot record on this machine (an option it lacks, an
    event the kernel lacks), in one line, or None.  PMU events are judged when opened."""
    try:
        o = parse_record_args(list(argv))
        resolve_events([e for e in o.events if sampled_event(e) is None])
    except ScripthostError as e:
        return str(e).splitlines()[0]
    return None


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
            if a == "--version":
                from scripthost.version import print_version
                raise SystemExit(print_version(sys.stdout))
            if a in ("-e", "--event"):
                o.events.extend(split_events(value()))
            elif a.startswith("-e") and len(a) > 2:
                o.events.extend(split_events(a[2:]))
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
        o.events = [DEFAULT_EVENT]
    if o.pages < 1 or o.pages & (o.pages - 1):
        raise UsageError("-m takes a power of two (pages per CPU)")
    return o


def _online_cpus() -> list[int]:
    try:
        return _cpu_list(open("/sys/devices/system/cpu/online").read().strip())
    except OSError:
        return list(range(os.cpu_count() or 1))


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie has exited: its parent has yet to reap it)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[0] not in (b"Z", b"X")
    except (OSError, IndexError):
        return False


def _threads(pid: int) -> list[int]:
    try:
        return [int(t) for t in os.listdir(f"/proc/{pid}/task")]
    except OSError:
        raise ScripthostError(f"no such process {pid}") from None


class Recorder:
    """One recording: opens the events, drains the rings, writes the stream.

    Use as a context manager; everything opened is closed on exit, and a command
    still running is stopped with everything it started.
    """

    def __init__(self, opts: RecordOptions) -> None:
        self.o = opts
        if opts.command:
            resolve_command(opts.command)  # before anything is opened or written
        self.sampled = [ev for ev in map(sampled_event, opts.events) if ev is not None]
        self.tps: list[Tracepoint] = resolve_events([e for e in opts.events if sampled_event(e) is None])
        self.fds: list[EventFd] = []
        self.rings: list[RingBuffer] = []
        self.workload: Optional[Workload] = None
        self.stopped_early = False
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
        if self.workload is not None and self.workload.status is None or self.stopped_early:
            if self.workload is not None:
                self.workload.stop(leftovers=True)

    @property
    def follows_command(self) -> bool:
        """Whether the events are the command's own (else the command bounds the recording)."""
        o = self.o
        return bool(o.command) and not (o.system_wide or o.cpus or o.pids or o.tids)

    def _targets(self) -> list[tuple[int, int]]:
        """(pid, cpu) pairs to open each event on, as perf record opens them."""
        cpus = self.o.cpus or _online_cpus()
        if self.o.command:
            self.workload = Workload(self.o.command, stdout_to_stderr=self._stream_on_stdout)
        if self.follows_command:
            assert self.workload is not None
            return [(self.workload.pid, c) for c in cpus]
        if self.o.tids:
            return [(t, -1) for t in self.o.tids]
        if self.o.pids:
            return [(t, c) for p in self.o.pids for t in _threads(p) for c in cpus]
        return [(-1, c) for c in cpus]

    @property
    def _stream_on_stdout(self) -> bool:
        if self.o.output == "-":
            return True
        try:
            out, std = os.stat(self.o.output), os.fstat(1)
        except OSError:
            return False
        return (out.st_dev, out.st_ino) == (std.st_dev, std.st_ino)

    def _filter(self, index: int) -> str:
        parts = []
        if index in self.o.filters:
            parts.append(f"({self.o.filters[index]})")
        excl = list(self.o.exclude_pids)
        if not self.o.include_self:
            excl.append(os.getpid())
        parts += [f"common_pid != {p}" for p in excl]
        return " && ".join(parts)

    def _attr_fields(self, flags: int, watermark: int) -> list[dict]:
        """The pack_attr fields of every event, tracepoints first, the tracking dummy last."""
        chain = ST.CALLCHAIN if self.o.callchain else 0
        out = [dict(type=2, config=tp.id, sample_period=self.o.period, sample_type=TP_SAMPLE_TYPE | chain,
                    read_format=READ_FORMAT, flags=flags, wakeup_events=watermark) for tp in self.tps]
        freq = self.o.freq if self.o.freq is not None else (None if self.o.period > 1 else DEFAULT_FREQ)
        for ev in self.sampled:
            out.append(dict(type=ev.type, config=ev.config, sample_period=freq if freq else self.o.period,
                            sample_type=SAMPLED_SAMPLE_TYPE | chain, read_format=READ_FORMAT,
                            flags=flags | ev.exclude | (F.FREQ if freq else 0), wakeup_events=watermark))
        track = flags | F.COMM | F.TASK | F.COMM_EXEC
        if self.wants_maps:
            track |= F.MMAP | F.MMAP2
        out.append(dict(type=1, config=9, sample_period=1, sample_type=DUMMY_SAMPLE_TYPE,
                        read_format=READ_FORMAT, flags=track, wakeup_events=watermark))
        return out

    def _fall_back(self, k: int, fields: dict, err: OpenError) -> bool:
        """perf's fallbacks for a refused sampled event: cpu-clock for a missing PMU, the
        user-space part for an unprivileged user.  True when ``fields`` changed."""
        s = k - len(self.tps)
        if s >= len(self.sampled):  # the tracking dummy
            if err.errno in (errno.EACCES, errno.EPERM) and not fields["flags"] & F.EXCLUDE_KERNEL:
                fields["flags"] |= F.EXCLUDE_KERNEL | F.EXCLUDE_HV
                return True
            return False
        if s < 0:
            return False
        ev = self.sampled[s]
        if err.errno in NO_SUCH_EVENT and (ev.type, ev.config) == SAMPLED_EVENTS[DEFAULT_EVENT]:
            mods = ev.name.partition(":")[2]
            fb = sampled_event(NO_PMU_FALLBACK + (":" + mods if mods else ""))
            assert fb is not None
            self.sampled[s] = fb
        elif err.errno in (errno.EACCES, errno.EPERM) and not ev.exclude & F.EXCLUDE_KERNEL:
            self.sampled[s] = ev.user_only()
        else:
            return False
        ev = self.sampled[s]
        fields.update(type=ev.type, config=ev.config,
                      flags=(fields["flags"] & ~(F.EXCLUDE_USER | F.EXCLUDE_KERNEL | F.EXCLUDE_HV)) | ev.exclude)
        return True

    def open(self) -> None:
        targets = self._targets()
        per_task = targets[0][0] != -1
        flags = F.DISABLED | F.SAMPLE_ID_ALL | F.EXCLUDE_GUEST | F.WATERMARK
        if not self.o.tids:
            flags |= F.INHERIT  # perf follows children everywhere but with -t
        if self.follows_command:
            flags |= F.ENABLE_ON_EXEC
        watermark = max(mmap_page() * self.o.pages // 4, 4096)
        fields = self._attr_fields(flags, watermark)
        self.attrs: list[bytes] = [pack_attr(**f) for f in fields]
        self.ids: list[list[int]] = [[] for _ in self.attrs]
        rings: dict[tuple[int, int], EventFd] = {}
        for pid, cpu in targets:
            for k in range(len(self.attrs)):
                try:
                    ev = EventFd(self.attrs[k], pid, cpu)
                except OpenError as e:
                    if per_task and e.errno == errno.ESRCH:
                        continue  # a thread that exited meanwhile
                    if self.ids[k] or not self._fall_back(k, fields[k], e):
                        raise
                    self.attrs[k] = pack_attr(**fields[k])
                    try:
                        ev = EventFd(self.attrs[k], pid, cpu)
                    except OpenError as e2:
                        if not self._fall_back(k, fields[k], e2):
                            raise
                        self.attrs[k] = pack_attr(**fields[k])
                        ev = EventFd(self.attrs[k], pid, cpu)
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
        return [tp.full_name for tp in self.tps] + [ev.name for ev in self.sampled] + ["dummy:HG"]

    def run(self, out: BinaryIO, stop: Optional["StopFlag"] = None) -> Optional[int]:
        """Record until stopped, the command exits, or the output closes.

        Returns the command's exit status (os.waitstatus_to_exitcode), None without one.
        """
        self.open()
        w = StreamWriter(out, TRAILER)
        try:
            self._write_header(w)
            if self.follows_command:
                pass  # enabled by the command's exec
            else:
                for ev in self.fds:
                    ev.enable()
            if self.workload is not None:
                self.workload.start()
            self._record(w, stop)
            w.flush()
        except BrokenPipeError:
            self.stopped_early = True  # nobody reads the stream any more
        finally:
            self.close()
        return None if self.workload is None else self.workload.status

    def _write_header(self, w: StreamWriter) -> None:
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
            if not self.follows_command:
                w.existing_maps(self.o.pids or None)
        w.finished_init()
        w.flush()

    def _record(self, w: StreamWriter, stop: Optional["StopFlag"]) -> None:
        poller = select.poll()
        for r in self.rings:
            poller.register(r.fd, select.POLLIN)
        targets = self.o.pids or self.o.tids
        while True:
            done = stop is not None and stop.is_set()
            if done:
                self.stopped_early = True
            if targets and not any(map(_alive, targets)):
                done = True  # every traced process has exited, as perf record -p stops
            if self.workload is not None and self.workload.poll() is not None:
                done = True
            if done:
                for ev in self.fds:
                    ev.disable()
            if self._drain(w) and not done:
                continue
            if done:
                self._drain(w)
                return
            try:
                poller.poll(100)
            except InterruptedError:
                pass

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


def _open_output(path: str) -> BinaryIO:
    """The stream's file: stdout for '-', an inherited fd for /dev/fd/N (live mode's pipe)."""
    if path == "-":  # its write errors tagged as stdout's (scripthost.outfault)
        return io.BufferedWriter(StdoutRaw(os.dup(1), own=True), 1 << 20)  # type: ignore[return-value]
    if path.startswith("/dev/fd/") and path[8:].isdigit():
        fd = int(path[8:])
        os.set_inheritable(fd, False)  # the command must not hold the report half's pipe
        return os.fdopen(fd, "wb", buffering=1 << 20)
    try:
        return open(path, "wb", buffering=1 << 20)
    except OSError as e:
        raise ScripthostError(f"cannot write {path}: {e.strerror}") from None


class StopFlag:
    """Set by a signal handler, read by the record loop.  Not a threading.Event: its
    set() takes a lock, and a second signal arriving inside the first handler's set()
    deadlocked the record half on it (Ctrl-C at the terminal while the report half
    forwards the same SIGINT)."""

    __slots__ = ("_set",)

    def __init__(self) -> None:
        self._set = False

    def set(self) -> None:
        self._set = True

    def is_set(self) -> bool:
        return self._set


def _live_parent() -> Optional[int]:
    """In a live run's record half: arm the parent-death signal; the status fd, else None."""
    spec = os.environ.pop(LIVE_PARENT_ENV, "")
    if not spec:
        return None
    parent, fd = (int(x) for x in spec.split(","))
    set_parent_death_signal(signal.SIGTERM, parent)
    os.set_inheritable(fd, False)
    return fd


def record_main(argv: list[str]) -> int:
    """`scripthost record`: its exit status is the command's, as perf record's is."""
    status_fd = _live_parent()
    opts = parse_record_args(argv)
    stop = StopFlag()

    def on_signal(signum: int, frame: object) -> None:
        stop.set()
    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, on_signal)
    if opts.command:
        become_subreaper()  # the command's orphans stay ours, to be stopped with it
    with Recorder(opts) as rec:
        out = _open_output(opts.output)
        try:
            status = rec.run(out, stop)
        finally:
            try:
                out.close()
            except BrokenPipeError:
                pass
    if status_fd is not None:
        os.write(status_fd, b"-" if status is None else str(status).encode())
        os.close(status_fd)
    if not opts.quiet and opts.output != "-":
        sys.stderr.write(f"[ scripthost record: wrote {opts.output} ]\n")
    return 0 if status is None else status
