"""Faults writing our stdout: a closed stdout, a full disk, a reader that has gone.

Our stdout (the default output's and the scripts' `print`) writes fd 1 through
`StdoutRaw`, which raises its OSErrors as `StdoutBrokenPipe` / `StdoutWriteError`,
so wherever one surfaces (a handler, trace_end, the last flush) it is known to be
the output's and not, say, a script's own file.  `fault_of` turns one into an
`OutputFault`: EPIPE ends the run silently by SIGPIPE, as `perf script | head`
ends; anything else is one line, as perf's `write failure on standard output`.
"""

from __future__ import annotations

import errno
import io
import os
import signal
import sys
from typing import NoReturn, Optional

from scripthost.errors import ScripthostError

__all__ = ["OutputFault", "StdoutBrokenPipe", "StdoutRaw", "StdoutWriteError", "abandon_stdout",
           "die_of_sigpipe", "fault_of", "hold_std_fds", "install_stdout", "stdout_writer"]

_STD_FDS = {0: os.O_WRONLY, 1: os.O_RDONLY, 2: os.O_RDONLY}
_abandoned = False


class StdoutBrokenPipe(BrokenPipeError):
    """EPIPE writing our stdout (a script catching BrokenPipeError still catches it)."""


class StdoutWriteError(OSError):
    """Any other error writing our stdout."""


class OutputFault(ScripthostError):
    """Writing the output failed; ``silent`` when its reader has gone (EPIPE)."""

    def __init__(self, err: OSError) -> None:
        why = os.strerror(err.errno) if err.errno else str(err)
        hint = " (stdout is closed: send the output somewhere, e.g. `> FILE`)" if err.errno == errno.EBADF else ""
        super().__init__(f"cannot write the output: {why}{hint}")
        self.errno = err.errno

    @property
    def silent(self) -> bool:
        return self.errno == errno.EPIPE


def fault_of(exc: BaseException) -> Optional[OutputFault]:
    """The OutputFault ``exc`` is (or was raised while handling), or None."""
    seen = 0
    while exc is not None and seen < 8:
        if isinstance(exc, OutputFault):
            return exc
        if isinstance(exc, (StdoutBrokenPipe, StdoutWriteError)):
            return OutputFault(exc)
        exc = exc.__context__  # type: ignore[assignment]
        seen += 1
    return None


class StdoutRaw(io.RawIOBase):
    """fd 1, with its write errors tagged as our stdout's."""

    def __init__(self, fd: int = 1, *, own: bool = False) -> None:
        super().__init__()
        self._fd = fd
        self._own = own  # a dup of fd 1 made for this writer, closed with it

    def writable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self._fd

    def isatty(self) -> bool:
        return os.isatty(self._fd)

    def write(self, b: "bytes | bytearray | memoryview") -> int:  # type: ignore[override]
        if _abandoned:
            return len(b)  # the output has failed once; what is still buffered goes nowhere
        try:
            return os.write(self._fd, b)
        except OSError as e:
            cls = StdoutBrokenPipe if e.errno == errno.EPIPE else StdoutWriteError
            raise cls(e.errno, e.strerror) from None

    def close(self) -> None:
        if self._own and not self.closed:
            os.close(self._fd)
        super().close()  # fd 1 itself stays open, as sys.stdout's does


def stdout_writer(buffer_size: int = io.DEFAULT_BUFFER_SIZE) -> io.TextIOWrapper:
    """A text stream on fd 1 whose write errors are tagged (see the module doc)."""
    raw = StdoutRaw()
    return io.TextIOWrapper(io.BufferedWriter(raw, buffer_size), encoding="utf-8",
                            errors="surrogateescape", line_buffering=raw.isatty())


def hold_std_fds() -> None:
    """Hold a closed fd 0, 1 or 2 open on /dev/null the wrong way round, so using it fails
    with EBADF as a closed fd does, and no file we open (an input, a pipe) becomes our
    stdout or a child's."""
    for fd, mode in _STD_FDS.items():
        try:
            os.fstat(fd)
        except OSError:
            held = os.open(os.devnull, mode)
            if held != fd:
                os.dup2(held, fd)
                os.close(held)


def install_stdout() -> None:
    """Make sys.stdout the tagged writer (print, the scripts' output)."""
    if sys.stdout is not None:
        try:
            sys.stdout.flush()
        except (OSError, ValueError):
            pass
    sys.stdout = stdout_writer()


def abandon_stdout() -> None:
    """Write nothing more to stdout: the flushes of whatever is still buffered (at exit,
    or when a writer is collected) then succeed without writing."""
    global _abandoned
    _abandoned = True


def die_of_sigpipe() -> NoReturn:
    """End as a process killed by SIGPIPE, with nothing more written anywhere."""
    abandon_stdout()
    try:
        sys.stderr.flush()
    except (OSError, ValueError):
        pass
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    os.kill(os.getpid(), signal.SIGPIPE)
    os._exit(128 + signal.SIGPIPE)  # not reached: the signal ends us first
