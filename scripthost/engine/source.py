"""Byte sources for the reader: a path, ``-`` for stdin, a file object, or an
iterable of byte strings, all read in large chunks.

`ChunkSource` keeps one immutable ``bytes`` buffer and a position in it; the
session parses records straight out of that buffer and asks for more only when
a record straddles the end.
"""

from __future__ import annotations

import io
import os
import sys
from typing import BinaryIO, Callable, Iterable, Iterator, Optional, Union

from scripthost.errors import CorruptInput, ReadFailure, ScripthostError

__all__ = ["Input", "ChunkSource", "default_input", "open_input", "offset_of", "record_fault"]

CHUNK = 1 << 20
#: the most one read asks for: a declared length is read in pieces, so what it costs
#: is what the input holds, never what it claims
READ_MAX = 1 << 24
#: no record, section or blob of a sane recording comes near this
MAX_RECORD = 1 << 36

#: id -> (input offset, length) of the buffers ChunkSources made lately: a queued event
#: holds its buffer and its position there, and a fault found in it names its offset
_BUFFERS: dict[int, tuple[int, int]] = {}
_BUFFERS_KEPT = 4096


def _register(buf: bytes, offset: int) -> None:
    _BUFFERS.pop(id(buf), None)
    _BUFFERS[id(buf)] = (offset, len(buf))
    if len(_BUFFERS) > _BUFFERS_KEPT:
        del _BUFFERS[next(iter(_BUFFERS))]


def offset_of(buf: bytes, pos: int) -> Optional[int]:
    """The input offset of ``buf[pos]``, for a buffer of the input's; None if unknown."""
    at = _BUFFERS.get(id(buf))
    return at[0] + pos if at is not None and at[1] == len(buf) and 0 <= pos < at[1] else None


def record_fault(message: str, buf: bytes, pos: int) -> CorruptInput:
    """The error of a corrupt record at ``buf[pos]``, at its offset."""
    return CorruptInput(message, offset_of(buf, pos))

Input = Union[str, "os.PathLike[str]", BinaryIO, bytes, bytearray, Iterable[bytes]]


class _IterReader:
    """Adapts an iterator of byte strings to ``read(n)``."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks

    def read(self, n: int = -1) -> bytes:
        for chunk in self._chunks:
            if chunk:
                return bytes(chunk)
        return b""

    def close(self) -> None:
        pass


def default_input() -> str:
    """perf's rule for no -i: stdin when it is a FIFO, else ./perf.data."""
    import stat
    try:
        if stat.S_ISFIFO(os.fstat(0).st_mode):
            return "-"
    except OSError:
        pass
    return "perf.data"


def open_input(inp: Input) -> tuple[object, str, bool]:
    """Open ``inp``; return (reader with ``read(n)``, display name, seekable)."""
    if isinstance(inp, (bytes, bytearray, memoryview)):
        return io.BytesIO(bytes(inp)), "<bytes>", True
    if isinstance(inp, (str, os.PathLike)):
        path = os.fspath(inp)
        if path == "-":
            raw = sys.stdin.buffer.raw if hasattr(sys.stdin.buffer, "raw") else sys.stdin.buffer
            return raw, "<stdin>", False
        try:
            f = open(path, "rb", buffering=0)
        except FileNotFoundError:
            raise ScripthostError(
                f"cannot open {path}: no such file (record one with `scripthost record` "
                "or `perf record`)", exit_code=255) from None
        except PermissionError:
            raise ScripthostError(f"cannot open {path}: permission denied (run as its owner or root)", exit_code=255) from None
        except IsADirectoryError:
            raise ScripthostError(f"cannot open {path}: it is a directory, give a perf.data file", exit_code=255) from None
        try:
            seekable = os.path.isfile(path) and f.seekable()
        except OSError:
            seekable = False
        return f, path, seekable
    if hasattr(inp, "read"):
        try:
            seekable = bool(inp.seekable())  # type: ignore[union-attr]
        except (AttributeError, OSError, ValueError):
            seekable = False
        return inp, getattr(inp, "name", "<stream>"), seekable
    return _IterReader(iter(inp)), "<iterator>", False


class ChunkSource:
    """An input read in big chunks, exposing ``buf`` / ``pos`` / ``offset``.

    ``offset`` is the absolute stream offset of ``buf[0]``.
    """

    __slots__ = ("_f", "_readsome", "name", "buf", "pos", "offset", "eof", "on_chunk")

    def __init__(self, reader: object, name: str) -> None:
        self._f = reader
        # read1/raw reads return what a pipe has now instead of waiting for a full chunk
        self._readsome = getattr(reader, "read1", None) or reader.read  # type: ignore[attr-defined]
        self.name = name
        self.buf = b""
        self.pos = 0
        self.offset = 0
        self.eof = False
        #: called with (buf, offset) each time `fill` makes a new buffer
        self.on_chunk: Optional[Callable[[bytes, int], None]] = None

    def _read(self, n: int) -> bytes:
        try:
            data = self._readsome(n)
        except KeyboardInterrupt:
            raise
        except OSError as e:
            raise ReadFailure(f"read error on {self.name}: {e.strerror or e}", self.offset + len(self.buf))
        return data or b""

    def fill(self, need: int = 1) -> bool:
        """Make at least ``need`` unread bytes available; False at end of input."""
        avail = len(self.buf) - self.pos
        if avail >= need:
            return True
        if need > MAX_RECORD:
            raise CorruptInput(f"corrupt input: a length of {need} bytes", self.offset + self.pos)
        if self.eof:
            return False
        parts = [self.buf[self.pos:]] if avail else []
        self.offset += self.pos
        have = avail
        want = max(need, CHUNK)
        while have < need:
            data = self._read(min(want - have, READ_MAX))
            if not data:
                self.eof = True
                break
            parts.append(data)
            have += len(data)
        self.buf = parts[0] if len(parts) == 1 else b"".join(parts)
        self.pos = 0
        _register(self.buf, self.offset)
        if self.on_chunk is not None:
            self.on_chunk(self.buf, self.offset)
        return have >= need

    def read_at(self, offset: int, n: int) -> bytes:
        """``n`` bytes at absolute ``offset`` of a seekable input, leaving the read
        position alone (a file read with pread: another process may share it)."""
        try:
            fd = self._f.fileno()  # type: ignore[attr-defined]
        except (AttributeError, OSError, ValueError):
            fd = -1
        if fd >= 0:
            try:
                data = os.pread(fd, n, offset)
            except OSError as e:
                raise ReadFailure(f"read error on {self.name}: {e.strerror or e}", offset) from None
        else:
            f = self._f
            here = f.tell()  # type: ignore[attr-defined]
            f.seek(offset)  # type: ignore[attr-defined]
            data = f.read(n)  # type: ignore[attr-defined]
            f.seek(here)  # type: ignore[attr-defined]
        if len(data) != n:
            raise ReadFailure(f"read error on {self.name}: the input changed while read", offset + len(data))
        return data

    def read_exact(self, n: int) -> bytes | None:
        """Consume exactly ``n`` bytes, or return None at end of input."""
        if not self.fill(n):
            return None
        data = self.buf[self.pos:self.pos + n]
        self.pos += n
        return data

    def size(self) -> Optional[int]:
        """The size of a seekable input (None for another)."""
        try:
            return os.fstat(self._f.fileno()).st_size  # type: ignore[attr-defined]
        except (AttributeError, OSError, ValueError):
            pass
        try:
            here = self._f.tell()  # type: ignore[attr-defined]
            end = self._f.seek(0, io.SEEK_END)  # type: ignore[attr-defined]
            self._f.seek(here)  # type: ignore[attr-defined]
            return end
        except (AttributeError, OSError, ValueError):
            return None

    def tell(self) -> int:
        return self.offset + self.pos

    def seek(self, absolute: int) -> None:
        """Reposition a seekable input (file mode only)."""
        self._f.seek(absolute)  # type: ignore[attr-defined]
        self._readsome = getattr(self._f, "read1", None) or self._f.read  # type: ignore[attr-defined]
        self.buf = b""
        self.pos = 0
        self.offset = absolute
        self.eof = False

    def close(self) -> None:
        close = getattr(self._f, "close", None)
        if close is not None and self._f is not getattr(sys.stdin.buffer, "raw", None):
            close()
