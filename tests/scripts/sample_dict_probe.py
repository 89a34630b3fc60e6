"""Prints every process_event dict and each sys_enter_read, in the format
sample_dict_probe.lua prints its tables (keys sorted, lists as 1-based keys, bytes
outside printable ASCII escaped, None left out): perf's dicts against Lua's tables."""


def _text(v):
    b = v.encode("utf-8", "surrogateescape") if isinstance(v, str) else bytes(v)
    return "".join(chr(c) if 32 <= c < 127 and c != 92 else "\\x%02x" % c for c in b)


def dump(v):
    if isinstance(v, (list, tuple)):
        v = {i + 1: x for i, x in enumerate(v)}
    if isinstance(v, dict):
        return "{" + " ".join("%s=%s" % (k, dump(x)) for k, x in sorted(v.items(), key=lambda kv: str(kv[0]))
                              if x is not None) + "}"
    if isinstance(v, int):
        return str(v)
    return _text(v)


def process_event(param_dict):
    print(dump(param_dict))


def syscalls__sys_enter_read(event_name, context, common_cpu, common_secs, common_nsecs, common_pid,
                             common_comm, common_callchain, __syscall_nr, fd, buf, count):
    print("read", common_pid, fd, count)
