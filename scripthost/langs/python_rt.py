"""Python scripts in-process, with perf 6.1's calling convention.

A handler gets perf's argument list: event_name, context, common_cpu,
common_secs, common_nsecs, common_pid, common_comm, common_callchain, the fields
in format order, and perf_sample_dict when the handler's arity asks for it.
Where it can, the native core builds those arguments and calls the handler
itself (`PythonRuntime.plan`); otherwise a small decoder is generated once per
event type (Python source compiled with `exec`).  Both follow `field_kinds`.
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

from scripthost.engine import _core
from scripthost.engine.attrs import S_EVSEL, S_RAW, Evsel
from scripthost.engine.codegen import compile_handler, struct_reads, tracepoint_decoder
from scripthost.engine.generated import generated_base
from scripthost.engine.source import record_fault
from scripthost.engine.tpformat import payload_need
from scripthost.engine.layouts import SampleType
from scripthost.engine.session import Session
from scripthost.errors import ScriptError, ScripthostError
# at import time: the finder below may first run inside a script's `import subprocess`,
# which perf_exec_path needs whole (subprocess imports msvcrt before it defines run)
from scripthost.exec_paths import exec_path, perf_exec_path
from scripthost.langs.base import Runtime
from scripthost.langs.sample_dict import SampleDicts, frames

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
            type(self)._dirs = []  # perf_exec_path's own imports may ask us again
            root = perf_exec_path()
            lib = root / "scripts" / "python" / "Perf-Trace-Util" / "lib" / "Perf" / "Trace" if root else None
            type(self)._dirs = [str(lib)] if lib is not None and lib.is_dir() else []
        if not self._dirs:
            return None
        import importlib.machinery
        return importlib.machinery.PathFinder.find_spec(name, self._dirs)


#: perf_trace_context's calls that read the event through `context`
_CONTEXT_CALLS = (b"common_pc", b"common_flags", b"common_lock_depth", b"perf_sample_insn",
                  b"perf_sample_srcline", b"perf_sample_srccode", b"perf_set_itrace_options")


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


def field_kinds(fields: list) -> list[tuple[int, int, int, int]]:
    """How perf 6.1 gives each tracepoint field to Python, as the native core's plans
    take it: (kind, offset, size, base) with kind one of engine._core's FIELD_*."""
    out = []
    for f in fields:
        if f.is_dynamic or f.is_relative:
            base = f.offset + 4 if f.is_relative else 0
            kind = (_core.FIELD_STR_DYN if f.is_string else _core.FIELD_BYTES_DYN) if f.is_array \
                else _core.FIELD_DYN_LOC
            out.append((kind, f.offset, 4, base))
        elif f.is_array:
            out.append((_core.FIELD_STR if f.is_string else _core.FIELD_BYTES, f.offset, f.size, 0))
        elif f.size in (1, 2, 4, 8):
            out.append((_core.FIELD_INT64 if f.size == 8 and f.signed else _core.FIELD_UINT, f.offset, f.size, 0))
        else:
            out.append((_core.FIELD_ZERO, f.offset, f.size, 0))
    return out


_STRUCT_CODES = {1: "B", 2: "H", 4: "I", 8: "Q"}


def field_value_plan(fields: list) -> tuple[str, list[str], list[tuple[int, str, str]], list[str], dict[str, Any]]:
    """The same conversions (`field_kinds`) as Python source, for handlers the native
    core does not call itself.

    Returns (struct format, unpack target names, the (offset, code, name) reads that
    overlap an earlier one, one expression per field, names the expressions need).  The struct starts at raw offset 0 and also reads
    ``common_pid`` into ``_cpid``.
    """
    env: dict[str, Any] = {"_dyn_bytes": _dyn_bytes, "bytearray": bytearray}
    reads: list[tuple[int, str, str]] = [(4, "i", "_cpid")]  # common_pid
    exprs: list[str] = []
    for i, (kind, off, size, base) in enumerate(field_kinds(fields)):
        var = f"_v{i}"
        if kind in (_core.FIELD_DYN_LOC, _core.FIELD_STR_DYN, _core.FIELD_BYTES_DYN):
            reads.append((off, "I", var))
            if kind == _core.FIELD_DYN_LOC:
                exprs.append(var)
            elif kind == _core.FIELD_STR_DYN:
                env[f"_s{i}"] = _StringField()
                exprs.append(f"_s{i}.dynamic(raw, {var}, {base})")
            else:
                exprs.append(f"_dyn_bytes(raw, {var}, {base})")
        elif kind == _core.FIELD_STR:
            env[f"_s{i}"] = _StringField()
            exprs.append(f"_s{i}.fixed(raw, {off}, {size})")
        elif kind == _core.FIELD_BYTES:
            exprs.append(f"bytearray(raw[{off}:{off + size}])")
        elif kind == _core.FIELD_ZERO:
            exprs.append("0")
        else:
            reads.append((off, "q" if kind == _core.FIELD_INT64 else _STRUCT_CODES[size], var))
            exprs.append(var)
    fmt, names, over = struct_reads(reads)
    env["struct"] = struct
    return fmt, names, over, exprs, env


class _Context:
    """What perf passes as `context`: answers perf_trace_context calls for an event."""

    __slots__ = ("sample",)

    def __init__(self) -> None:
        self.sample: Optional[tuple] = None


def _common_field(ctx: Any, name: str, default: Optional[int] = None) -> int:
    item = ctx if isinstance(ctx, tuple) else getattr(ctx, "sample", None)
    smp = item[3].parse(item[2], item[1]) if item is not None else None
    if smp is None or smp[S_RAW] is None or smp[S_EVSEL].tp_format is None:
        if default is not None:
            return default
        raise TypeError(f"{name}: no current tracepoint event")
    f = smp[S_EVSEL].tp_format.field(name)
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
        self._uses_context = False  # the script may pass `context` to perf_trace_context
        self._walked: set[int] = set()
        self.sample_dict: Optional[SampleDicts] = None

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
        self._uses_context = self._uses_script_context or any(n in source for n in _CONTEXT_CALLS)
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
        self.sample_dict = SampleDicts(session)
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

    def plan(self, ev: Evsel) -> Optional[tuple]:
        """The native core's plan for ``ev``'s handler, where the core can build its
        arguments alone: a tracepoint handled by name, its sample fields at fixed offsets,
        and none of what needs the event as a Python object (a callchain, the sample dict,
        perf_trace_context's calls); or a sampled event's process_event(param_dict), its
        dict built by the core (`SampleDicts.plan`)."""
        if not ev.is_tracepoint:
            fn = self.globals.get("process_event")
            return self.sample_dict.plan(ev, fn, self.handler(ev)) if callable(fn) else None
        if self._uses_context or not ev.is_tracepoint or ev.tp_format is None \
                or ev.sample_type & SampleType.CALLCHAIN:
            return None
        lay = ev.fixed_layout
        if not all(k in lay for k in ("tid", "time", "cpu", "raw_size")):
            return None
        fmt = ev.tp_format
        event_name = f"{fmt.system}__{fmt.name}"
        fn = self.globals.get(event_name)
        code = getattr(fn, "__code__", None)
        if not callable(fn) or (code is not None and code.co_argcount == 9 + len(fmt.fields)):
            return None  # no handler by name, or one that takes perf_sample_dict
        self._walk_defines(fmt)
        os.environ["SCRIPTHOST_ARCH"] = self.session.arch
        return (fn, event_name, self.ctx, self.session.comms, record_fault, lay["tid"][0], lay["time"][0],
                lay["cpu"][0], lay["raw_size"][0], field_kinds(fmt.fields))

    def _walk_defines(self, fmt: Any) -> None:
        if fmt.id in self._walked:
            return
        self._walked.add(fmt.id)
        from scripthost.engine.printfmt import DefineCalls, PrintFormat
        g = self.globals

        def cb(name: str) -> Callable[..., None]:
            def call(*a: Any) -> None:
                f = g.get(name)
                if callable(f):
                    f(*a)
            return call
        self.defines.walk(PrintFormat(fmt, None).args, f"{fmt.system}__{fmt.name}",
                           DefineCalls(cb("define_flag_field"), cb("define_flag_value"),
                                       cb("define_symbolic_field"), cb("define_symbolic_value")))

    def _decoder_source(self, ev: Evsel) -> tuple[list[str], list[str], dict[str, Any]]:
        """Source lines that bind cpu, t, c (comm), _cpid and the field variables
        for one queue item, and the field expressions, for an evsel.  A payload that runs
        past its record, or that lacks a field, is the core's fault (the C plan's words)."""
        fields = ev.tp_format.fields
        sfmt, names, over, exprs, env = field_value_plan(fields)
        # in the native core's words (`plan`)
        lines, decode_env = tracepoint_decoder(
            ev, sfmt, names, over, any("raw" in e for e in exprs), payload_need(fields),
            f"corrupt tracepoint data for {ev.tp_format.system}__{ev.tp_format.name}: ")
        env.update(decode_env, comms=self.session.comms)
        lines += ["    c = comms.get(tid)", "    if c is None:", "        c = ':%d' % tid"]
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

    def callchain(self, item: tuple) -> list[dict[str, Any]]:
        """common_callchain: a sample's callchain as perf's list of frame dicts."""
        return frames(self.session.callchain(item))


def print_script_traceback(e: BaseException) -> None:
    """The script's traceback, without scripthost's own frames."""
    tb = e.__traceback__
    while tb is not None and (tb.tb_frame.f_code.co_filename.startswith(_PKG_DIR)
                              or generated_base(tb.tb_frame.f_code.co_filename) == _GEN):
        tb = tb.tb_next
    sys.stdout.flush()
    traceback.print_exception(type(e), e, tb, file=sys.stderr)
    sys.stderr.flush()
