"""failed-syscalls-by-pid: failed syscalls per process and errno.

usage: scripthost trace failed-syscalls-by-pid [comm] [-- command...]
       scripthost trace -i DATA -s failed-syscalls-by-pid.py [comm]
"""

import os
import sys

sys.path.append(os.environ["PERF_EXEC_PATH"] + "/scripts/python/Perf-Trace-Util/lib/Perf/Trace")
from Util import strerror, syscall_name  # noqa: E402

if len(sys.argv) > 2:
    sys.exit(__doc__)
for_comm = sys.argv[1] if len(sys.argv) > 1 else None
errors = {}  # comm -> pid -> id -> ret -> n
lost = [0]


def trace_begin():
    print("Press control+C to stop and show the summary")


def raw_syscalls__sys_exit(event_name, context, common_cpu, common_secs, common_nsecs,
                           common_pid, common_comm, common_callchain, id, ret):
    if ret >= 0 or (for_comm is not None and common_comm != for_comm):
        return
    by_ret = errors.setdefault(common_comm, {}).setdefault(common_pid, {}).setdefault(id, {})
    by_ret[ret] = by_ret.get(ret, 0) + 1


def trace_lost(kind, count):
    lost[0] += count


def trace_end():
    if for_comm is not None:
        print("\nsyscall errors for %s:\n" % for_comm)
    else:
        print("\nsyscall errors:\n")
    print("%-30s  %10s" % ("comm [pid]", "count"))
    print("%-30s  %10s" % ("-" * 30, "-" * 10))
    for comm, pids in errors.items():
        for pid, ids in pids.items():
            print("\n%s [%d]" % (comm, pid))
            for id, rets in ids.items():
                print("  syscall: %-16s" % syscall_name(id))
                for ret, n in sorted(rets.items(), key=lambda kv: (kv[1], kv[0]), reverse=True):
                    print("    err = %-20s  %10d" % (strerror(ret), n))
    if lost[0]:
        print("\n%d events lost: counts are low" % lost[0])
