-- scripthost's batch delivery for LuaJIT: Python hands over the addresses of the
-- input chunks and, per batch, arrays of record positions; the decoders generated per event type
-- (lua_rt.py) read the records in place through the FFI and call the handlers.
local ffi = require("ffi")

local M = {}
local U8P = ffi.typeof("const uint8_t *")
local U16P = ffi.typeof("const uint16_t *")
local U32P = ffi.typeof("const uint32_t *")
local I8P = ffi.typeof("const int8_t *")
local I16P = ffi.typeof("const int16_t *")
local I32P = ffi.typeof("const int32_t *")
local U64P = ffi.typeof("const uint64_t *")
local I64P = ffi.typeof("const int64_t *")
local U64 = ffi.typeof("uint64_t")
local BIG = 2 ^ 53
local cast, ffistring, tonumber = ffi.cast, ffi.string, tonumber
M.U8P, M.U16P, M.U32P, M.I8P, M.I16P, M.I32P = U8P, U16P, U32P, I8P, I16P, I32P

-- slot -> an input chunk's bytes, read in place (Python keeps the chunk alive)
local ptrs = {}
function M.set_buf(slot, address)
  ptrs[slot] = address and cast(U8P, address) or nil
end

-- 8-byte integers: a number below 2^53, else uint64_t cdata (as the per-event path)
function M.u64(a)
  local v = cast(U64P, a)[0]
  if v < BIG then return tonumber(v) end
  return v
end
function M.i64(a)
  local v = cast(I64P, a)[0]
  if v > -BIG and v < BIG then return tonumber(v) end
  return cast(U64, v)
end

-- a char array: its bytes up to the first NUL
function M.chars(a, size)
  local s = ffistring(a, size)
  local z = s:find("\0", 1, true)
  if z then return s:sub(1, z - 1) end
  return s
end

M.comms = {}
local comms = M.comms
function M.comm(tid)
  local c = comms[tid]
  if c == nil then c = ":" .. tid end
  return c
end

-- the context handlers receive, and the event it stands for now
M.CTX = {}
M.cur = nil        -- the current event's raw tracepoint data (pointer)
M.cur_off = nil    -- that event type's {offset, reader} of common_preempt_count, common_flags, common_lock_depth

M.decoders = {}
local decoders = M.decoders

-- n records: u16 slot per record (or one slot for all), u32 positions,
-- u16 event index per record (or one index for all)
function M.run(n, slots, one_slot, pos, evs, one_ev)
  local pp = cast(U32P, pos)
  local sp = slots and cast(U16P, slots)
  local ep = evs and cast(U16P, evs)
  local p = ptrs[one_slot]
  local d = decoders[one_ev]
  for i = 0, n - 1 do
    if sp then p = ptrs[sp[i]] end
    if ep then d = decoders[ep[i]] end
    M.i = i  -- the event a decoder's error is about
    d(p + pp[i])
  end
end

function M.context_field(ctx, which)
  if ctx ~= M.CTX or M.cur == nil then return nil end
  local f = M.cur_off[which]
  if f == nil then return 0 end
  return cast(f[2], M.cur + f[1])[0]
end

return M
