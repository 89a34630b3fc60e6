-- wakeup-latency: system-wide min/max/avg wakeup latency (wakeup to switch-in).
--
-- usage: scripthost trace wakeup-latency.lua [-- command...]
local last_wakeup = {}
local min, max, total, n = nil, 0, 0, 0

function sched__sched_switch(event_name, context, cpu, secs, nsecs, pid, comm, callchain,
                             prev_comm, prev_pid, prev_prio, prev_state, next_comm, next_pid, next_prio)
  local woke = last_wakeup[cpu]
  last_wakeup[cpu] = nil
  if woke and woke ~= 0 then
    local d = secs * 1000000000 + nsecs - woke
    if d > max then max = d end
    if min == nil or d < min then min = d end
    total = total + d
    n = n + 1
  end
end

function sched__sched_wakeup(event_name, context, cpu, secs, nsecs, pid, comm, callchain,
                             wcomm, wpid, prio, target_cpu)
  last_wakeup[target_cpu] = secs * 1000000000 + nsecs
end

function trace_end()
  print("wakeup_latency stats:\n")
  print(string.format("total_wakeups: %d", n))
  if n > 0 then print(string.format("avg_wakeup_latency (ns): %d", math.floor(total / n)))
  else print("avg_wakeup_latency (ns): N/A") end
  print(string.format("min_wakeup_latency (ns): %d", min or 0))
  print(string.format("max_wakeup_latency (ns): %d", max))
end
