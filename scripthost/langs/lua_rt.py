"""Lua scripts through lupa: LuaJIT where lupa has it, Lua 5.4 otherwise.

Handlers use perf's Python convention: `sys__event(event_name, context,
common_cpu, common_secs, common_nsecs, common_pid, common_comm,
common_callchain, fields...)`, and `process_event(param_dict)` for the samples
of events that are not tracepoints, with perf_sample_dict as a table.

Under LuaJIT, events of a fixed sample layout go in batches: the handler the
session calls only queues the event; at the end of each delivered batch (and
before any other hook) Lua gets the input chunks once and arrays of record
positions, and a decoder generated per event type (batch.lua) reads the fields
in place through the FFI.  Other events, and every event on Lua 5.4, are
decoded in Python by a handler generated per event type (one precompiled
Struct) and passed in one lupa call each.  Strings arrive as Lua strings byte for byte; numeric arrays as
Lua strings of their raw bytes; integers of 2^53 and more as LuaJIT
`uint64_t` cdata (exact) or, on Lua 5.4, as native 64-bit integers (values
from 2^63 wrap to negative, two's complement).
"""

from __future__ import annotations

import ctypes
import errno
import struct
from pathlib import Path
from typing import Any, Callable, Optional

from scripthost.engine.attrs import S_RAW, Evsel
from scripthost.engine.codegen import compile_handler, struct_reads, tracepoint_decoder
from scripthost.engine.generated import show_generated
from scripthost.engine.layouts import SampleType, named_tid
from scripthost.engine.session import Session
from scripthost.engine.source import offset_of
from scripthost.engine.tpformat import payload_need
from scripthost.errors import CorruptInput, ScriptError, ScripthostError
from scripthost.langs.base import Runtime
from scripthost.langs.batches import Batch, ChunkSlots
from scripthost.langs.sample_dict import SampleDicts, frames

__all__ = ["LuaRuntime", "lua_implementation"]

PRELUDE = Path(__file__).resolve().parent / "lua" / "prelude.lua"
BATCH = Path(__file__).resolve().parent / "lua" / "batch.lua"
_CONTEXT = ("common_preempt_count", "common_flags", "common_lock_depth")
_LUA_INT = {(1, False): "U8P", (1, True): "I8P", (2, False): "U16P", (2, True): "I16P",
            (4, False): "U32P", (4, True): "I32P"}
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
        self._dicts: Optional[SampleDicts] = None
        self._walked: set[int] = set()
        self._ctx = _Context()
        self._encoded: dict[str, bytes] = {}  # comm -> its bytes, shared by every handler
        self._batch: Any = None               # batch.lua's module table, under LuaJIT
        self._queue: list[tuple] = []         # events queued for the next batch
        self._evidx: dict[Evsel, int] = {}
        self._chunks = ChunkSlots(self._point_at, keep=32)
        self._slot_chunk: dict[int, bytes] = {}  # the chunk each slot points at

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
        if self.kind == "LuaJIT":
            self._batch = self.lua.execute(BATCH.read_text())
            self._run = self.lua.eval(
                "function(M) return function(...) local ok, err = xpcall(M.run, debug.traceback, ...) "
                "if not ok then error(err, 0) end end end")(self._batch)
            in_lua = self.lua.eval(
                "function(M, which, py) return function(ctx) local v = M.context_field(ctx, which) "
                "if v == nil then return py(ctx) end return v end end")
        for which in _CONTEXT:
            py = (lambda w: lambda ctx: self._context_field(ctx, w))(which)
            self.g[which.replace("common_preempt_count", "common_pc")] = (
                in_lua(self._batch, which, py) if self._batch is not None else py)

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
        return int.from_bytes(smp[S_RAW][f.offset:f.offset + f.size], "little", signed=f.signed)

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
        self._dicts = SampleDicts(session)
        if self._batch is not None:
            for tid, comm in session.comms.items():
                self._batch.comms[tid] = comm.encode("utf-8", "surrogateescape")
        from scripthost.syscalls import table_for
        self.g.SYSCALL_NAMES = self.lua.table_from({k: v.encode() for k, v in table_for(session.arch).items()})
        iv = self.g.SCRIPTHOST_INTERVAL
        if iv:
            self.interval_ns = int(float(iv) * 1e9)
        self._call("trace_begin")

    def record(self, rtype: int, misc: int, body: bytes, time: int) -> None:
        tid = named_tid(rtype, body) if self._batch is not None else None
        if tid is not None:
            self.delivered()
            comm = self.session.comms.get(tid) if self.session is not None else None
            self._batch.comms[tid] = comm.encode("utf-8", "surrogateescape") if comm is not None else None

    def lost(self, kind: str, count: int) -> None:
        self.delivered()
        self._call("trace_lost", kind.encode(), count)

    def tick(self, now_ns: int) -> None:
        self.delivered()
        self._call("trace_interval")

    def delivered(self) -> None:
        """Hand the queued events to Lua in one call."""
        q = self._queue
        if not q:
            return
        batch = Batch(q.copy(), self._evidx, self._chunks)
        q.clear()
        self._run_batch(batch.n, batch.slots.tobytes() if batch.slots is not None else None, batch.one_slot,
                        batch.positions.tobytes(), batch.types.tobytes() if batch.types is not None else None,
                        batch.one_type)

    def _run_batch(self, n: int, slots: Optional[bytes], one_slot: int, positions: bytes,
                   types: Optional[bytes], one_type: int) -> None:
        """batch.lua's run over one batch; a record its decoder finds corrupt is our
        one-line fault at the record's offset, any other error the script's."""
        try:
            self._run(n, slots, one_slot, positions, types, one_type)
        except self._lua_error as e:
            if not _text(e).startswith(_CORRUPT):
                self._failed(e)
            i = self._batch.i
            slot = one_slot if slots is None else struct.unpack_from("<H", slots, 2 * i)[0]
            chunk = self._slot_chunk.get(slot)
            at = offset_of(chunk, struct.unpack_from("<I", positions, 4 * i)[0]) if chunk is not None else None
            raise CorruptInput(_text(e).split("\n", 1)[0], at) from None  # without Lua's traceback

    def _point_at(self, slot: int, chunk: Optional[bytes]) -> None:
        # Lua reads the chunk in place: ChunkSlots holds it, so its bytes stay put
        self._batch.set_buf(slot, ctypes.cast(ctypes.c_char_p(chunk), ctypes.c_void_p).value
                            if chunk is not None else None)
        if chunk is None:
            self._slot_chunk.pop(slot, None)
        else:
            self._slot_chunk[slot] = chunk

    def end(self, session: Session) -> None:
        self.delivered()
        self._call("trace_end")
        import sys
        sys.stdout.flush()

    def plan(self, ev: Evsel) -> Optional[int]:
        """Samples LuaJIT decodes in place go to it as the core's arrays (`run_arrays`):
        their event type's index; None for the rest, which `handler` serves."""
        if self._batch is None:
            return None
        found = self._handler_fn(ev)
        if found is None:
            return None
        fn, name, unhandled = found
        decoder = self._lua_decoder(ev, fn, name, unhandled)
        if decoder is None:
            return None
        idx = self._evidx[ev] = len(self._evidx)
        self._batch.decoders[idx] = decoder
        return idx

    def run_arrays(self, n: int, slots: bytes, positions: bytes, types: bytes) -> None:
        """One batch from the core: per event its chunk's slot, position and type."""
        self._run_batch(n, slots, 0, positions, types, 0)

    def publish_chunk(self, slot: int, chunk: bytes) -> None:
        """The core's chunk for ``slot`` (it keeps the chunk alive while the slot has it)."""
        self._point_at(slot, chunk)

    def _handler_fn(self, ev: Evsel) -> Optional[tuple[Any, str, bool]]:
        """(Lua handler, event name, whether it is trace_unhandled) for a tracepoint,
        its define_* walk done; None when nothing handles it."""
        fmt = ev.tp_format
        if not ev.is_tracepoint or fmt is None:
            return None
        name = f"{fmt.system}__{fmt.name}"
        if fmt.id not in self._walked:
            self._walked.add(fmt.id)
            from scripthost.engine.printfmt import DefineCalls, PrintFormat
            g = self.g
            self.defines.walk(PrintFormat(fmt, None).args, name, DefineCalls(
                lambda e, f, d: g.define_flag_field(e.encode(), f.encode(), d.encode()),
                lambda e, f, v, s: g.define_flag_value(e.encode(), f.encode(), self._num(v), s.encode()),
                lambda e, f: g.define_symbolic_field(e.encode(), f.encode()),
                lambda e, f, v, s: g.define_symbolic_value(e.encode(), f.encode(), self._num(v), s.encode())))
        fn = self.g[name]
        unhandled = fn is None
        if unhandled:
            fn = self.g.trace_unhandled
            if fn is None:
                return None
        return fn, name, unhandled

    def handler(self, ev: Evsel) -> Optional[Callable[[tuple], Any]]:
        if not ev.is_tracepoint:
            return self._generic_handler()
        found = self._handler_fn(ev)
        if found is None:
            return None
        fn, name, unhandled = found
        if self._batch is not None:
            decoder = self._lua_decoder(ev, fn, name, unhandled)
            if decoder is not None:
                idx = self._evidx[ev] = len(self._evidx)
                self._batch.decoders[idx] = decoder
                return self._queue.append  # run_handler: self._queue.extend
        return self._after_queue(self._build(ev, self._wrap(fn), name, unhandled))

    def _after_queue(self, per_event: Callable[[tuple], Any]) -> Callable[[tuple], Any]:
        """A handler decoding in Python, run after the events queued for Lua (batches)."""
        if self._batch is None:
            return per_event
        queue, flush = self._queue, self.delivered

        def in_order(item: tuple) -> None:
            if queue:
                flush()
            per_event(item)

        def in_order_run(items: list) -> None:
            if queue:
                flush()
            per_event.run(items)  # type: ignore[attr-defined]
        in_order.run = in_order_run  # type: ignore[attr-defined]
        return in_order

    def _generic_handler(self) -> Optional[Callable[[tuple], Any]]:
        """process_event(param_dict) for a non-tracepoint event, when the script has it."""
        fn = self.g.process_event
        if fn is None:
            return None
        env = {"fn": self._wrap(fn), "table": self._table, "dicts": self._dicts, "rt": self,
               "LuaError": self._lua_error}
        return self._after_queue(compile_handler(
            ["    try:", "        fn(table(dicts(item)))", "    except LuaError as e:", "        rt._failed(e)"],
            env, _GEN))

    def _table(self, v: Any) -> Any:
        """A perf_sample_dict value for Lua: dicts and lists (1-based) as new tables,
        names as their bytes, integers as `_num` gives them."""
        if isinstance(v, dict):
            return self.lua.table_from({_b(k): self._table(x) for k, x in v.items()})
        if isinstance(v, (list, tuple)):
            return self.lua.table_from([self._table(x) for x in v])
        if isinstance(v, str):
            return _b(v)
        if isinstance(v, int) and not isinstance(v, bool):
            return self._num(v)
        return v

    def _lua_decoder(self, ev: Evsel, fn: Any, name: str, unhandled: bool) -> Any:
        """A Lua function decoding one record of ``ev`` in place and calling ``fn``;
        None when the sample layout is not fixed."""
        if ev.fixed_struct(["tid", "time", "cpu", "raw_size"]) is None:
            return None
        lay = ev.fixed_layout
        fmt = ev.tp_format
        need = 8
        lines, exprs = [], []
        for i, f in enumerate(fmt.fields):
            var = f"v{i}"
            if f.is_dynamic or f.is_relative:
                need = max(need, f.offset + 4)
                lines.append(f"local {var} = cast(U32P, raw + {f.offset})[0]")
                if not f.is_array:
                    exprs.append(var)
                    continue
                base = f.offset + 4 if f.is_relative else 0
                lines.append(f"local {var}a = band({var}, 0xFFFF) + {base}")
                lines.append(f"local {var}n = rshift({var}, 16)")
                lines.append(f"if {var}a + {var}n > rs then {var}n = rs - {var}a "
                             f"if {var}n < 0 then {var}n = 0 end end")
                reader = "chars" if f.is_string else "ffistring"
                exprs.append(f"{reader}(raw + {var}a, {var}n)")
            elif f.is_array:
                need = max(need, f.offset + f.size)
                exprs.append(f"{'chars' if f.is_string else 'ffistring'}(raw + {f.offset}, {f.size})")
            elif f.size in (1, 2, 4):
                need = max(need, f.offset + f.size)
                exprs.append(f"cast({_LUA_INT[f.size, bool(f.signed)]}, raw + {f.offset})[0]")
            elif f.size == 8:
                need = max(need, f.offset + 8)
                exprs.append(f"{'i64' if f.signed else 'u64'}(raw + {f.offset})")
            else:
                exprs.append("0")
        ctx = []
        for which in _CONTEXT:
            cf = fmt.field(which)
            if cf is not None and (cf.size, bool(cf.signed)) in _LUA_INT:
                ctx.append(f"{which} = {{{cf.offset}, M.{_LUA_INT[cf.size, bool(cf.signed)]}}}")
        common = ["NAME", "CTX", "cpu", "tonumber(t / 1000000000ULL)", "tonumber(t % 1000000000ULL)",
                  "cast(I32P, raw + 4)[0]", "comm(tid)", "{}"]
        if unhandled:
            keys = ["common_cpu", "common_s", "common_ns", "common_pid", "common_comm", "common_callchain"]
            pairs = [f"[{_lua_str(k)}] = {v}" for k, v in zip(keys, common[2:])]
            pairs += [f"[{_lua_str(f.name)}] = {e}" for f, e in zip(fmt.fields, exprs)]
            call = f"fn(NAME, CTX, {{{', '.join(pairs)}}})"
        else:
            call = f"fn({', '.join(common + exprs)})"
        src = "\n".join([
            "return function(M, fn, NAME)",
            "local ffi, bit = require('ffi'), require('bit')",
            "local cast, ffistring, band, rshift, tonumber = ffi.cast, ffi.string, bit.band, bit.rshift, tonumber",
            "local U8P, U16P, U32P, I8P, I16P, I32P = M.U8P, M.U16P, M.U32P, M.I8P, M.I16P, M.I32P",
            "local U64P = ffi.typeof('const uint64_t *')",
            "local u64, i64, chars, comm, CTX = M.u64, M.i64, M.chars, M.comm, M.CTX",
            f"local OFFS = {{{', '.join(ctx)}}}",
            "return function(q)",
            f"  local room = cast(U16P, q + 6)[0] - {lay['raw'][0]}",  # the record holds its payload's size
            f"  local rs = room >= 0 and cast(U32P, q + {lay['raw_size'][0]})[0] or 0",
            f"  if rs > room then error({_lua_str(_corrupt(fmt) + 'the payload runs past its sample')}, 0) end",
            f"  if rs < {need} then error({_lua_str(_corrupt(fmt) + 'a field runs past the payload')}, 0) end",
            f"  local tid = cast(I32P, q + {lay['tid'][0]})[0]",
            f"  local t = cast(U64P, q + {lay['time'][0]})[0]",
            f"  local cpu = cast(U32P, q + {lay['cpu'][0]})[0]",
            f"  local raw = q + {lay['raw'][0]}",
            "  M.cur, M.cur_off = raw, OFFS",
            *("  " + line for line in lines),
            f"  {call}",
            "end end"])
        show_generated(src, f"<lua handler {name}>", ".lua")
        make = self.lua.execute(src)
        return make(self._batch, fn, name.encode())

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
        sfmt, names, over = struct_reads(reads)
        decode, env = tracepoint_decoder(ev, sfmt, names, over, any("raw" in e for e in exprs),
                                         payload_need(fields), _corrupt(ev.tp_format))
        env.update({"fn": fn, "NAME": name.encode(), "comms": self.session.comms, "num": self._num,
                    "lua": self.lua, "LuaError": self._lua_error, "rt": self, "CTX": self._ctx,
                    "BIG": _BIG, "ENC": self._encoded})
        decode += ["    c = comms.get(tid)",
                   "    if c is None:",
                   "        c = ':%d' % tid",
                   "    cb = ENC.get(c)",
                   "    if cb is None:",
                   "        cb = ENC[c] = c.encode('utf-8', 'surrogateescape')",
                   "    CTX.item = item"]
        chain = "rt.callchain(item)" if ev.sample_type & SampleType.CALLCHAIN else "lua.table()"
        common = ["NAME", "CTX", "cpu", "t // 1000000000", "t % 1000000000", "_cpid", "cb", chain]
        if unhandled:
            keys = ["common_cpu", "common_s", "common_ns", "common_pid", "common_comm", "common_callchain"]
            pairs = [f"{k.encode()!r}: {v}" for k, v in zip(keys, common[2:])]
            pairs += [f"{f.name.encode()!r}: {e}" for f, e in zip(fields, exprs)]
            call = f"fn(NAME, CTX, lua.table_from({{{', '.join(pairs)}}}))"
        else:
            call = f"fn({', '.join(common + exprs)})"
        return compile_handler(decode + ["    try:", f"        {call}", "    except LuaError as e:",
                                         "        rt._failed(e)"], env, _GEN)

    def callchain(self, item: tuple) -> Any:
        """common_callchain: a table of frames, each {ip, sym = {start, end, binding, name},
        sym_off, dso} as the Python runtime's (sym and dso where the address resolved;
        addresses from 2^53 as the runtime's big integers)."""
        assert self.session is not None
        return self._table(frames(self.session.callchain(item)))

    def run_handler(self, ev: Evsel) -> Optional[Callable[[list], Any]]:
        # events Lua decodes itself: their handler queues one, this queues them all
        return self._queue.extend if ev in self._evidx else None

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


_CORRUPT = "corrupt tracepoint data"


def _corrupt(fmt: Any) -> str:
    """The start of a corrupt record's fault, in the native core's words (python_rt)."""
    return f"{_CORRUPT} for {fmt.system}__{fmt.name}: "


def _b(text: str) -> bytes:
    """A name as the bytes Lua gets (byte for byte, like comms)."""
    return text.encode("utf-8", "surrogateescape")


def _lua_str(text: str) -> str:
    """``text`` as a Lua string literal."""
    return '"' + "".join(c if c.isalnum() or c in " _:-" else f"\\{ord(c)}" for c in text) + '"'


def _text(e: BaseException) -> str:
    msg = e.args[0] if e.args else str(e)
    return msg.decode("utf-8", "replace") if isinstance(msg, bytes) else str(msg)
