"""rw-by-file: read/write activity of one program, by file descriptor.

usage: scripthost trace rw-by-file <comm> [-- command...]
       scripthost trace -i DATA -s rw-by-file.py <comm>
"""

import os
import sys

if len(sys.argv) != 2:
    sys.exit(__doc__)
for_comm = sys.argv[1]
reads = {}   # fd -> [count, bytes requested]
writes = {}


def _add(table, fd, count):
    e = table.setdefault(fd, [0, 0])
    e[0] += 1
    e[1] += count


def syscalls__sys_enter_read(event_name, context, common_cpu, common_secs, common_nsecs,
                             common_pid, common_comm, common_callchain, __syscall_nr, fd, buf, count):
    if common_comm == for_comm:
        _add(reads, fd, count)


def syscalls__sys_enter_write(event_name, context, common_cpu, common_secs, common_nsecs,
                              common_pid, common_comm, common_callchain, __syscall_nr, fd, buf, count):
    if common_comm == for_comm:
        _add(writes, fd, count)


def trace_end():
    for title, table, col in (("file read counts for %s:" % for_comm, reads, "bytes_requested"),
                              ("file write counts for %s:" % for_comm, writes, "bytes_written")):
        print("%s\n" % title)
        print("%6s  %10s  %10s" % ("fd", "# ops", col))
        print("%6s  %10s  %10s" % ("-" * 6, "-" * 10, "-" * 10))
        for fd, (n, b) in sorted(table.items(), key=lambda kv: kv[1][1], reverse=True):
            print("%6d  %10d  %10d" % (fd, n, b))
        print()
