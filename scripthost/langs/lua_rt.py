"""Lua scripts through lupa: LuaJIT where lupa has it, Lua 5.4 otherwise.

Handlers use perf's Python convention: `sys__event(event_name, context,
common_cpu, common_secs, common_nsecs, common_pid, common_comm,
common_callchain, fields...)`.  Each event is decoded in Python by a handler
generated once per event type (one precompiled Struct) and passed in one lupa
call; measured at ~0.3 us per call, cheaper than batching strings for Lua to
unpack again.  Strings arrive as Lua strings byte for byte; numeric arrays as
Lua strings of their raw bytes; integers of 2^53 and more as LuaJIT
`uint64_t` cdata (exact) or, on Lua 5.4, as native 64-bit integers (values
from 2^63 wrap to negative, two's complement).
"""

from __future__ import annotations

import errno
import struct
from pathlib import Path
from typing import Any, Callable, Optional

from scripthost.engine.attrs import Evsel
from scripthost.engine.session import Session
from scripthost.errors import ScripthostError, StreamError
from scripthost.langs.base import Runtime, ScriptError

__all__ = ["LuaRuntime", "lua_implementation"]

PRELUDE = Path(__file__).resolve().parent / "lua" / "prelude.lua"
_GEN = "<scripthost lua handler>"
_BIG = 1 << 53


def _new_runtime() -> tuple[Any, str]:
    try:
        import lupa.luajit21 as lupa_mod  # type: ignore[import-not-found]
        kind = "LuaJIT"
    except ImportError:
        try:
            import lupa.lua54 as lupa_mod  # type: ignore[import-not-found]
            kind = "Lua 5.4"
        except ImportError:
            try:
                import lupa as lupa_mod  # type: ignore[import-not-found,no-redef]
                kind = "Lua"
            except ImportError:
                raise ScripthostError("lupa is not installed: `pip install lupa` to run Lua scripts") from None
    return lupa_mod, kind


def lua_implementation() -> str:
    """Which Lua lupa gives us here: "LuaJIT" or "Lua 5.4"."""
    return _new_runtime()[1]


class LuaRuntime(Runtime):
    """Runs a Lua trace script inside this process."""

    language = "lua"

    def __init__(self, script: str, args: list[str]) -> None:
        super().__init__(script, args)
        self.lua: Any = None
        self.kind = ""
        self.g: Any = None
        self.session: Optional[Session] = None
        self._walked: set[int] = set()
        self._ctx = _Context()
        self._encoded: dict[str, bytes] = {}  # comm -> its bytes, shared by every handler

    def load(self) -> None:
        try:
            source = Path(self.script).read_bytes()
        except FileNotFoundError:
            raise ScripthostError(f"cannot open lua script {self.script!r}: no such file "
                                  "(`scripthost trace -l` lists installed scripts)") from None
        mod, self.kind = _new_runtime()
        self.lua = mod.LuaRuntime(unpack_returned_tuples=True, encoding="utf-8")
        self._lua_error = mod.LuaError  # each lupa flavour has its own exception class
        self.g = self.lua.globals()
        self._run_chunk(PRELUDE.read_bytes(), "@" + str(PRELUDE))
        self.g.arg = self.lua.table_from({i + 1: a.encode() for i, a in enumerate(self.args)})
        self.g.arg[0] = self.script.encode()
        self.g.ERRNO_NAMES = self.lua.table_from({k: v.encode() for k, v in errno.errorcode.items()})
        self.g.scripthost_context_field = self._context_field
        if self.kind == "LuaJIT":
            self._big = self.lua.eval(
                "(function() local ffi = require('ffi') return function(hi, lo) "
                "return ffi.new('uint64_t', hi) * 4294967296ULL + lo end end)()")
        else:
            self._big = None
        self._wrap = self.lua.eval(
            "function(h) return function(...) local ok, err = xpcall(h, debug.traceback, ...) "
            "if not ok then error(err, 0) end end end")
        self._run_chunk(source, "@" + self.script)
        self.g.common_pc = lambda ctx: self._context_field(ctx, "common_preempt_count")
        self.g.common_flags = lambda ctx: self._context_field(ctx, "common_flags")
        self.g.common_lock_depth = lambda ctx: self._context_field(ctx, "common_lock_depth")

    def _run_chunk(self, source: bytes, name: str) -> None:
        loader = self.lua.eval("function(src, name) local f, err = load(src, name) "
                               "if not f then error(err, 0) end "
                               "local ok, e = xpcall(f, debug.traceback) if not ok then error(e, 0) end end")
        try:
            loader(source, name.encode())
        except self._lua_error as e:
            import sys
            sys.stderr.write(_text(e) + "\n")
            raise ScriptError(f"error running lua script {self.script}", 255) from None

    def _context_field(self, ctx: Any, name: str) -> int:
        try:
            item = ctx.item
            ev = item[3]
            smp = ev.parse(item[2], item[1])
            f = ev.tp_format.field(name)
        except (TypeError, IndexError, AttributeError):
            return 0
        if f is None:
            return 0
        return int.from_bytes(smp[6][f.offset:f.offset + f.size], "little", signed=f.signed)

    def _num(self, v: int) -> Any:
        """An integer Lua can hold exactly."""
        if -_BIG < v < _BIG:
            return v
        v &= (1 << 64) - 1
        if self._big is not None:
            return self._big(v >> 32, v & 0xFFFFFFFF)
        return v - (1 << 64) if v >> 63 else v

    def _call(self, name: str, *args: Any) -> None:
        fn = self.g[name]
        if fn is not None:
            self._protect(lambda: self._wrap(fn)(*args))

    def _protect(self, call: Callable[[], Any]) -> None:
        try:
            call()
        except self._lua_error as e:
            self._failed(e)

    # -- Consumer hooks --------------------------------------------------------------

    def begin(self, session: Session) -> None:
        self.session = session
        from scripthost.syscalls import table_for
        self.g.SYSCALL_NAMES = self.lua.table_from({k: v.encode() for k, v in table_for(session.arch).items()})
        iv = self.g.SCRIPTHOST_INTERVAL
        if iv:
            self.interval_ns = int(float(iv) * 1e9)
        self._call("trace_begin")

    def lost(self, kind: str, count: int) -> None:
        self._call("trace_lost", kind.encode(), count)

    def tick(self, now_ns: int) -> None:
        self._call("trace_interval")

    def end(self, session: Session) -> None:
        self._call("trace_end")
        import sys
        sys.stdout.flush()

    def handler(self, ev: Evsel) -> Optional[Callable[[tuple], Any]]:
        fmt = ev.tp_format
        if not ev.is_tracepoint or fmt is None:
            return None
        name = f"{fmt.system}__{fmt.name}"
        if fmt.id not in self._walked:
            self._walked.add(fmt.id)
            from scripthost.engine.printfmt import PrintFormat
            g = self.g
            PrintFormat(fmt, None).walk_defines(
                lambda e, f, d: g.define_flag_field(e.encode(), f.encode(), d.encode()),
                lambda e, f, v, s: g.define_flag_value(e.encode(), f.encode(), self._num(v), s.encode()),
                lambda e, f: g.define_symbolic_field(e.encode(), f.encode()),
                lambda e, f, v, s: g.define_symbolic_value(e.encode(), f.encode(), self._num(v), s.encode()),
                name)
        fn = self.g[name]
        unhandled = fn is None
        if unhandled:
            fn = self.g.trace_unhandled
            if fn is None:
                return None
        return self._build(ev, self._wrap(fn), name, unhandled)

    def _build(self, ev: Evsel, fn: Any, name: str, unhandled: bool) -> Callable[[tuple], Any]:
        fields = ev.tp_format.fields
        reads: list[tuple[int, str, str]] = [(4, "i", "_cpid")]
        exprs: list[str] = []
        for i, f in enumerate(fields):
            var = f"_v{i}"
            if f.is_dynamic or f.is_relative:
                reads.append((f.offset, "I", var))
                base = f.offset + 4 if f.is_relative else 0
                if not f.is_array:
                    exprs.append(var)
                else:
                    sl = f"raw[({var} & 0xFFFF) + {base}:({var} & 0xFFFF) + {base} + ({var} >> 16)]"
                    exprs.append(f"{sl}.split(b'\\0', 1)[0]" if f.is_string else sl)
            elif f.is_array:
                sl = f"raw[{f.offset}:{f.offset + f.size}]"
                exprs.append(f"{sl}.split(b'\\0', 1)[0]" if f.is_string else sl)
            elif f.size in (1, 2, 4, 8):
                code = {1: "b", 2: "h", 4: "i", 8: "q"}[f.size] if f.signed else {1: "B", 2: "H", 4: "I", 8: "Q"}[f.size]
                reads.append((f.offset, code, var))
                exprs.append(f"({var} if -BIG < {var} < BIG else num({var}))" if f.size == 8 else var)
            else:
                exprs.append("0")
        reads.sort()
        sfmt, at, names = "<", 0, []
        for off, code, var in reads:
            if off < at:
                exprs = [e.replace(var, f"struct.unpack_from('<{code}', raw, {off})[0]") for e in exprs]
                continue
            sfmt += (f"{off - at}x" if off > at else "") + code
            at = off + struct.calcsize("<" + code)
            names.append(var)
        fast = ev.fixed_struct(["tid", "time", "cpu", "raw_size"], extra=sfmt)
        env = {"fn": fn, "NAME": name.encode(), "comms": self.session.comms, "num": self._num,
               "struct": struct, "parse": ev.parse, "StreamError": StreamError, "lua": self.lua,
               "LuaError": self._lua_error, "rt": self, "CTX": self._ctx, "CC": self.lua.table(),
               "BIG": _BIG, "ENC": self._encoded}
        targets = ["tid", "t", "cpu", "rs"] + names
        if fast is not None:
            raw_off = ev.fixed_layout["raw"][0]
            env["S"] = fast
            decode = ["    pos = item[1]", "    buf = item[2]", "    try:",
                      f"        {', '.join(targets)} = S.unpack_from(buf, pos)"]
            if any("raw" in e for e in exprs):
                decode.append(f"        raw = buf[pos + {raw_off}:pos + {raw_off} + rs]")
        else:
            env["S"] = struct.Struct(sfmt)
            decode = ["    try:", "        smp = parse(item[2], item[1])", "        raw = smp[6]",
                      "        t, cpu, tid = smp[0], smp[1], smp[3]",
                      f"        {', '.join(names)}{',' if len(names) == 1 else ''} = S.unpack_from(raw, 0)"]
        decode += ["    except struct.error:", "        raise StreamError('corrupt tracepoint data') from None",
                   "    c = comms.get(tid)",
                   "    if c is None:",
                   "        c = ':%d' % tid",
                   "    cb = ENC.get(c)",
                   "    if cb is None:",
                   "        cb = ENC[c] = c.encode('utf-8', 'surrogateescape')",
                   "    CTX.item = item"]
        common = ["NAME", "CTX", "cpu", "t // 1000000000", "t % 1000000000", "_cpid", "cb", "CC"]
        if unhandled:
            keys = ["common_cpu", "common_s", "common_ns", "common_pid", "common_comm", "common_callchain"]
            pairs = [f"{k.encode()!r}: {v}" for k, v in zip(keys, common[2:])]
            pairs += [f"{f.name.encode()!r}: {e}" for f, e in zip(fields, exprs)]
            call = f"fn(NAME, CTX, lua.table_from({{{', '.join(pairs)}}}))"
        else:
            call = f"fn({', '.join(common + exprs)})"
        src = ["def h(item):"] + decode + ["    try:", f"        {call}", "    except LuaError as e:",
                                          "        rt._failed(e)"]
        exec(compile("\n".join(src), _GEN, "exec"), env)
        return env["h"]

    def _failed(self, e: BaseException) -> None:
        import sys
        sys.stdout.flush()
        sys.stderr.write(_text(e) + "\n")
        raise ScriptError(f"a handler in {self.script} raised a Lua error; stopped") from None


class _Context:
    """The `context` Lua handlers receive: one object, pointing at the current event."""

    __slots__ = ("item",)

    def __init__(self) -> None:
        self.item: Any = None


def _text(e: BaseException) -> str:
    msg = e.args[0] if e.args else str(e)
    return msg.decode("utf-8", "replace") if isinstance(msg, bytes) else str(msg)
