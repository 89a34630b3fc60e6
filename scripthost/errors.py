"""Errors that end a run with a one-line message instead of a traceback."""

from __future__ import annotations

__all__ = ["EmptyInput", "ScripthostError", "StreamError", "UsageError"]


class ScripthostError(Exception):
    """A fault we can explain in one line; the CLI prints it and exits non-zero."""

    exit_code = 1

    def __init__(self, message: str, *, exit_code: int | None = None) -> None:
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code


class StreamError(ScripthostError):
    """The input stream is truncated or corrupt at a known byte offset."""

    exit_code = 2

    def __init__(self, message: str, offset: int | None = None, *, exit_code: int | None = None) -> None:
        if offset is not None:
            message = f"{message} at offset {offset:#x}"
        super().__init__(message, exit_code=exit_code)
        self.offset = offset


class EmptyInput(StreamError):
    """The input ended before its first byte: the recording failed (and, as a record half
    in a pipeline, has already said why).  perf script exits 255 on an empty file or pipe."""

    exit_code = 255

    def __init__(self) -> None:
        super().__init__("empty input: no perf data (did the record side fail to start?)", 0)


class UsageError(ScripthostError):
    """The command line is wrong."""

    exit_code = 129
