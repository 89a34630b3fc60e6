"""syscall-counts-by-pid: syscall counts per process, optionally for one command name.

usage: scripthost trace syscall-counts-by-pid [comm] [-- command...]
       scripthost trace -i DATA -s syscall-counts-by-pid.py [comm]
"""

import os
import sys

sys.path.append(os.environ["PERF_EXEC_PATH"] + "/scripts/python/Perf-Trace-Util/lib/Perf/Trace")
from Util import syscall_name  # noqa: E402

if len(sys.argv) > 2:
    sys.exit(__doc__)
for_comm = sys.argv[1] if len(sys.argv) > 1 else None
counts = {}  # comm -> pid -> id -> n
lost = [0]


def trace_begin():
    print("Press control+C to stop and show the summary")


def raw_syscalls__sys_enter(event_name, context, common_cpu, common_secs, common_nsecs,
                            common_pid, common_comm, common_callchain, id, args):
    if for_comm is not None and common_comm != for_comm:
        return
    by_id = counts.setdefault(common_comm, {}).setdefault(common_pid, {})
    by_id[id] = by_id.get(id, 0) + 1


def trace_lost(kind, count):
    lost[0] += count


def trace_end():
    if for_comm is not None:
        print("\nsyscall events for %s:\n" % for_comm)
    else:
        print("\nsyscall events by comm/pid:\n")
    print("%-40s  %10s" % ("comm [pid]/syscalls", "count"))
    print("%-40s  %10s" % ("-" * 40, "-" * 10))
    for comm, pids in counts.items():
        for pid, by_id in pids.items():
            print("\n%s [%d]" % (comm, pid))
            for id, n in sorted(by_id.items(), key=lambda kv: (kv[1], kv[0]), reverse=True):
                print("  %-38s  %10d" % (syscall_name(id), n))
    if lost[0]:
        print("\n%d events lost: counts are low" % lost[0])
