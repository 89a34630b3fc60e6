-- scripthost's Lua prelude: the helpers perf's Python Core and Util offer,
-- for Lua trace scripts (see docs/lua.md).  Loaded before the user's script.

local flag_fields, symbolic_fields = {}, {}

if bit then  -- LuaJIT: bit.band is 32-bit, so go exact for larger integers below 2^53
  function bit_and(a, b)
    if a < 2147483648 and b < 2147483648 then return bit.band(a, b) end
    local r, p = 0, 1
    while a > 0 and b > 0 do
      local ra, rb = a % 2, b % 2
      if ra == 1 and rb == 1 then r = r + p end
      a, b, p = (a - ra) / 2, (b - rb) / 2, p * 2
    end
    return r
  end
else
  bit_and = load("return function(a, b) return a & b end")()
end

local function field_of(t, ev, field)
  t[ev] = t[ev] or {}
  t[ev][field] = t[ev][field] or { values = {} }
  return t[ev][field]
end

function define_flag_field(ev, field, delim) field_of(flag_fields, ev, field).delim = delim end
function define_flag_value(ev, field, value, text) field_of(flag_fields, ev, field).values[value] = text end
function define_symbolic_field(ev, field) end
function define_symbolic_value(ev, field, value, text) field_of(symbolic_fields, ev, field).values[value] = text end

local function sorted_keys(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys)
  return keys
end

function flag_str(ev, field, value)
  local f = flag_fields[ev] and flag_fields[ev][field]
  if not f then return "" end
  local parts = {}
  for _, bit in ipairs(sorted_keys(f.values)) do
    if value == 0 and bit == 0 then parts[#parts + 1] = f.values[bit]; break end
    if bit ~= 0 and bit_and(value, bit) == bit then
      parts[#parts + 1] = f.values[bit]
      value = value - bit
    end
  end
  local sep = (f.delim and f.delim ~= "") and (" " .. f.delim .. " ") or ""
  return table.concat(parts, sep)
end

function symbol_str(ev, field, value)
  local f = symbolic_fields[ev] and symbolic_fields[ev][field]
  if not f then return "" end
  for _, key in ipairs(sorted_keys(f.values)) do
    if value == key then return f.values[key] end
  end
  return ""
end

NSECS_PER_SEC = 1000000000
function avg(total, n) return total / n end
function nsecs(secs, ns) return secs * NSECS_PER_SEC + ns end
function nsecs_secs(ns) return math.floor(ns / NSECS_PER_SEC) end
function nsecs_nsecs(ns) return ns % NSECS_PER_SEC end
function nsecs_str(ns) return string.format("%5d.%09d", nsecs_secs(ns), nsecs_nsecs(ns)) end
function clear_term() io.write("\27[H\27[2J\n") end

-- add_stats(t, key, value): t[key] = {min, max, avg, count}, avg as perf's running (avg+v)/2
function add_stats(t, key, value)
  local s = t[key]
  if not s then t[key] = { value, value, value, 1 }; return end
  if value < s[1] then s[1] = value end
  if value > s[2] then s[2] = value end
  s[3] = (s[3] + value) / 2
  s[4] = s[4] + 1
end

function syscall_name(id)
  local name = SYSCALL_NAMES and SYSCALL_NAMES[tonumber(id)]
  return name or tostring(id)
end

function strerror(nr)
  local name = ERRNO_NAMES and ERRNO_NAMES[math.abs(tonumber(nr))]
  return name or string.format("Unknown %d errno", tonumber(nr))
end

-- sorted_pairs(t [, by_value_desc]): iterate in key order, or by value, largest first
function sorted_pairs(t, by_value_desc)
  local keys = sorted_keys(t)
  if by_value_desc then
    table.sort(keys, function(a, b)
      if t[a] ~= t[b] then return t[a] > t[b] end
      return a > b
    end)
  end
  local i = 0
  return function()
    i = i + 1
    if keys[i] ~= nil then return keys[i], t[keys[i]] end
  end
end
