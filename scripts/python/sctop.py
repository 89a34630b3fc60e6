"""sctop: syscall top, refreshed every interval seconds (default 3).

usage: scripthost trace sctop [comm] [interval]
       scripthost trace -i DATA -s sctop.py [comm] [interval]

Uses scripthost's periodic hook (SCRIPTHOST_INTERVAL + trace_interval), so it
needs no thread of its own and refreshes on stream time when reading a file.
"""

import os
import sys

sys.path.append(os.environ["PERF_EXEC_PATH"] + "/scripts/python/Perf-Trace-Util/lib/Perf/Trace")
from Util import clear_term, syscall_name  # noqa: E402

for_comm = None
SCRIPTHOST_INTERVAL = 3
args = sys.argv[1:]
if len(args) > 2:
    sys.exit(__doc__)
if len(args) == 2:
    for_comm, SCRIPTHOST_INTERVAL = args[0], int(args[1])
elif len(args) == 1:
    try:
        SCRIPTHOST_INTERVAL = int(args[0])
    except ValueError:
        for_comm = args[0]
counts = {}
lost = [0]


def raw_syscalls__sys_enter(event_name, context, common_cpu, common_secs, common_nsecs,
                            common_pid, common_comm, common_callchain, id, args):
    if for_comm is None or common_comm == for_comm:
        counts[id] = counts.get(id, 0) + 1


def trace_lost(kind, count):
    lost[0] += count


def trace_interval():
    clear_term()
    if for_comm is not None:
        print("\nsyscall events for %s:\n" % for_comm)
    else:
        print("\nsyscall events:\n")
    print("%-40s  %10s" % ("event", "count"))
    print("%-40s  %10s" % ("-" * 40, "-" * 10))
    for id, n in sorted(counts.items(), key=lambda kv: (kv[1], kv[0]), reverse=True):
        print("%-40s  %10d" % (syscall_name(id), n))
    if lost[0]:
        print("\n%d events lost" % lost[0])
    counts.clear()
    sys.stdout.flush()


def trace_end():
    trace_interval()
