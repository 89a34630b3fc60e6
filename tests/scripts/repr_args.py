"""Prints repr() of every argument perf passes, for every event (context masked:
perf passes a fresh capsule each call, whose repr holds an address)."""

import os
import sys

sys.path.append(os.environ["PERF_EXEC_PATH"] + "/scripts/python/Perf-Trace-Util/lib/Perf/Trace")
from perf_trace_context import *  # noqa: F401,F403


def trace_begin():
    print("trace_begin", sys.argv[1:])


def trace_end():
    print("trace_end")


def _show(name, args):
    print(name, repr(args[0]), "<context>", repr(args[2:]))


def sched__sched_switch(*args):
    _show("sched_switch", args)


def raw_syscalls__sys_enter(*args):
    _show("sys_enter", args)


def sched__sched_wakeup(event_name, context, common_cpu, common_secs, common_nsecs, common_pid,
                        common_comm, common_callchain, comm, pid, prio, target_cpu, perf_sample_dict):
    print("sched_wakeup", repr((event_name, common_cpu, common_secs, common_nsecs, common_pid, common_comm,
                               common_callchain, comm, pid, prio, target_cpu)))
    d = dict(perf_sample_dict)
    print("  dict", sorted(d), repr(d["ev_name"]), repr(d["sample"]), repr(d.get("raw_buf")), repr(d["comm"]))
    print("  pc/flags/lock", common_pc(context), common_flags(context), common_lock_depth(context))


def trace_unhandled(event_name, context, fields, perf_sample_dict):
    print("unhandled", repr(event_name), repr(fields), repr(perf_sample_dict["sample"]))
