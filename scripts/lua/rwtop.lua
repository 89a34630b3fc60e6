-- rwtop: read/write top, refreshed every interval seconds (default 3).
--
-- usage: scripthost trace rwtop.lua [interval]
SCRIPTHOST_INTERVAL = tonumber(arg[1] or "3")
local stats, order, lost = {}, {}, 0

local function e(pid, comm)
  local s = stats[pid]
  if not s then s = { comm, 0, 0, 0, 0, idx = #order + 1 }; stats[pid] = s; order[#order + 1] = pid end
  s[1] = comm
  return s
end

function syscalls__sys_exit_read(ev, ctx, cpu, s, ns, pid, comm, cc, nr, ret)
  if ret > 0 and ret < 2^63 then local x = e(pid, comm); x[2] = x[2] + 1; x[3] = x[3] + ret end
end

function syscalls__sys_exit_write(ev, ctx, cpu, s, ns, pid, comm, cc, nr, ret)
  if ret > 0 and ret < 2^63 then local x = e(pid, comm); x[4] = x[4] + 1; x[5] = x[5] + ret end
end

function trace_lost(kind, count) lost = lost + count end

function trace_interval()
  clear_term()
  print("read/write totals by pid:\n")
  print(string.format("%6s  %-20s  %10s  %12s  %10s  %12s", "pid", "comm", "# reads", "bytes_read", "# writes", "bytes_written"))
  print(string.format("%6s  %-20s  %10s  %12s  %10s  %12s", string.rep("-", 6), string.rep("-", 20), string.rep("-", 10), string.rep("-", 12), string.rep("-", 10), string.rep("-", 12)))
  local rows = {}
  for _, pid in ipairs(order) do rows[#rows + 1] = pid end
  table.sort(rows, function(a, b)
    local ta, tb = stats[a][3] + stats[a][5], stats[b][3] + stats[b][5]
    if ta ~= tb then return ta > tb end
    return stats[a].idx < stats[b].idx
  end)
  for i = 1, math.min(20, #rows) do
    local s = stats[rows[i]]
    print(string.format("%6d  %-20s  %10d  %12d  %10d  %12d", rows[i], s[1], s[2], s[3], s[4], s[5]))
  end
  if lost > 0 then print(string.format("\n%d events lost", lost)) end
  stats, order = {}, {}
  io.stdout:flush()
end

function trace_end() trace_interval() end
