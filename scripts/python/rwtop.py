"""rwtop: read/write top, refreshed every interval seconds (default 3).

usage: scripthost trace rwtop [interval]
       scripthost trace -i DATA -s rwtop.py [interval]
"""

import os
import sys

sys.path.append(os.environ["PERF_EXEC_PATH"] + "/scripts/python/Perf-Trace-Util/lib/Perf/Trace")
from Util import clear_term  # noqa: E402

if len(sys.argv) > 2:
    sys.exit(__doc__)
SCRIPTHOST_INTERVAL = int(sys.argv[1]) if len(sys.argv) > 1 else 3
stats = {}  # pid -> [comm, reads, bytes_read, writes, bytes_written]
lost = [0]


def _e(pid, comm):
    e = stats.setdefault(pid, [comm, 0, 0, 0, 0])
    e[0] = comm
    return e


def syscalls__sys_exit_read(event_name, context, common_cpu, common_secs, common_nsecs,
                            common_pid, common_comm, common_callchain, __syscall_nr, ret):
    if 0 < ret < 1 << 63:
        e = _e(common_pid, common_comm)
        e[1] += 1
        e[2] += ret


def syscalls__sys_exit_write(event_name, context, common_cpu, common_secs, common_nsecs,
                             common_pid, common_comm, common_callchain, __syscall_nr, ret):
    if 0 < ret < 1 << 63:
        e = _e(common_pid, common_comm)
        e[3] += 1
        e[4] += ret


def trace_lost(kind, count):
    lost[0] += count


def trace_interval():
    clear_term()
    print("read/write totals by pid:\n")
    print("%6s  %-20s  %10s  %12s  %10s  %12s" % ("pid", "comm", "# reads", "bytes_read",
                                                   "# writes", "bytes_written"))
    print("%6s  %-20s  %10s  %12s  %10s  %12s" % ("-" * 6, "-" * 20, "-" * 10, "-" * 12,
                                                   "-" * 10, "-" * 12))
    for pid, (comm, r, br, w, bw) in sorted(stats.items(), key=lambda kv: kv[1][2] + kv[1][4],
                                            reverse=True)[:20]:
        print("%6d  %-20s  %10d  %12d  %10d  %12d" % (pid, comm, r, br, w, bw))
    if lost[0]:
        print("\n%d events lost" % lost[0])
    stats.clear()
    sys.stdout.flush()


def trace_end():
    trace_interval()
