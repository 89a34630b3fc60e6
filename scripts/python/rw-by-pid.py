"""rw-by-pid: system-wide read/write activity per process, with errors.

usage: scripthost trace rw-by-pid [-- command...]
       scripthost trace -i DATA -s rw-by-pid.py
"""

import os
import sys

sys.path.append(os.environ["PERF_EXEC_PATH"] + "/scripts/python/Perf-Trace-Util/lib/Perf/Trace")

reads = {}   # pid -> {"comm", "requested", "n", "bytes", "errors": {ret: n}}
writes = {}  # pid -> {"comm", "written", "n", "errors": {ret: n}}


def _entry(table, pid):
    return table.setdefault(pid, {"comm": "", "requested": 0, "n": 0, "bytes": 0, "written": 0,
                                  "errors": {}})


def syscalls__sys_enter_read(event_name, context, common_cpu, common_secs, common_nsecs,
                             common_pid, common_comm, common_callchain, __syscall_nr, fd, buf, count):
    e = _entry(reads, common_pid)
    e["comm"] = common_comm
    e["requested"] += count
    e["n"] += 1


def syscalls__sys_exit_read(event_name, context, common_cpu, common_secs, common_nsecs,
                            common_pid, common_comm, common_callchain, __syscall_nr, ret):
    e = _entry(reads, common_pid)
    ret = ret - (1 << 64) if ret >= 1 << 63 else ret
    if ret > 0:
        e["bytes"] += ret
    else:
        e["errors"][ret] = e["errors"].get(ret, 0) + 1


def syscalls__sys_enter_write(event_name, context, common_cpu, common_secs, common_nsecs,
                              common_pid, common_comm, common_callchain, __syscall_nr, fd, buf, count):
    e = _entry(writes, common_pid)
    e["comm"] = common_comm
    e["written"] += count
    e["n"] += 1


def syscalls__sys_exit_write(event_name, context, common_cpu, common_secs, common_nsecs,
                             common_pid, common_comm, common_callchain, __syscall_nr, ret):
    ret = ret - (1 << 64) if ret >= 1 << 63 else ret
    if ret <= 0:
        e = _entry(writes, common_pid)
        e["errors"][ret] = e["errors"].get(ret, 0) + 1


def _errors(table, title):
    print("\n%s:\n" % title)
    print("%6s  %20s  %6s  %10s" % ("pid", "comm", "error #", "# errors"))
    print("%6s  %20s  %6s  %10s" % ("-" * 6, "-" * 20, "-" * 6, "-" * 10))
    rows = [(pid, e["comm"], ret, n) for pid, e in table.items() for ret, n in e["errors"].items()]
    for pid, comm, ret, n in sorted(rows, key=lambda r: r[3], reverse=True):
        print("%6d  %-20s  %6d  %10d" % (pid, comm, ret, n))


def trace_end():
    print("read counts by pid:\n")
    print("%6s  %20s  %10s  %10s  %10s" % ("pid", "comm", "# reads", "bytes_req", "bytes_read"))
    print("%6s  %-20s  %10s  %10s  %10s" % ("-" * 6, "-" * 20, "-" * 10, "-" * 10, "-" * 10))
    for pid, e in sorted(reads.items(), key=lambda kv: kv[1]["bytes"], reverse=True):
        print("%6d  %-20s  %10d  %10d  %10d" % (pid, e["comm"], e["n"], e["requested"], e["bytes"]))
    _errors(reads, "failed reads by pid")
    print("\nwrite counts by pid:\n")
    print("%6s  %20s  %10s  %10s" % ("pid", "comm", "# writes", "bytes_written"))
    print("%6s  %-20s  %10s  %10s" % ("-" * 6, "-" * 20, "-" * 10, "-" * 10))
    for pid, e in sorted(writes.items(), key=lambda kv: kv[1]["written"], reverse=True):
        print("%6d  %-20s  %10d  %10d" % (pid, e["comm"], e["n"], e["written"]))
    _errors(writes, "failed writes by pid")
