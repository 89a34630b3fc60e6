"""Ground truth for live runs that the tests make themselves: a terminal (a pty,
as a user's), and what a run may leave behind (processes, perf event fds,
tracefs state).

Every process of a run carries a unique token in its environment (the tracer's
halves, the command and its grandchildren inherit it), so "nothing left" is
"no process with the token", whatever reparenting happened on the way.
"""

from __future__ import annotations

import os
import pty
import select
import signal
import sys
import time
import uuid
from dataclasses import dataclass, field
from glob import glob
from typing import Optional

TOKEN_VAR = "SCRIPTHOST_TEST_TOKEN"
#: tracefs files a tracer could leave changed (we never write them; this proves it)
TRACEFS_STATE = ("tracing_on", "current_tracer", "set_event", "set_event_pid",
                 "events/raw_syscalls/sys_enter/enable", "events/raw_syscalls/sys_enter/filter",
                 "events/raw_syscalls/sys_exit/filter", "events/sched/sched_switch/filter")


def new_token() -> str:
    return uuid.uuid4().hex


def token_env(token: str, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env[TOKEN_VAR] = token
    env.update(extra)
    return env


def pids_with_token(token: str) -> list[int]:
    needle = f"{TOKEN_VAR}={token}".encode()
    out = []
    for d in glob("/proc/[0-9]*"):
        try:
            with open(f"{d}/environ", "rb") as f:
                env = f.read()
            with open(f"{d}/stat", "rb") as f:
                state = f.read().rsplit(b")", 1)[1].split()[0]
        except OSError:
            continue
        if needle in env.split(b"\0") and state != b"Z":
            out.append(int(d[6:]))
    return out


def perf_event_fd_owners() -> set[int]:
    """Processes holding a perf event fd now."""
    owners = set()
    for d in glob("/proc/[0-9]*/fd"):
        try:
            names = os.listdir(d)
        except OSError:
            continue
        for fd in names:
            try:
                if "perf_event" in os.readlink(f"{d}/{fd}"):
                    owners.add(int(d.split("/")[2]))
                    break
            except OSError:
                continue
    return owners


def tracefs_state(root: str) -> dict[str, bytes]:
    state = {}
    for name in TRACEFS_STATE:
        try:
            with open(os.path.join(root, name), "rb") as f:
                state[name] = f.read()
        except OSError:
            state[name] = b"<unreadable>"
    return state


def wait_gone(token: str, timeout: float = 10.0) -> list[int]:
    """The token's processes still alive after up to ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        left = pids_with_token(token)
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.1)


def wait_for(pred, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.05)
    return False


@dataclass
class PtyRun:
    """A command under a new pty as its controlling terminal, as a terminal runs it."""

    argv: list[str]
    env: dict[str, str]
    pid: int = 0
    fd: int = -1
    output: bytearray = field(default_factory=bytearray)
    status: Optional[int] = None

    def __post_init__(self) -> None:
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # pragma: no cover - the child
            try:
                os.execvpe(self.argv[0], self.argv, self.env)
            finally:
                os._exit(127)

    def read_until(self, text: bytes, timeout: float = 30.0) -> bool:
        deadline = time.monotonic() + timeout
        while text not in self.output:
            if time.monotonic() > deadline or not self._pump(0.1):
                return text in self.output
        return True

    def _pump(self, wait: float) -> bool:
        r, _, _ = select.select([self.fd], [], [], wait)
        if r:
            try:
                data = os.read(self.fd, 65536)
            except OSError:
                return False
            if not data:
                return False
            self.output += data
        return True

    def type(self, keys: bytes) -> None:
        """Keys typed at the terminal: b"\\x03" is Ctrl-C, sent to the foreground group."""
        os.write(self.fd, keys)

    def finish(self, timeout: float = 60.0) -> int:
        deadline = time.monotonic() + timeout
        while self.status is None:
            self._pump(0.05)
            pid, st = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.status = os.waitstatus_to_exitcode(st)
            elif time.monotonic() > deadline:
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
                raise TimeoutError(f"{self.argv} still running after {timeout} s:\n{self.text}")
        while self._pump(0.05):
            pass
        os.close(self.fd)
        return self.status

    @property
    def text(self) -> str:
        return self.output.decode(errors="replace").replace("\r\n", "\n")


def scripthost_argv(*args: str) -> list[str]:
    return [sys.executable, "-m", "scripthost", *args]
