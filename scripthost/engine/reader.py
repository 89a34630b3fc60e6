"""Opening a recording: tells a pipe-mode stream from a perf.data file, reads a
file's attr, id and feature sections, and positions the input at the first
record.  The records themselves are framed by `scripthost.engine.session`.
"""

from __future__ import annotations

import io
import sys
from dataclasses import dataclass, field
from typing import Optional

from scripthost.engine.layouts import FILE_HEADER, PERF_MAGIC, PIPE_HEADER, U64
from scripthost.engine.source import ChunkSource, Input, open_input
from scripthost.errors import CorruptInput, EmptyInput, TruncatedInput, UnsupportedInput

__all__ = ["Recording", "open_recording"]

_SWAPPED_MAGIC = PERF_MAGIC[::-1]


@dataclass
class Recording:
    """An opened input, positioned at its first record."""

    source: ChunkSource
    pipe: bool
    #: file mode: (attr bytes, ids, the attr's offset) from the attrs section, in order
    attrs: list[tuple[bytes, list[int], int]] = field(default_factory=list)
    #: file mode: raw feature section payloads by feature id
    features: dict[int, bytes] = field(default_factory=dict)
    #: file mode: where each feature section starts
    feature_offsets: dict[int, int] = field(default_factory=dict)
    #: absolute offset where records end (None: at end of input)
    data_end: int | None = None
    data_offset: int = 0
    data_size: int = 0
    feat_offset: int = 0
    header_size: int = 0


#: the fix named by every "this is not a recording" error
_GIVE_A_RECORDING = "give the output of `perf record` or `scripthost record`"

def _need(src: ChunkSource, n: int, what: str) -> bytes:
    data = src.read_exact(n)
    if data is None:
        raise TruncatedInput(f"truncated input: {what} cut short", src.tell())
    return data


def open_recording(inp: Input) -> Recording:
    """Open a path, ``-``, file object, bytes or byte iterator as a recording."""
    reader, name, seekable = open_input(inp)
    src = ChunkSource(reader, name)
    if not src.fill(16):
        if len(src.buf) == 0:
            raise EmptyInput()
        raise UnsupportedInput(f"incompatible file format: {len(src.buf)} bytes, shorter than a perf header "
                          f"({_GIVE_A_RECORDING})", len(src.buf),
                          exit_code=255)
    magic, size = PIPE_HEADER.unpack_from(src.buf, 0)
    if magic == _SWAPPED_MAGIC:
        raise UnsupportedInput("big-endian perf data is not supported", 0)
    if magic != PERF_MAGIC:
        raise UnsupportedInput(
            f"incompatible file format: not a perf recording, bad magic {magic!r} (expected "
            f"{PERF_MAGIC!r}; {_GIVE_A_RECORDING})", 0,
            exit_code=255)
    if size == PIPE_HEADER.size:
        src.pos = 16
        return Recording(src, pipe=True)
    if size not in (72, FILE_HEADER.size):
        raise CorruptInput(f"corrupt perf header: header size {size}", 8)
    if not seekable:
        # A file-mode recording arriving on a pipe: its sections point
        # backwards and forwards, so hold it in memory.
        rest = []
        while src.fill(len(src.buf) - src.pos + 1):
            pass
        rest.append(src.buf[src.pos:])
        src = ChunkSource(io.BytesIO(b"".join(rest)), name)
        src.fill(16)
    return _open_file_mode(src, size)


def _read_at(src: ChunkSource, off: int, n: int, what: str, size: Optional[int]) -> bytes:
    """``n`` bytes at ``off`` of a file of ``size`` bytes, checked against it before any is read."""
    if size is not None and (off > size or n > size - off):
        raise CorruptInput(f"corrupt perf.data: {what} of {n} bytes runs past the end of the "
                          f"{size}-byte file", off)
    try:
        src.seek(off)
    except (OverflowError, ValueError, OSError):
        raise CorruptInput(f"corrupt perf.data: {what} at an impossible offset", off) from None
    return _need(src, n, what)


def _open_file_mode(src: ChunkSource, header_size: int) -> Recording:
    size = src.size()
    hdr = _read_at(src, 0, header_size, "perf.data header", size)
    if header_size == FILE_HEADER.size:
        (_, _, attr_size, attrs_off, attrs_size, data_off, data_size, _, _,
         *bitmap) = FILE_HEADER.unpack(hdr)
    else:
        (_, _, attr_size, attrs_off, attrs_size, data_off, data_size, _, _) = \
            FILE_HEADER.unpack(hdr + bytes(FILE_HEADER.size - header_size))[:9]
        bitmap = [0, 0, 0, 0]
    if attr_size < 80 or attrs_size % attr_size:
        raise CorruptInput(f"corrupt perf.data header: attr size {attr_size}, attrs section {attrs_size}", 16)
    if data_size == 0:
        # `perf record` killed before it wrote its header back: perf 6.1 refuses the file
        # with these words (its path as given; none through a pipe) and status 255
        if src.name != "<stdin>":
            sys.stderr.write(f"WARNING: The {src.name} file's data size field is 0 which is unexpected.\n"
                             "Was the 'perf record' command properly terminated?\n")
        raise UnsupportedInput("incompatible file format: the header's data size is 0 (was `perf record` "
                          "killed before it finished?)", 48, exit_code=255)
    rec = Recording(src, pipe=False, data_offset=data_off, data_size=data_size,
                    header_size=header_size)
    table = _read_at(src, attrs_off, attrs_size, "attrs section", size)
    for i in range(0, attrs_size, attr_size):
        attr = table[i:i + attr_size - 16]
        ids_off, ids_size = U64.unpack_from(table, i + attr_size - 16)[0], U64.unpack_from(table, i + attr_size - 8)[0]
        ids_raw = _read_at(src, ids_off, ids_size, "attr id list", size) if ids_size else b""
        ids = [U64.unpack_from(ids_raw, j)[0] for j in range(0, ids_size - ids_size % 8, 8)]
        rec.attrs.append((attr, ids, attrs_off + i))
    feat_ids = [bit for bit in range(256) if bitmap[bit // 64] >> (bit % 64) & 1]
    rec.feat_offset = data_off + data_size
    if feat_ids:
        index = _read_at(src, rec.feat_offset, 16 * len(feat_ids), "feature section index", size)
        for k, fid in enumerate(feat_ids):
            off, fsize = U64.unpack_from(index, 16 * k)[0], U64.unpack_from(index, 16 * k + 8)[0]
            rec.features[fid] = _read_at(src, off, fsize, f"feature section {fid}", size)
            rec.feature_offsets[fid] = off
    src.seek(data_off)
    rec.data_end = data_off + data_size
    return rec
