"""syscall-counts: system-wide syscall counts, optionally for one command name.

usage: scripthost trace syscall-counts [comm]            (live; Ctrl-C prints the table)
       scripthost trace -i DATA -s syscall-counts.py [comm]

Counts raw_syscalls:sys_enter (syscalls:sys_enter_* on kernels without it) by
syscall, and prints them most frequent first, with names for the recording's
architecture.
"""

import os
import sys

sys.path.append(os.environ["PERF_EXEC_PATH"] + "/scripts/python/Perf-Trace-Util/lib/Perf/Trace")
from Util import syscall_name  # noqa: E402

if len(sys.argv) > 2:
    sys.exit(__doc__)
for_comm = sys.argv[1] if len(sys.argv) > 1 else None
counts = {}
lost = [0]


def trace_begin():
    print("Press control+C to stop and show the summary")


def raw_syscalls__sys_enter(event_name, context, common_cpu, common_secs, common_nsecs,
                            common_pid, common_comm, common_callchain, id, args):
    if for_comm is None or common_comm == for_comm:
        counts[id] = counts.get(id, 0) + 1


def trace_lost(kind, count):
    lost[0] += count


def trace_end():
    if for_comm is not None:
        print("\nsyscall events for %s:\n" % for_comm)
    else:
        print("\nsyscall events:\n")
    print("%-40s  %10s" % ("event", "count"))
    print("%-40s  %10s" % ("-" * 40, "-" * 11))
    for id, n in sorted(counts.items(), key=lambda kv: (kv[1], kv[0]), reverse=True):
        print("%-40s  %10d" % (syscall_name(id), n))
    if lost[0]:
        print("\n%d events lost: counts are low" % lost[0])
