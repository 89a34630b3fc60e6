"""Errors that end a run with a one-line message instead of a traceback."""

from __future__ import annotations

__all__ = ["CorruptInput", "EmptyInput", "ReadFailure", "ScriptError", "ScripthostError", "StreamError",
           "TruncatedInput", "UnsupportedInput", "UsageError"]


class ScripthostError(Exception):
    """A fault we can explain in one line; the CLI prints it and exits non-zero."""

    exit_code = 1

    def __init__(self, message: str, *, exit_code: int | None = None) -> None:
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code


class StreamError(ScripthostError):
    """The input cannot be read as perf data, at a known byte offset (None: unknown).
    Raised as one of its kinds below; callers catch this base."""

    exit_code = 2

    def __init__(self, message: str, offset: int | None = None, *, exit_code: int | None = None) -> None:
        if offset is not None:
            message = f"{message} at offset {offset:#x}"
        super().__init__(message, exit_code=exit_code)
        self.offset = offset


class TruncatedInput(StreamError):
    """The input ends inside a header, section or record."""


class CorruptInput(StreamError):
    """A size, offset, count or text in the input is impossible."""


class UnsupportedInput(StreamError):
    """Not perf data we read: another format (perf's "incompatible file format", status
    255), or perf data in a form we do not take (big-endian, compressed)."""


class ReadFailure(StreamError):
    """The operating system failed a read of the input, or the input changed under us."""


class EmptyInput(TruncatedInput):
    """The input ended before its first byte: the recording failed (and, as a record half
    in a pipeline, has already said why).  perf script exits 255 on an empty file or pipe."""

    exit_code = 255

    def __init__(self) -> None:
        super().__init__("empty input: no perf data (did the record side fail to start?)", 0)


class ScriptError(ScripthostError):
    """The user's script failed; its own diagnostics were already printed."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message, exit_code=exit_code)


class UsageError(ScripthostError):
    """The command line is wrong."""

    exit_code = 129
