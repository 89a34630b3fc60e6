-- failed-syscalls-by-pid: failed syscalls per process and errno.
--
-- usage: scripthost trace failed-syscalls-by-pid.lua [comm] [-- command...]
--        scripthost trace -i DATA -s failed-syscalls-by-pid.lua [comm]
local for_comm = arg[1]
local comms, by_comm = {}, {}
local lost = 0

local function ordered(parent, order, key)
  local v = parent[key]
  if not v then v = {}; parent[key] = v; order[#order + 1] = key end
  return v
end

function trace_begin() print("Press control+C to stop and show the summary") end

function raw_syscalls__sys_exit(event_name, context, cpu, secs, nsecs, pid, comm, callchain, id, ret)
  if ret >= 0 or (for_comm ~= nil and comm ~= for_comm) then return end
  local c = ordered(by_comm, comms, comm)
  c.order = c.order or {}
  c.pids = c.pids or {}
  local p = ordered(c.pids, c.order, pid)
  p.order = p.order or {}
  p.ids = p.ids or {}
  local rets = ordered(p.ids, p.order, id)
  rets[ret] = (rets[ret] or 0) + 1
end

function trace_lost(kind, count) lost = lost + count end

function trace_end()
  if for_comm then print(string.format("\nsyscall errors for %s:\n", for_comm))
  else print("\nsyscall errors:\n") end
  print(string.format("%-30s  %10s", "comm [pid]", "count"))
  print(string.format("%-30s  %10s", string.rep("-", 30), string.rep("-", 10)))
  for _, comm in ipairs(comms) do
    local c = by_comm[comm]
    for _, pid in ipairs(c.order) do
      print(string.format("\n%s [%d]", comm, pid))
      local p = c.pids[pid]
      for _, id in ipairs(p.order) do
        print(string.format("  syscall: %-16s", syscall_name(id)))
        for ret, n in sorted_pairs(p.ids[id], true) do
          print(string.format("    err = %-20s  %10d", strerror(ret), n))
        end
      end
    end
  end
  if lost > 0 then print(string.format("\n%d events lost: counts are low", lost)) end
end
