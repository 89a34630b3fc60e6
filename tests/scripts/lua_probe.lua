-- Prints every argument every handler receives, in one fixed form, so two runs can be
-- diffed: handlers for events whose name has an even length are positional, the rest
-- go to trace_unhandled.  Also common_pc / common_flags / common_lock_depth.
local function show(v)
  if type(v) == "string" then return string.format("%q", v) end
  if type(v) == "table" then return "table#" .. #v end
  return tostring(v)
end

local function ctx_fields(ctx)
  return show(common_pc(ctx)) .. " " .. show(common_flags(ctx)) .. " " .. show(common_lock_depth(ctx))
end

setmetatable(_G, { __index = function(_, name)
  if type(name) == "string" and name:find("__", 1, true) and #name % 2 == 0 then
    return function(ev, ctx, ...)
      local out = { ev, ctx_fields(ctx) }
      for i = 1, select("#", ...) do out[#out + 1] = show((select(i, ...))) end
      print(table.concat(out, " "))
    end
  end
end })

function trace_unhandled(ev, ctx, fields)
  local keys = {}
  for k in pairs(fields) do keys[#keys + 1] = k end
  table.sort(keys)
  local out = { "unhandled", ev, ctx_fields(ctx) }
  for _, k in ipairs(keys) do out[#out + 1] = k .. "=" .. show(fields[k]) end
  print(table.concat(out, " "))
end

function trace_end() print("end") end
