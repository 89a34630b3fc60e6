"""futex-contention: time threads spend waiting on each futex.

usage: scripthost trace futex-contention [-- command...]
       scripthost trace -i DATA -s futex-contention.py
"""

FUTEX_WAIT, FUTEX_CMD_MASK = 0, ~(128 | 256)
waiting = {}    # tid -> (uaddr, start ns)
blocked = {}    # (comm, tid) -> set of uaddr
contended = {}  # uaddr -> [n, total ns, min, max]


def syscalls__sys_enter_futex(event, ctxt, cpu, s, ns, tid, comm, callchain, nr, uaddr, op, val,
                              utime, uaddr2, val3):
    if op & FUTEX_CMD_MASK == FUTEX_WAIT:
        waiting[tid] = (uaddr, s * 1000000000 + ns)
        blocked.setdefault((comm, tid), set()).add(uaddr)


def syscalls__sys_exit_futex(event, ctxt, cpu, s, ns, tid, comm, callchain, nr, ret):
    if tid in waiting:
        uaddr, start = waiting.pop(tid)
        d = s * 1000000000 + ns - start
        c = contended.setdefault(uaddr, [0, 0, d, d])
        c[0] += 1
        c[1] += d
        c[2] = min(c[2], d)
        c[3] = max(c[3], d)


def trace_end():
    for (comm, tid), addrs in sorted(blocked.items(), key=lambda kv: kv[0][1]):
        print("%s[%d] lock %s" % (comm, tid, ", ".join("%x" % a for a in sorted(addrs))))
    print("\n%-18s %8s %12s %12s %12s" % ("lock", "waits", "avg ns", "min ns", "max ns"))
    for uaddr, (n, total, lo, hi) in sorted(contended.items(), key=lambda kv: kv[1][1], reverse=True):
        print("%-18x %8d %12d %12d %12d" % (uaddr, n, total // n, lo, hi))
