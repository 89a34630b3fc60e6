"""scripthost's Core: the flag/symbol tables perf scripts build through the
define_* callbacks, and the helpers that read them (same API as perf's Core)."""

from collections import defaultdict

__all__ = ["autodict", "flag_fields", "symbolic_fields", "define_flag_field", "define_flag_value",
           "define_symbolic_field", "define_symbolic_value", "flag_str", "symbol_str",
           "trace_flags", "trace_flag_str", "taskState", "EventHeaders"]


def autodict():
    """A dict that creates nested autodicts on first access."""
    return defaultdict(autodict)


flag_fields = autodict()
symbolic_fields = autodict()


def define_flag_field(event_name, field_name, delim):
    flag_fields[event_name][field_name]["delim"] = delim


def define_flag_value(event_name, field_name, value, field_str):
    flag_fields[event_name][field_name]["values"][value] = field_str


def define_symbolic_field(event_name, field_name):
    """Symbolic fields need no set-up; the values carry everything."""


def define_symbolic_value(event_name, field_name, value, field_str):
    symbolic_fields[event_name][field_name]["values"][value] = field_str


def flag_str(event_name, field_name, value):
    """The names of the flags set in value, joined by " DELIM "."""
    field = flag_fields[event_name][field_name]
    if not field:
        return ""
    names = field["values"]
    delim = field["delim"]
    parts = []
    for bit in sorted(names):
        if not value and not bit:
            parts.append(names[bit])
            break
        if bit and (value & bit) == bit:
            parts.append(names[bit])
            value &= ~bit
    sep = " %s " % delim if delim else ""
    return sep.join(parts)


def symbol_str(event_name, field_name, value):
    """The name defined for value, or "" when there is none."""
    field = symbolic_fields[event_name][field_name]
    if not field:
        return ""
    names = field["values"]
    for key in sorted(names):
        if (not value and not key) or value == key:
            return names[key]
    return ""


trace_flags = {0x00: "NONE", 0x01: "IRQS_OFF", 0x02: "IRQS_NOSUPPORT", 0x04: "NEED_RESCHED",
               0x08: "HARDIRQ", 0x10: "SOFTIRQ"}


def trace_flag_str(value):
    """common_flags as text: "IRQS_OFF | NEED_RESCHED", "NONE" for 0."""
    if not value:
        return "NONE"
    parts = []
    for bit, name in trace_flags.items():
        if bit and (value & bit) == bit:
            parts.append(name)
            value &= ~bit
    return " | ".join(parts)


_TASK_STATES = {0: "R", 1: "S", 2: "D", 64: "DEAD"}


def taskState(state):
    return _TASK_STATES.get(state, "Unknown")


class EventHeaders:
    """The common arguments of a handler, kept together."""

    def __init__(self, common_cpu, common_secs, common_nsecs, common_pid, common_comm,
                 common_callchain):
        self.cpu = common_cpu
        self.secs = common_secs
        self.nsecs = common_nsecs
        self.pid = common_pid
        self.comm = common_comm
        self.callchain = common_callchain

    def ts(self):
        return self.secs * 1000000000 + self.nsecs

    def ts_format(self):
        return "%d.%d" % (self.secs, int(self.nsecs / 1000))
