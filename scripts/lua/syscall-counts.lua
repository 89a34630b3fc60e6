-- syscall-counts: system-wide syscall counts, optionally for one command name.
--
-- usage: scripthost trace syscall-counts.lua [comm]
--        scripthost trace -i DATA -s syscall-counts.lua [comm]
local for_comm = arg[1]
local counts = {}
local lost = 0

function trace_begin() print("Press control+C to stop and show the summary") end

function raw_syscalls__sys_enter(event_name, context, cpu, secs, nsecs, pid, comm, callchain, id, args)
  if for_comm == nil or comm == for_comm then counts[id] = (counts[id] or 0) + 1 end
end

function trace_lost(kind, count) lost = lost + count end

function trace_end()
  if for_comm then print(string.format("\nsyscall events for %s:\n", for_comm))
  else print("\nsyscall events:\n") end
  print(string.format("%-40s  %10s", "event", "count"))
  print(string.format("%-40s  %10s", string.rep("-", 40), string.rep("-", 11)))
  for id, n in sorted_pairs(counts, true) do
    print(string.format("%-40s  %10d", syscall_name(id), n))
  end
  if lost > 0 then print(string.format("\n%d events lost: counts are low", lost)) end
end
