"""The traced command (perf's "workload"): checked before anything is opened,
forked and held before exec until the events are ready, given the user's
terminal, stdin and stdout, and at the end stopped with every descendant it
left, its exit status handed back as the recorder's own.

The command stays in the caller's process group and session, as under
`perf record`: it has the controlling terminal (/dev/tty, job control, Ctrl-C),
and a Ctrl-C typed at the terminal reaches it and the tracer alike.  The
recorder is made a child subreaper, so grandchildren orphaned by the command
stay its descendants and can be stopped with it instead of escaping to init.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import struct
import time
from typing import Optional, Sequence

from scripthost.errors import ScripthostError

__all__ = ["Workload", "resolve_command", "set_parent_death_signal", "become_subreaper",
           "descendants", "stop_tree", "exit_code"]

#: perf record's exit status when the workload cannot be started
CANNOT_RUN = 255
_PR_SET_PDEATHSIG = 1
_PR_SET_CHILD_SUBREAPER = 36
_ERRNO = struct.Struct("<i")
#: how long a stopped tree gets to exit after SIGTERM before SIGKILL
TERM_GRACE = 2.0


def _prctl(option: int, arg: int) -> bool:
    libc = ctypes.CDLL(None, use_errno=True)
    return libc.prctl(ctypes.c_int(option), ctypes.c_ulong(arg), 0, 0, 0) == 0


def set_parent_death_signal(sig: int, expected_parent: int) -> None:
    """Have the kernel send ``sig`` when our parent dies; if it already has, send it now."""
    _prctl(_PR_SET_PDEATHSIG, sig)
    if os.getppid() != expected_parent:
        os.kill(os.getpid(), sig)


def become_subreaper() -> None:
    """Orphaned descendants are reparented to us rather than to init."""
    _prctl(_PR_SET_CHILD_SUBREAPER, 1)


def resolve_command(argv: Sequence[str]) -> str:
    """The executable ``argv[0]`` names, or a one-line error in perf's exit status."""
    name = argv[0]
    path = shutil.which(name) if "/" not in name else name
    if path is None:
        raise ScripthostError(f"cannot run {name!r}: command not found (check its name and PATH)",
                              exit_code=CANNOT_RUN)
    if not os.path.exists(path):
        raise ScripthostError(f"cannot run {name!r}: No such file or directory", exit_code=CANNOT_RUN)
    if os.path.isdir(path) or not os.access(path, os.X_OK):
        raise ScripthostError(f"cannot run {name!r}: Permission denied (not an executable file)",
                              exit_code=CANNOT_RUN)
    return path


def exit_code(status: int) -> int:
    """os.waitstatus_to_exitcode's value as a shell reports it (a signal N is 128+N)."""
    return 128 - status if status < 0 else status


def descendants(root: int) -> list[int]:
    """Every live descendant of ``root``, parents before children."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rindex(b")") + 2:].split()
        if fields[0] != b"Z":
            children.setdefault(int(fields[1]), []).append(int(entry))
    out, todo = [], list(children.get(root, []))
    while todo:
        pid = todo.pop(0)
        out.append(pid)
        todo.extend(children.get(pid, []))
    return out


def _reap_children(statuses: dict[int, int]) -> None:
    """Collect every exited child (orphans reparented to a subreaper included)."""
    while True:
        try:
            pid, st = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        statuses[pid] = os.waitstatus_to_exitcode(st)


def stop_tree(root: int, spare: Sequence[int] = ()) -> dict[int, int]:
    """SIGTERM every descendant of ``root`` but ``spare``, SIGKILL those still there after
    a grace; the exit statuses of the children reaped meanwhile, by pid."""
    statuses: dict[int, int] = {}
    deadline = time.monotonic() + TERM_GRACE
    sig = signal.SIGTERM
    while True:
        _reap_children(statuses)
        left = [p for p in descendants(root) if p not in spare]
        if not left:
            return statuses
        if time.monotonic() > deadline:
            sig = signal.SIGKILL
        for pid in left:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        time.sleep(0.02)


class Workload:
    """The command, forked and held before exec until `start`."""

    def __init__(self, argv: Sequence[str], *, stdout_to_stderr: bool) -> None:
        self.argv = list(argv)
        self.path = resolve_command(self.argv)
        self.status: Optional[int] = None
        go_r, self._go = os.pipe()
        self._err, err_w = os.pipe()  # both ends close on exec: EOF there means exec succeeded
        self.pid = os.fork()
        if self.pid == 0:  # pragma: no cover - the child
            try:
                os.close(self._go)
                os.close(self._err)
                if stdout_to_stderr:
                    os.dup2(2, 1)  # the stream owns stdout, as with `perf record -o -`
                for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGPIPE, signal.SIGCHLD):
                    signal.signal(s, signal.SIG_DFL)
                if os.read(go_r, 1) == b"x":
                    os.execv(self.path, self.argv)
            except OSError as e:
                os.write(err_w, _ERRNO.pack(e.errno or 0))
            os._exit(127)
        os.close(go_r)
        os.close(err_w)

    def start(self) -> None:
        """Let the command exec; a failed exec is a one-line error in perf's exit status."""
        os.write(self._go, b"x")
        os.close(self._go)
        data = os.read(self._err, _ERRNO.size)
        os.close(self._err)
        if data:
            os.waitpid(self.pid, 0)
            self.status = CANNOT_RUN
            err = _ERRNO.unpack(data)[0]
            raise ScripthostError(f"cannot run {self.argv[0]!r}: {os.strerror(err)}",
                                  exit_code=CANNOT_RUN)

    def poll(self) -> Optional[int]:
        """The command's exit status (os.waitstatus_to_exitcode) once it has ended, else None."""
        if self.status is None:
            pid, st = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.status = os.waitstatus_to_exitcode(st)
        return self.status

    def stop(self, *, leftovers: bool) -> None:
        """End the command if it still runs (after the events are disabled), and with
        ``leftovers`` every process it left behind; its status is then known."""
        if self.status is None:
            try:
                os.kill(self.pid, signal.SIGTERM)  # perf's way to end a workload
            except ProcessLookupError:
                pass
            deadline = time.monotonic() + TERM_GRACE
            while self.poll() is None and time.monotonic() < deadline:
                time.sleep(0.01)
        if leftovers or self.status is None:
            reaped = stop_tree(os.getpid())
            if self.status is None and self.pid in reaped:
                self.status = reaped[self.pid]
        if self.status is None:
            _, st = os.waitpid(self.pid, 0)
            self.status = os.waitstatus_to_exitcode(st)
