-- syscall-counts-by-pid: syscall counts per process, optionally for one command name.
--
-- usage: scripthost trace syscall-counts-by-pid.lua [comm] [-- command...]
--        scripthost trace -i DATA -s syscall-counts-by-pid.lua [comm]
local for_comm = arg[1]
local comms, by_comm = {}, {}   -- first-seen order, like the Python version's dicts
local lost = 0

function trace_begin() print("Press control+C to stop and show the summary") end

function raw_syscalls__sys_enter(event_name, context, cpu, secs, nsecs, pid, comm, callchain, id, args)
  if for_comm ~= nil and comm ~= for_comm then return end
  local c = by_comm[comm]
  if not c then c = { order = {}, pids = {} }; by_comm[comm] = c; comms[#comms + 1] = comm end
  local p = c.pids[pid]
  if not p then p = {}; c.pids[pid] = p; c.order[#c.order + 1] = pid end
  p[id] = (p[id] or 0) + 1
end

function trace_lost(kind, count) lost = lost + count end

function trace_end()
  if for_comm then print(string.format("\nsyscall events for %s:\n", for_comm))
  else print("\nsyscall events by comm/pid:\n") end
  print(string.format("%-40s  %10s", "comm [pid]/syscalls", "count"))
  print(string.format("%-40s  %10s", string.rep("-", 40), string.rep("-", 10)))
  for _, comm in ipairs(comms) do
    local c = by_comm[comm]
    for _, pid in ipairs(c.order) do
      print(string.format("\n%s [%d]", comm, pid))
      for id, n in sorted_pairs(c.pids[pid], true) do
        print(string.format("  %-38s  %10d", syscall_name(id), n))
      end
    end
  end
  if lost > 0 then print(string.format("\n%d events lost: counts are low", lost)) end
end
