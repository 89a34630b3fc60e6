"""tracefs: finding (and mounting) it, resolving event specs to tracepoints,
and building the tracing-data blob perf stores with a recording."""

from __future__ import annotations

import fnmatch
import os
import struct
from dataclasses import dataclass

from scripthost.errors import ScripthostError

__all__ = ["Tracepoint", "tracefs_root", "resolve_events", "tracing_data_blob"]

_CANDIDATES = ("/sys/kernel/tracing", "/sys/kernel/debug/tracing")


@dataclass(frozen=True)
class Tracepoint:
    system: str
    name: str
    id: int
    format: bytes

    @property
    def full_name(self) -> str:
        return f"{self.system}:{self.name}"


def _mounted() -> list[str]:
    try:
        with open("/proc/mounts") as f:
            return [line.split()[1] for line in f if line.split()[2:3] == ["tracefs"]]
    except OSError:
        return []


def tracefs_root() -> str:
    """tracefs's mount point, mounting it at /sys/kernel/tracing when we may."""
    for d in _mounted() + list(_CANDIDATES):
        if os.path.isdir(os.path.join(d, "events")):
            return d
        if os.path.isdir(d) and not os.access(d, os.R_OK | os.X_OK):
            from scripthost.collect.perf_event import permission_hint
            raise ScripthostError(permission_hint().replace("no permission to trace",
                                                            f"no permission to read {d}"))
    if os.geteuid() == 0:
        os.makedirs(_CANDIDATES[0], exist_ok=True)
        rc = os.system(f"mount -t tracefs nodev {_CANDIDATES[0]} >/dev/null 2>&1")
        if rc == 0 and os.path.isdir(os.path.join(_CANDIDATES[0], "events")):
            return _CANDIDATES[0]
    raise ScripthostError("tracefs is not mounted or not readable: as root run "
                          "`mount -t tracefs nodev /sys/kernel/tracing`")


def _read(path: str) -> bytes:
    with open(path, "rb") as f:  # tracefs files report size 0: read to EOF
        return f.read()


def resolve_events(specs: list[str]) -> list[Tracepoint]:
    """`sys:event` specs (globs allowed in both parts) to tracepoints, in spec order."""
    if not specs:
        return []  # sampled events alone need no tracefs
    root = os.path.join(tracefs_root(), "events")
    out: list[Tracepoint] = []
    seen = set()
    for spec in specs:
        if ":" not in spec:
            raise ScripthostError(f"unknown event {spec!r}: give a tracepoint as system:event "
                                  f"(see `ls {root}`)")
        sys_glob, ev_glob = spec.split(":", 1)
        ev_glob = ev_glob.split("/", 1)[0]
        matched = 0
        for system in sorted(os.listdir(root)) if any(c in sys_glob for c in "*?[") else [sys_glob]:
            sdir = os.path.join(root, system)
            if not fnmatch.fnmatchcase(system, sys_glob) or not os.path.isdir(sdir):
                continue
            names = sorted(os.listdir(sdir)) if any(c in ev_glob for c in "*?[") else [ev_glob]
            for name in names:
                edir = os.path.join(sdir, name)
                if not fnmatch.fnmatchcase(name, ev_glob) or not os.path.isfile(os.path.join(edir, "id")):
                    continue
                matched += 1
                if (system, name) in seen:
                    continue
                seen.add((system, name))
                try:
                    ev_id = int(_read(os.path.join(edir, "id")))
                    fmt = _read(os.path.join(edir, "format"))
                except (OSError, ValueError) as e:
                    raise ScripthostError(f"cannot read tracepoint {system}:{name}: {e}") from None
                out.append(Tracepoint(system, name, ev_id, fmt))
        if not matched:
            raise ScripthostError(f"unknown tracepoint {spec!r}: no {root}/{sys_glob}/{ev_glob} "
                                  f"(list them with `ls {root}`)")
    return out


def tracing_data_blob(tps: list[Tracepoint]) -> bytes:
    """The version 0.6 tracing-data blob for ``tps``, padded to 8 bytes."""
    root = tracefs_root()
    parts = [b"\x17\x08\x44tracing", b"0.6\0", bytes([0, 8]), struct.pack("<I", os.sysconf("SC_PAGE_SIZE"))]
    for tag in ("header_page", "header_event"):
        content = _read(os.path.join(root, "events", tag))
        parts += [tag.encode() + b"\0", struct.pack("<Q", len(content)), content]
    ftrace = [tp for tp in tps if tp.system == "ftrace"]
    parts.append(struct.pack("<I", len(ftrace)))
    for tp in ftrace:
        parts += [struct.pack("<Q", len(tp.format)), tp.format]
    systems: dict[str, list[Tracepoint]] = {}
    for tp in tps:
        if tp.system != "ftrace":
            systems.setdefault(tp.system, []).append(tp)
    parts.append(struct.pack("<I", len(systems)))
    for system, events in systems.items():
        parts += [system.encode() + b"\0", struct.pack("<I", len(events))]
        for tp in events:
            parts += [struct.pack("<Q", len(tp.format)), tp.format]
    parts.append(struct.pack("<I", 0))  # kallsyms: perf 6.1 writes none
    try:
        printk = _read(os.path.join(root, "printk_formats"))
    except OSError:
        printk = b""
    parts += [struct.pack("<I", len(printk)), printk, struct.pack("<Q", 0)]
    blob = b"".join(parts)
    return blob + bytes(-len(blob) % 8)
