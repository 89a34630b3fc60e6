-- Prints every process_event table and each sys_enter_read as sample_dict_probe.py
-- prints perf's dicts (keys sorted as strings, 1-based lists, bytes outside
-- printable ASCII escaped), for diffing the two.

local function text(s)
  return (s:gsub(".", function(c)
    local b = c:byte()
    if b < 32 or b > 126 or b == 92 then return string.format("\\x%02x", b) end
  end))
end

local function dump(v)
  local t = type(v)
  if t == "table" then
    local keys = {}
    for k in pairs(v) do keys[#keys + 1] = k end
    table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
    local parts = {}
    for _, k in ipairs(keys) do parts[#parts + 1] = tostring(k) .. "=" .. dump(v[k]) end
    return "{" .. table.concat(parts, " ") .. "}"
  elseif t == "number" then
    return string.format("%d", v)
  elseif t == "cdata" then  -- LuaJIT's uint64_t: its digits without the ULL suffix
    return (tostring(v):gsub("U?LL$", ""))
  end
  return text(v)
end

function process_event(param_dict)
  print(dump(param_dict))
end

function syscalls__sys_enter_read(event_name, context, cpu, secs, nsecs, pid, comm, callchain,
                                  nr, fd, buf, count)
  print("read " .. dump(pid) .. " " .. dump(fd) .. " " .. dump(count))
end
