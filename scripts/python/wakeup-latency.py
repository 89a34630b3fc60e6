"""wakeup-latency: system-wide min/max/avg wakeup latency (wakeup to switch-in).

usage: scripthost trace wakeup-latency [-- command...]
       scripthost trace -i DATA -s wakeup-latency.py
"""

last_wakeup = {}  # cpu -> wakeup time (ns)
lat = {"min": None, "max": 0, "total": 0, "n": 0}


def sched__sched_switch(event_name, context, common_cpu, common_secs, common_nsecs, common_pid,
                        common_comm, common_callchain, prev_comm, prev_pid, prev_prio, prev_state,
                        next_comm, next_pid, next_prio):
    woke = last_wakeup.pop(common_cpu, 0)
    if woke:
        d = common_secs * 1000000000 + common_nsecs - woke
        lat["max"] = max(lat["max"], d)
        lat["min"] = d if lat["min"] is None else min(lat["min"], d)
        lat["total"] += d
        lat["n"] += 1


def sched__sched_wakeup(event_name, context, common_cpu, common_secs, common_nsecs, common_pid,
                        common_comm, common_callchain, comm, pid, prio, target_cpu, *rest):
    last_wakeup[target_cpu] = common_secs * 1000000000 + common_nsecs


def trace_end():
    print("wakeup_latency stats:\n")
    print("total_wakeups: %d" % lat["n"])
    if lat["n"]:
        print("avg_wakeup_latency (ns): %d" % (lat["total"] // lat["n"]))
    else:
        print("avg_wakeup_latency (ns): N/A")
    print("min_wakeup_latency (ns): %d" % (lat["min"] or 0))
    print("max_wakeup_latency (ns): %d" % lat["max"])
