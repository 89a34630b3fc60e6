"""Python scripts in-process, with perf 6.1's calling convention.

For each event the script handles, a small decoder is generated once (Python
source compiled with `exec`) that unpacks the raw tracepoint record with one
precompiled Struct and calls the handler with perf's argument list:
event_name, context, common_cpu, common_secs, common_nsecs, common_pid,
common_comm, common_callchain, the fields in format order, and
perf_sample_dict when the handler's arity asks for it.
"""

from __future__ import annotations

import builtins
import os
import struct
import sys
import traceback
import types
from pathlib import Path
from typing import Any, Callable, Optional

from scripthost.engine.attrs import (
    Evsel, S_BUF, S_CALLCHAIN, S_CPU, S_IP, S_PERIOD, S_PID, S_POS, S_RAW, S_TID, S_TIME,
)
from scripthost.engine.codegen import compile_handler
from scripthost.engine.layouts import SampleType
from scripthost.engine.session import Session
from scripthost.errors import ScripthostError, StreamError
from scripthost.langs.base import Runtime, ScriptError, exec_path

__all__ = ["PythonRuntime", "field_value_plan"]

_GEN = "<scripthost generated>"
_PKG_DIR = str(Path(__file__).resolve().parent.parent)


def _printable(b: bytes) -> bool:
    """perf's is_printable_array() on bytes up to the first NUL."""
    for c in b:
        if c == 0:
            return True
        if not (32 <= c <= 126 or 9 <= c <= 13):
            return False
    return True


def _own_module(e: ModuleNotFoundError) -> bool:
    """Whether the missing module is one the script's own directory was to hold."""
    return e.name is not None and e.name.split(".")[0] in ("perf_trace_context", "Core", "Util",
                                                          "EventClass")


class _PerfLibFinder:
    """The last resort for a script's imports: perf's own Perf-Trace-Util library, for the
    modules ours does not replace (SchedGui, used by sched-migration.py)."""

    _dirs: Optional[list[str]] = None

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        if path is not None:
            return None
        if self._dirs is None:
            type(self)._dirs = []  # the imports below may ask us again (subprocess tries msvcrt)
            from scripthost.library import perf_exec_path
            root = perf_exec_path()
            lib = root / "scripts" / "python" / "Perf-Trace-Util" / "lib" / "Perf" / "Trace" if root else None
            type(self)._dirs = [str(lib)] if lib is not None and lib.is_dir() else []
        if not self._dirs:
            return None
        import importlib.machinery
        return importlib.machinery.PathFinder.find_spec(name, self._dirs)


class _StringField:
    """A char-array field: str while printable, bytearray forever after the first miss."""

    __slots__ = ("demoted",)

    def __init__(self) -> None:
        self.demoted = False

    def fixed(self, raw: bytes, off: int, size: int) -> Any:
        b = raw[off:off + size]
        if not self.demoted and b and b[-1] == 0 and _printable(b):
            return b[:b.index(0)].decode("ascii")
        self.demoted = True
        return bytearray(b)

    def dynamic(self, raw: bytes, loc: int, base: int) -> Any:
        off = (loc & 0xFFFF) + base
        b = raw[off:off + (loc >> 16)]
        if not self.demoted and b and b[-1] == 0 and _printable(b):
            return b[:b.index(0)].decode("ascii")
        self.demoted = True
        return bytearray(b)


def _dyn_bytes(raw: bytes, loc: int, base: int) -> bytearray:
    off = (loc & 0xFFFF) + base
    return bytearray(raw[off:off + (loc >> 16)])


def field_value_plan(fields: list) -> tuple[str, list[str], list[str], dict[str, Any]]:
    """How to turn a tracepoint's fields into perf's Python values.

    Returns (struct format, unpack target names, one expression per field,
    names the expressions need).  The struct starts at raw offset 0 and also
    reads ``common_pid`` into ``_cpid``.
    """
    env: dict[str, Any] = {"_dyn_bytes": _dyn_bytes, "bytearray": bytearray}
    reads: list[tuple[int, str, str]] = [(4, "i", "_cpid")]  # common_pid
    exprs: list[str] = []
    for i, f in enumerate(fields):
        var = f"_v{i}"
        if f.is_dynamic or f.is_relative:
            reads.append((f.offset, "I", var))
            base = f"{f.offset + 4}" if f.is_relative else "0"
            if not f.is_array:
                exprs.append(var)
            elif f.is_string:
                env[f"_s{i}"] = _StringField()
                exprs.append(f"_s{i}.dynamic(raw, {var}, {base})")
            else:
                exprs.append(f"_dyn_bytes(raw, {var}, {base})")
        elif f.is_array:
            if f.is_string:
                env[f"_s{i}"] = _StringField()
                exprs.append(f"_s{i}.fixed(raw, {f.offset}, {f.size})")
            else:
                exprs.append(f"bytearray(raw[{f.offset}:{f.offset + f.size}])")
        elif f.size in (1, 2, 4, 8):
            code = {1: "B", 2: "H", 4: "I", 8: "q" if f.signed else "Q"}[f.size]
            reads.append((f.offset, code, var))
            exprs.append(var)
        else:
            exprs.append("0")
    reads.sort()
    fmt = ["<"]
    pos = 0
    names = []
    for off, code, var in reads:
        if off < pos:  # overlapping field: read it separately
            exprs = [e.replace(var, f"struct.unpack_from('<{code}', raw, {off})[0]") for e in exprs]
            continue
        if off > pos:
            fmt.append(f"{off - pos}x")
        fmt.append(code)
        pos = off + struct.calcsize("<" + code)
        names.append(var)
    env["struct"] = struct
    return "".join(fmt), names, exprs, env


class _Context:
    """What perf passes as `context`: answers perf_trace_context calls for an event."""

    __slots__ = ("sample",)

    def __init__(self) -> None:
        self.sample: Optional[tuple] = None


def _common_field(ctx: Any, name: str, default: Optional[int] = None) -> int:
    item = ctx if isinstance(ctx, tuple) else getattr(ctx, "sample", None)
    smp = item[3].parse(item[2], item[1]) if item is not None else None
    if smp is None or smp[S_RAW] is None or smp[8].tp_format is None:
        if default is not None:
            return default
        raise TypeError(f"{name}: no current tracepoint event")
    f = smp[8].tp_format.field(name)
    if f is None:
        if default is not None:
            return default
        raise TypeError(f"{name}: the event has no such field")
    return int.from_bytes(smp[S_RAW][f.offset:f.offset + f.size], "little", signed=f.signed)


def _context_module(script_ctx: _Context) -> types.ModuleType:
    m = types.ModuleType("perf_trace_context", "scripthost's perf_trace_context (perf 6.1 API)")
    m.common_pc = lambda ctx: _common_field(ctx, "common_preempt_count")  # type: ignore[attr-defined]
    m.common_flags = lambda ctx: _common_field(ctx, "common_flags")  # type: ignore[attr-defined]
    m.common_lock_depth = lambda ctx: _common_field(ctx, "common_lock_depth", 0)  # type: ignore[attr-defined]
    m.perf_sample_insn = lambda ctx: None  # type: ignore[attr-defined]
    m.perf_sample_srcline = lambda ctx: (None, 0)  # type: ignore[attr-defined]
    m.perf_sample_srccode = lambda ctx: (None, 0, None)  # type: ignore[attr-defined]
    m.perf_set_itrace_options = lambda ctx, opts: -1  # type: ignore[attr-defined]
    m.perf_script_context = script_ctx  # type: ignore[attr-defined]
    m.__all__ = ["common_pc", "common_flags", "common_lock_depth", "perf_sample_insn",  # type: ignore[attr-defined]
                 "perf_sample_srcline", "perf_sample_srccode", "perf_set_itrace_options"]
    return m


class PythonRuntime(Runtime):
    """Runs a Python trace script in this interpreter."""

    language = "python"

    def __init__(self, script: str, args: list[str]) -> None:
        super().__init__(script, args)
        self.ctx = _Context()
        self.globals: dict[str, Any] = {}
        self.session: Optional[Session] = None
        self._uses_script_context = False
        self._walked: set[int] = set()
        self._named: dict[Evsel, tuple[str, bytes]] = {}  # perf_sample_dict's ev_name and attr

    # -- loading ---------------------------------------------------------------------

    def load(self) -> None:
        path = self.script
        try:
            source = Path(path).read_bytes()
        except FileNotFoundError:
            raise ScripthostError(f"cannot open python script {path!r}: no such file "
                                  "(`scripthost trace -l` lists installed scripts)") from None
        except OSError as e:
            raise ScripthostError(f"cannot open python script {path!r}: {e.strerror}") from None
        os.environ["PERF_EXEC_PATH"] = exec_path()
        sys.modules["perf_trace_context"] = _context_module(self.ctx)
        main = types.ModuleType("__main__")
        main.__file__ = path
        main.__dict__["__builtins__"] = builtins
        sys.modules["__main__"] = main
        self.globals = main.__dict__
        sys.argv = [path] + self.args
        sys.path.insert(0, os.path.dirname(os.path.abspath(path)))
        if not any(isinstance(f, _PerfLibFinder) for f in sys.meta_path):
            sys.meta_path.append(_PerfLibFinder())
        self._uses_script_context = b"perf_script_context" in source
        try:
            code = compile(source, path, "exec")
            exec(code, self.globals)
        except SystemExit:
            raise
        except KeyboardInterrupt:
            raise
        except ImportError as e:  # what the script needs is missing here: one line says what
            if isinstance(e, ModuleNotFoundError) and _own_module(e):
                print_script_traceback(e)
                raise ScriptError(f"error running python script {path}", 255) from None
            need = (f"it needs the Python module {e.name!r}, which is not installed"
                    if isinstance(e, ModuleNotFoundError) and e.name else str(e))
            raise ScriptError(f"{os.path.basename(path)} cannot run here: {need}", 255) from None
        except BaseException as e:
            print_script_traceback(e)
            raise ScriptError(f"error running python script {path}", 255) from None
        self.globals["perf_script_context"] = self.ctx

    def _call(self, name: str, *args: Any) -> None:
        fn = self.globals.get(name)
        if callable(fn):
            fn(*args)

    # -- Consumer hooks --------------------------------------------------------------

    def begin(self, session: Session) -> None:
        self.session = session
        iv = self.globals.get("SCRIPTHOST_INTERVAL")
        if iv:
            self.interval_ns = int(float(iv) * 1e9)
        self._call("trace_begin")

    def lost(self, kind: str, count: int) -> None:
        self._call("trace_lost", kind, count)

    def tick(self, now_ns: int) -> None:
        self._call("trace_interval")

    def end(self, session: Session) -> None:
        sys.stdout.flush()
        self.ending = True  # what raises from here on is trace_end's
        self._call("trace_end")
        sys.stdout.flush()

    def handler(self, ev: Evsel) -> Optional[Callable[[tuple], Any]]:
        s = self.session
        assert s is not None
        os.environ["SCRIPTHOST_ARCH"] = s.arch
        if not ev.is_tracepoint:
            fn = self.globals.get("process_event")
            if not callable(fn):
                return None
            return compile_handler(["    fn(sample_dict(item))"], {"fn": fn, "sample_dict": self.sample_dict}, _GEN)
        fmt = ev.tp_format
        if fmt is None:
            return None
        self._walk_defines(fmt)
        event_name = f"{fmt.system}__{fmt.name}"
        fn = self.globals.get(event_name)
        if callable(fn):
            return self._build_handler(ev, fn, event_name)
        fn = self.globals.get("trace_unhandled")
        if callable(fn):
            return self._build_unhandled(ev, fn, event_name)
        return None

    def _walk_defines(self, fmt: Any) -> None:
        if fmt.id in self._walked:
            return
        self._walked.add(fmt.id)
        from scripthost.engine.printfmt import PrintFormat
        g = self.globals

        def cb(name: str) -> Callable[..., None]:
            def call(*a: Any) -> None:
                f = g.get(name)
                if callable(f):
                    f(*a)
            return call
        PrintFormat(fmt, None).walk_defines(cb("define_flag_field"), cb("define_flag_value"),
                                            cb("define_symbolic_field"), cb("define_symbolic_value"),
                                            f"{fmt.system}__{fmt.name}")

    def _decoder_source(self, ev: Evsel) -> tuple[list[str], list[str], dict[str, Any]]:
        """Source lines that bind cpu, t, c (comm), _cpid and the field variables
        for one queue item, and the field expressions, for an evsel."""
        fields = ev.tp_format.fields
        sfmt, names, exprs, env = field_value_plan(fields)
        env.update(comms=self.session.comms, StreamError=StreamError, parse=ev.parse,
                   EVNAME=ev.tp_format.full_name, struct=struct)
        fast = ev.fixed_struct(["tid", "time", "cpu", "raw_size"], extra=sfmt)
        uses_raw = any("raw" in e for e in exprs)
        if fast is not None:
            raw_off = ev.fixed_layout["raw"][0]
            env["S"] = fast
            targets = ", ".join(["tid", "t", "cpu", "rs"] + names)
            lines = ["    pos = item[1]", "    buf = item[2]", "    try:",
                     f"        {targets} = S.unpack_from(buf, pos)"]
            if uses_raw:
                lines.append(f"        raw = buf[pos + {raw_off}:pos + {raw_off} + rs]")
        else:
            env["S"] = struct.Struct(sfmt)
            targets = ", ".join(names) + ("," if len(names) == 1 else "")
            lines = ["    try:", "        smp = parse(item[2], item[1])",
                     "        t = smp[0]", "        cpu = smp[1]", "        tid = smp[3]", "        raw = smp[6]",
                     f"        {targets} = S.unpack_from(raw, 0)"]
        lines += ["    except struct.error:",
                  "        raise StreamError('corrupt tracepoint data for ' + EVNAME) from None",
                  "    c = comms.get(tid)", "    if c is None:", "        c = ':%d' % tid"]
        if self._uses_script_context:
            lines.append("    ctxobj.sample = item")
        return lines, exprs, env

    def _build_handler(self, ev: Evsel, fn: Callable, event_name: str) -> Callable[[tuple], Any]:
        lines, exprs, env = self._decoder_source(ev)
        nargs = 8 + len(exprs)
        code = getattr(fn, "__code__", None)
        want_dict = code is not None and code.co_argcount == nargs + 1
        env.update(fn=fn, NAME=event_name, rt=self, ctxobj=self.ctx)
        chain = "rt.callchain(item)" if ev.sample_type & SampleType.CALLCHAIN else "[]"
        args = ["NAME", "item", "cpu", "t // 1000000000", "t % 1000000000", "_cpid", "c", chain] + exprs
        if want_dict:
            args.append("rt.sample_dict(item)")
        return compile_handler(lines + [f"    fn({', '.join(args)})"], env, _GEN)

    def _build_unhandled(self, ev: Evsel, fn: Callable, event_name: str) -> Callable[[tuple], Any]:
        lines, exprs, env = self._decoder_source(ev)
        code = getattr(fn, "__code__", None)
        want_dict = code is not None and code.co_argcount == 4
        env.update(fn=fn, NAME=event_name, rt=self, ctxobj=self.ctx)
        items = ["'common_cpu': cpu", "'common_s': t // 1000000000",
                 "'common_ns': t % 1000000000", "'common_pid': _cpid", "'common_comm': c",
                 "'common_callchain': " + ("rt.callchain(item)" if ev.sample_type & SampleType.CALLCHAIN else "[]")]
        items += [f"{f.name!r}: {e}" for f, e in zip(ev.tp_format.fields, exprs)]
        body = lines + [
            "    ctxobj.sample = item",
            f"    d = {{{', '.join(items)}}}",
            "    fn(NAME, item, d, rt.sample_dict(item))" if want_dict else "    fn(NAME, item, d)",
        ]
        return compile_handler(body, env, _GEN)

    def sample_dict(self, item: tuple) -> dict[str, Any]:
        """perf_sample_dict as perf 6.1 builds it (keys in its order), for a queue item."""
        ev: Evsel = item[3]
        smp = ev.parse(item[2], item[1])
        s = self.session
        assert s is not None
        cpumode = item[2][item[1] + 4] & 7  # the record's misc
        # the fields below beyond the parsed tuple's (their defaults when not sampled)
        f = ev.sample_fields(smp[S_BUF], smp[S_POS]) if ev.sample_type & _DICT_EXTRAS else {}
        sample = {
            # perf 6.1 passes pid signed and tid as its u32 (-1 arrives as 4294967295)
            "pid": smp[S_PID], "tid": smp[S_TID] & 0xFFFFFFFF, "cpu": smp[S_CPU] & 0xFFFFFFFF, "ip": smp[S_IP],
            "time": smp[S_TIME], "period": smp[S_PERIOD], "phys_addr": f.get("phys_addr", 0),
            "addr": f.get("addr", 0), "values": f.get("values") or [(0, 0, 0)],
            "weight": f.get("weight", 0), "transaction": f.get("transaction", 0),
            "datasrc": f.get("data_src", 84410401),
            "datasrc_decode": "|OP N/A|LVL N/A|SNP N/A|TLB N/A|LCK N/A|BLK  N/A",
            "cpumode": cpumode,
        }
        if "time_enabled" in f:
            sample["time_enabled"] = f["time_enabled"]
        if "time_running" in f:
            sample["time_running"] = f["time_running"]
        named = self._named.get(ev)
        if named is None:
            named = self._named[ev] = (s.evsel_name(ev), ev.attr_bytes.ljust(128, b"\0")[:128])
        tid = smp[S_TID]
        comm = s.comms.get(tid)
        d: dict[str, Any] = {"ev_name": named[0], "attr": named[1], "sample": sample,
                             "raw_buf": bytes(smp[S_RAW]) if smp[S_RAW] is not None else b"",
                             "comm": comm if comm is not None else f":{tid}"}
        loc = s.machine.resolve(smp[S_PID], cpumode, smp[S_IP])
        m = loc.map
        if m is not None:
            d["dso"] = m.dso.name
            d["dso_bid"] = m.dso.build_id
            d["dso_map_start"] = m.start
            d["dso_map_end"] = m.end
        if loc.sym is not None:
            d["symbol"] = loc.sym.name
            d["symoff"] = loc.addr - loc.sym.start
        d["callchain"] = _frames(s.machine.callchain(smp[S_PID], cpumode, smp[S_CALLCHAIN]))
        d["brstack"] = []
        d["brstacksym"] = []
        d["iregs"] = ""
        d["uregs"] = ""
        return d

    def callchain(self, item: tuple) -> list[dict[str, Any]]:
        """common_callchain: a sample's callchain as perf's list of frame dicts."""
        return _frames(self.session.callchain(item))


def _frames(locs: Any) -> list[dict[str, Any]]:
    """Callchain entries as perf's Python frame dicts (new ones every time: a script may
    change them)."""
    out = []
    for loc in locs:
        sym, m = loc.sym, loc.map
        if sym is not None:
            frame = {"ip": loc.ip, "sym": {"start": sym.start, "end": sym.end, "binding": sym.binding,
                                           "name": sym.name},
                     "sym_off": loc.addr - sym.start}
        else:
            frame = {"ip": loc.ip}
        if m is not None:
            frame["dso"] = m.dso.name
        out.append(frame)
    return out


_DICT_EXTRAS = (SampleType.ADDR | SampleType.READ | SampleType.WEIGHT | SampleType.WEIGHT_STRUCT
                | SampleType.DATA_SRC | SampleType.TRANSACTION | SampleType.PHYS_ADDR)


def print_script_traceback(e: BaseException) -> None:
    """The script's traceback, without scripthost's own frames."""
    tb = e.__traceback__
    while tb is not None and (tb.tb_frame.f_code.co_filename.startswith(_PKG_DIR)
                              or tb.tb_frame.f_code.co_filename == _GEN):
        tb = tb.tb_next
    sys.stdout.flush()
    traceback.print_exception(type(e), e, tb, file=sys.stderr)
    sys.stderr.flush()
