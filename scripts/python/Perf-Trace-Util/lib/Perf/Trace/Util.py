"""scripthost's Util: time helpers, stats, terminal control, and syscall and
errno names (same API as perf's Util).

Unlike perf's, syscall_name needs no audit package: names come from
scripthost's own tables for the architecture the recording was made on
(SCRIPTHOST_ARCH, set by scripthost from the recording's header).
"""

import errno
import os

__all__ = ["FUTEX_WAIT", "FUTEX_WAKE", "FUTEX_PRIVATE_FLAG", "FUTEX_CLOCK_REALTIME",
           "FUTEX_CMD_MASK", "NSECS_PER_SEC", "avg", "nsecs", "nsecs_secs", "nsecs_nsecs",
           "nsecs_str", "add_stats", "clear_term", "syscall_name", "strerror"]

FUTEX_WAIT = 0
FUTEX_WAKE = 1
FUTEX_PRIVATE_FLAG = 128
FUTEX_CLOCK_REALTIME = 256
FUTEX_CMD_MASK = ~(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME)

NSECS_PER_SEC = 1000000000


def avg(total, n):
    return total / n


def nsecs(secs, nsecs):
    return secs * NSECS_PER_SEC + nsecs


def nsecs_secs(nsecs):
    return nsecs / NSECS_PER_SEC


def nsecs_nsecs(nsecs):
    return nsecs % NSECS_PER_SEC


def nsecs_str(nsecs):
    # a 1-tuple, as perf's returns: scripts written for perf index or print it that way
    return ("%5u.%09u" % (nsecs_secs(nsecs), nsecs_nsecs(nsecs)),)


def add_stats(dict, key, value):
    """Keep (min, max, running avg, count) per key."""
    if key not in dict:
        dict[key] = (value, value, value, 1)
        return
    lo, hi, mean, count = dict[key]
    dict[key] = (min(lo, value), max(hi, value), (mean + value) / 2, count + 1)


def clear_term():
    print("\x1b[H\x1b[2J")


try:
    from scripthost.syscalls import table_for as _table_for
except ImportError:  # running under perf without scripthost installed
    _table_for = None


def syscall_name(id):
    """The syscall's name on the recording's architecture, or str(id)."""
    if _table_for is None:
        return str(id)
    arch = os.environ.get("SCRIPTHOST_ARCH") or os.uname().machine
    return _table_for(arch).get(id, str(id))


def strerror(nr):
    try:
        return errno.errorcode[abs(nr)]
    except KeyError:
        return "Unknown %d errno" % nr
