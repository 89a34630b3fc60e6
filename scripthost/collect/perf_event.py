"""perf_event_open through ctypes: opening events, ioctls, and reading the
per-CPU ring buffers in large chunks."""

from __future__ import annotations

import ctypes
import errno
import mmap
import os
import struct

from scripthost.engine.layouts import ATTR, ATTR_FIELDS, ATTR_SIZE_VER7
from scripthost.errors import ScripthostError

__all__ = ["EventFd", "OpenError", "RingBuffer", "perf_event_open", "pack_attr", "permission_hint"]

_SYSCALL_NR = {"x86_64": 298, "aarch64": 241, "arm64": 241, "i686": 336, "i386": 336,
               "riscv64": 241, "ppc64le": 319, "s390x": 331}
_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long

IOC_ENABLE = 0x2400
IOC_DISABLE = 0x2401
IOC_SET_OUTPUT = 0x2405
IOC_SET_FILTER = 0x40082406
IOC_ID = 0x80082407
FLAG_FD_CLOEXEC = 8

_HEAD = struct.Struct("<Q")


def pack_attr(**fields: int) -> bytes:
    """A 128-byte perf_event_attr with the named fields set (size filled in)."""
    values = dict.fromkeys(ATTR_FIELDS, 0)
    values["size"] = ATTR_SIZE_VER7
    values.update(fields)
    return ATTR.pack(*(values[n] for n in ATTR_FIELDS))


class OpenError(ScripthostError):
    """perf_event_open refused an event; ``errno`` says why (the recorder may fall back)."""

    def __init__(self, message: str, err: int) -> None:
        super().__init__(message)
        self.errno = err


def permission_hint() -> str:
    try:
        level = open("/proc/sys/kernel/perf_event_paranoid").read().strip()
    except OSError:
        level = "?"
    return ("no permission to trace: run as root, or grant CAP_PERFMON (and CAP_SYS_ADMIN for "
            f"tracepoints), or lower /proc/sys/kernel/perf_event_paranoid (now {level}) with "
            "`sysctl kernel.perf_event_paranoid=-1`")


def perf_event_open(attr: bytes, pid: int, cpu: int, group_fd: int = -1,
                    flags: int = FLAG_FD_CLOEXEC) -> int:
    nr = _SYSCALL_NR.get(os.uname().machine)
    if nr is None:
        raise ScripthostError(f"perf_event_open: unsupported architecture {os.uname().machine}")
    buf = ctypes.create_string_buffer(attr, len(attr))
    fd = _libc.syscall(nr, buf, ctypes.c_int(pid), ctypes.c_int(cpu), ctypes.c_int(group_fd),
                       ctypes.c_ulong(flags))
    if fd < 0:
        err = ctypes.get_errno()
        if err in (errno.EACCES, errno.EPERM):
            raise OpenError(permission_hint(), err)
        if err == errno.ESRCH:
            raise OpenError(f"no such process {pid}", err)
        if err == errno.EMFILE:
            raise OpenError("too many open files for all events and CPUs: raise `ulimit -n`", err)
        raise OpenError(f"perf_event_open failed: {os.strerror(err)} (cpu {cpu}, pid {pid})", err)
    return fd


def _ioctl(fd: int, req: int, arg: object) -> int:
    r = _libc.ioctl(ctypes.c_int(fd), ctypes.c_ulong(req), arg)
    if r < 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))
    return r


class EventFd:
    """One open perf event."""

    def __init__(self, attr: bytes, pid: int, cpu: int) -> None:
        self.fd = perf_event_open(attr, pid, cpu)
        self.cpu = cpu
        out = ctypes.c_uint64(0)
        _ioctl(self.fd, IOC_ID, ctypes.byref(out))
        self.id = out.value

    def set_filter(self, expr: str) -> None:
        try:
            _ioctl(self.fd, IOC_SET_FILTER, ctypes.c_char_p(expr.encode()))
        except OSError as e:
            raise ScripthostError(f"bad --filter {expr!r}: {e.strerror}") from None

    def set_output(self, target: "EventFd") -> None:
        _ioctl(self.fd, IOC_SET_OUTPUT, ctypes.c_int(target.fd))

    def enable(self) -> None:
        _ioctl(self.fd, IOC_ENABLE, ctypes.c_int(0))

    def disable(self) -> None:
        try:
            _ioctl(self.fd, IOC_DISABLE, ctypes.c_int(0))
        except OSError:
            pass

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


class RingBuffer:
    """The mmap'ed ring of one CPU: reads whole runs of records at once."""

    def __init__(self, ev: EventFd, pages: int) -> None:
        self.page = mmap.PAGESIZE
        self.size = pages * self.page
        self.map = mmap.mmap(ev.fd, self.page + self.size, mmap.MAP_SHARED,
                             mmap.PROT_READ | mmap.PROT_WRITE)
        self.fd = ev.fd

    def read(self) -> bytes:
        """Every complete record written since the last read (may be b"")."""
        m = self.map
        head = _HEAD.unpack_from(m, 1024)[0]
        tail = _HEAD.unpack_from(m, 1032)[0]
        if head == tail:
            return b""
        size, base = self.size, self.page
        start, end = tail % size, head % size
        if head - tail >= size or start >= end:
            data = m[base + start:base + size] + m[base:base + end]
        else:
            data = m[base + start:base + end]
        _HEAD.pack_into(m, 1032, head)
        return data

    def close(self) -> None:
        try:
            self.map.close()
        except (BufferError, ValueError):
            pass
