"""perf's pipe-mode stream, written: the header records perf 6.1 needs
(attrs with ids, features, tracing data, event names), COMM records for tasks
that already exist, then the ring buffers' records with FINISHED_ROUND marks."""

from __future__ import annotations

import os
import socket
import struct
from typing import BinaryIO, Iterable, Optional

from scripthost.engine.layouts import EVENT_HEADER, Feature, HEADER_LAST_FEATURE, PIPE_HEADER, PERF_MAGIC, RecordType as R

__all__ = ["StreamWriter", "str64"]


def _kernel_text() -> tuple[int, int]:
    """The kernel's _text and _etext addresses, or zeros when kallsyms hides them."""
    found = {}
    try:
        with open("/proc/kallsyms", "rb") as f:
            for line in f:
                if line.endswith((b" _text\n", b" _etext\n")):
                    found[line.split()[2]] = int(line.split()[0], 16)
                    if len(found) == 2:
                        break
    except (OSError, ValueError):
        pass
    return found.get(b"_text", 0), found.get(b"_etext", 0)


def str64(s: str) -> bytes:
    """perf's header string: u32 len, then NUL-terminated text padded to 64."""
    b = s.encode() + b"\0"
    b += bytes(-len(b) % 64)
    return struct.pack("<I", len(b)) + b


def _record(rtype: int, payload: bytes, misc: int = 0) -> bytes:
    payload += bytes(-len(payload) % 8)
    return EVENT_HEADER.pack(rtype, misc, 8 + len(payload)) + payload


class StreamWriter:
    """Writes records to a binary file object in large writes."""

    def __init__(self, out: BinaryIO, trailer_size: int) -> None:
        self.out = out
        self.trailer = bytes(trailer_size)  # synthesized records carry all-zero sample_id trailers
        self.bytes = 0

    def write(self, data: bytes) -> None:
        if data:
            self.out.write(data)
            self.bytes += len(data)

    def flush(self) -> None:
        self.out.flush()

    def header(self) -> None:
        self.write(PIPE_HEADER.pack(PERF_MAGIC, PIPE_HEADER.size))

    def attr(self, attr: bytes, ids: Iterable[int]) -> None:
        self.write(_record(R.HEADER_ATTR, attr + b"".join(struct.pack("<Q", i) for i in ids)))

    def features(self, cmdline: list[str], names: list[tuple[bytes, list[int], str]]) -> None:
        uts = os.uname()
        ncpu = os.cpu_count() or 1
        try:
            mem = next(int(line.split()[1]) for line in open("/proc/meminfo") if line.startswith("MemTotal"))
        except (OSError, StopIteration, ValueError):
            mem = 0
        desc = struct.pack("<II", len(names), len(names[0][0]) if names else 128)
        for attr, ids, name in names:
            desc += attr + struct.pack("<I", len(ids)) + str64(name) + b"".join(struct.pack("<Q", i) for i in ids)
        feats = {
            Feature.HOSTNAME: str64(socket.gethostname()),
            Feature.OSRELEASE: str64(uts.release),
            Feature.VERSION: str64("scripthost"),
            Feature.ARCH: str64(os.uname().machine),
            Feature.NRCPUS: struct.pack("<II", ncpu, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else ncpu),
            Feature.TOTAL_MEM: struct.pack("<Q", mem),
            Feature.CMDLINE: struct.pack("<I", len(cmdline)) + b"".join(str64(a) for a in cmdline),
            Feature.EVENT_DESC: desc,
        }
        for fid in sorted(feats):
            self.write(_record(R.HEADER_FEATURE, struct.pack("<Q", fid) + feats[fid]))
        self.write(_record(R.HEADER_FEATURE, struct.pack("<Q", HEADER_LAST_FEATURE)))

    def tracing_data(self, blob: bytes) -> None:
        self.write(_record(R.HEADER_TRACING_DATA, struct.pack("<II", len(blob), 0)) + blob)

    def event_name(self, ev_id: int, name: str) -> None:
        self.write(_record(R.EVENT_UPDATE, struct.pack("<QQ", 2, ev_id) + name.encode() + b"\0"))

    def comm(self, pid: int, tid: int, comm: bytes) -> None:
        body = struct.pack("<II", pid, tid) + comm + b"\0"
        body += bytes(-len(body) % 8)
        self.write(_record(R.COMM, body + self.trailer))

    def existing_tasks(self) -> None:
        """COMM records for every thread alive now (perf synthesizes these from /proc)."""
        chunks = []
        for p in os.listdir("/proc"):
            if not p.isdigit():
                continue
            try:
                tids = os.listdir(f"/proc/{p}/task")
            except OSError:
                continue
            for t in tids:
                try:
                    with open(f"/proc/{p}/task/{t}/comm", "rb") as f:
                        comm = f.read().rstrip(b"\n")
                except OSError:
                    continue
                body = struct.pack("<II", int(p), int(t)) + comm + b"\0"
                body += bytes(-len(body) % 8)
                chunks.append(_record(R.COMM, body + self.trailer))
        self.write(b"".join(chunks))

    def kernel_map(self) -> None:
        """The kernel image's MMAP record, as perf synthesizes it (from kallsyms' _text)."""
        text, etext = _kernel_text()
        if not text or etext <= text:
            return
        body = struct.pack("<iIQQQ", -1, 0, text, etext - text, text) + b"[kernel.kallsyms]_text\0"
        body += bytes(-len(body) % 8)
        self.write(_record(R.MMAP, body + self.trailer, misc=1))

    def existing_maps(self, pids: Optional[list[int]] = None) -> None:
        """MMAP2 records for the executable mappings of running processes."""
        chunks = []
        for p in pids or [int(d) for d in os.listdir("/proc") if d.isdigit()]:
            try:
                with open(f"/proc/{p}/maps", "rb") as f:
                    lines = f.read().splitlines()
            except OSError:
                continue
            for line in lines:
                parts = line.split(None, 5)
                if len(parts) < 5 or b"x" not in parts[1]:
                    continue
                lo, hi = (int(x, 16) for x in parts[0].split(b"-"))
                maj, mnr = (int(x, 16) for x in parts[3].split(b":"))
                perms = parts[1]
                prot = (1 if b"r" in perms else 0) | (2 if b"w" in perms else 0) | 4
                name = parts[5].strip() if len(parts) > 5 else b"//anon"
                body = struct.pack("<IIQQQIIQQII", p, p, lo, hi - lo, int(parts[2], 16), maj, mnr,
                                   int(parts[4]), 0, prot, 2 if perms.endswith(b"p") else 1)
                body += name + b"\0"
                body += bytes(-len(body) % 8)
                chunks.append(_record(R.MMAP2, body + self.trailer, misc=2))
        self.write(b"".join(chunks))

    def finished_round(self) -> None:
        self.write(_record(R.FINISHED_ROUND, b""))

    def finished_init(self) -> None:
        self.write(_record(R.FINISHED_INIT, b""))
