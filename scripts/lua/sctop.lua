-- sctop: syscall top, refreshed every interval seconds (default 3).
--
-- usage: scripthost trace sctop.lua [comm] [interval]
local for_comm = nil
SCRIPTHOST_INTERVAL = 3
if arg[2] then for_comm, SCRIPTHOST_INTERVAL = arg[1], tonumber(arg[2])
elseif arg[1] then
  if tonumber(arg[1]) then SCRIPTHOST_INTERVAL = tonumber(arg[1]) else for_comm = arg[1] end
end
local counts, lost = {}, 0

function raw_syscalls__sys_enter(event_name, context, cpu, secs, nsecs, pid, comm, callchain, id, args)
  if for_comm == nil or comm == for_comm then counts[id] = (counts[id] or 0) + 1 end
end

function trace_lost(kind, count) lost = lost + count end

function trace_interval()
  clear_term()
  if for_comm then print(string.format("\nsyscall events for %s:\n", for_comm))
  else print("\nsyscall events:\n") end
  print(string.format("%-40s  %10s", "event", "count"))
  print(string.format("%-40s  %10s", string.rep("-", 40), string.rep("-", 10)))
  for id, n in sorted_pairs(counts, true) do
    print(string.format("%-40s  %10d", syscall_name(id), n))
  end
  if lost > 0 then print(string.format("\n%d events lost", lost)) end
  counts = {}
  io.stdout:flush()
end

function trace_end() trace_interval() end
