"""perf's model of the traced machine: each process's memory maps (from MMAP,
MMAP2 and FORK records, recorded and synthesized), the kernel map, and the
resolution of a sample's ip and callchain to map, DSO and symbol.

User addresses resolve in the map's file-offset space (``ip - start + pgoff``),
the kernel's and JIT maps' as they are.  DSOs load their symbols on first use
and are shared by every map of the same file; each map caches what its
addresses resolved to.
"""

from __future__ import annotations

import os
from bisect import bisect_right
from typing import Callable, Optional

from scripthost.engine.demangle import demangle
from scripthost.engine.symconf import SymbolConfig
from scripthost.engine.symbols import (
    Symbol, SymbolTable, elf_table, kallsyms_table, perf_map_table, read_build_id,
    running_kernel_build_id,
)

__all__ = ["Dso", "Map", "Maps", "Machine", "Location", "KERNEL_DSO", "CONTEXT_MAX", "CONTEXT_MODE"]

KERNEL_DSO = "[kernel.kallsyms]"
# callchain context markers (PERF_CONTEXT_*, as u64)
CONTEXT_MAX = (1 << 64) - 4095
_CHAINS_KEPT = 1 << 16  # resolved stacks kept, at most
CONTEXT_MODE = {(1 << 64) - 32: 3, (1 << 64) - 128: 1, (1 << 64) - 512: 2,
                 (1 << 64) - 2176: 4, (1 << 64) - 2560: 5}
_ANON_PREFIXES = ("//anon", "/dev/zero", "/anon_hugepage")


class Dso:
    """A file (or the kernel, the vdso, a JIT map) whose symbols a map shows."""

    __slots__ = ("name", "build_id", "_loader", "_table")

    def __init__(self, name: str, build_id: str, loader: Callable[["Dso"], Optional[SymbolTable]]) -> None:
        self.name = name
        self.build_id = build_id
        self._loader = loader
        self._table: Optional[SymbolTable] = None

    @property
    def table(self) -> Optional[SymbolTable]:
        if self._loader is not None:
            loader, self._loader = self._loader, None
            self._table = loader(self)
        return self._table


class Map:
    """A mapping [start, end) of ``dso`` at file offset ``pgoff``."""

    __slots__ = ("start", "end", "pgoff", "dso", "identity", "cache")

    def __init__(self, start: int, end: int, pgoff: int, dso: Dso, identity: bool = False) -> None:
        self.start = start
        self.end = end
        self.pgoff = pgoff
        self.dso = dso
        self.identity = identity
        self.cache: dict[int, "Location"] = {}

    def map_ip(self, ip: int) -> int:
        return ip if self.identity else ip - self.start + self.pgoff


class Location:
    """Where an ip resolved: its map (or None), the address in the map's
    space, and the symbol (or None)."""

    __slots__ = ("ip", "map", "addr", "sym")

    def __init__(self, ip: int, map_: Optional[Map], addr: int, sym: Optional[Symbol]) -> None:
        self.ip = ip
        self.map = map_
        self.addr = addr
        self.sym = sym

    @property
    def dso_name(self) -> str:
        return self.map.dso.name if self.map is not None else "[unknown]"

    @property
    def sym_name(self) -> str:
        return self.sym.name if self.sym is not None else "[unknown]"

    @property
    def symoff(self) -> int:
        return self.addr - self.sym.start if self.sym is not None else 0


class Maps:
    """One address space: non-overlapping maps sorted by start."""

    __slots__ = ("_starts", "_maps")

    def __init__(self) -> None:
        self._starts: list[int] = []
        self._maps: list[Map] = []

    def copy(self) -> "Maps":
        m = Maps()
        m._starts = list(self._starts)
        m._maps = list(self._maps)
        return m

    def insert(self, new: Map) -> None:
        """Add ``new``; what it overlaps of older maps is cut away, as perf does."""
        lo = bisect_right(self._starts, new.start) - 1
        lo = max(lo, 0)
        keep_before: list[Map] = []
        keep_after: list[Map] = []
        hi = lo
        while hi < len(self._maps) and self._maps[hi].start < new.end:
            old = self._maps[hi]
            if old.end > new.start:
                if old.start < new.start:
                    keep_before.append(Map(old.start, new.start, old.pgoff, old.dso, old.identity))
                if old.end > new.end:
                    cut = new.end - old.start
                    keep_after.append(Map(new.end, old.end, old.pgoff + (0 if old.identity else cut),
                                          old.dso, old.identity))
            else:
                keep_before.append(old)
            hi += 1
        pieces = keep_before + [new] + keep_after
        self._maps[lo:hi] = pieces
        self._starts[lo:hi] = [m.start for m in pieces]

    def find(self, ip: int) -> Optional[Map]:
        i = bisect_right(self._starts, ip) - 1
        if i >= 0:
            m = self._maps[i]
            if ip < m.end:
                return m
        return None


def _own_vdso() -> Optional[bytes]:
    """This process's vdso image (same kernel as a live recording's)."""
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                if line.rstrip().endswith("[vdso]"):
                    lo, hi = (int(x, 16) for x in line.split()[0].split("-"))
                    with open("/proc/self/mem", "rb") as mem:
                        mem.seek(lo)
                        return mem.read(hi - lo)
    except (OSError, ValueError):
        pass
    return None


class Machine:
    """Threads' address spaces and the kernel's, fed by the session's records."""

    def __init__(self, build_ids: Optional[dict[str, str]] = None,
                 kallsyms: Optional[Callable[[], bytes]] = None) -> None:
        self.build_ids = build_ids or {}
        #: --symfs, --kallsyms, --vmlinux, demangling, --max-stack (see symconf.py)
        self.config = SymbolConfig()
        self._kallsyms = kallsyms or self._host_kallsyms
        self.kernel = Maps()
        self.procs: dict[int, Maps] = {}
        self._dsos: dict[str, Dso] = {}
        self._kernel_end: Optional[int] = None
        self._kernel_pending: list[tuple[int, int]] = []
        self._kernel_table: Optional[SymbolTable] = None
        #: counts the changes to any address space: what was resolved under one
        #: generation resolves the same until it moves on
        self.generation = 0
        self._chains: dict[tuple, tuple[Location, ...]] = {}
        self._chains_of = 0

    # -- kallsyms ---------------------------------------------------------------------

    def _host_kallsyms(self) -> bytes:
        if self.config.kallsyms is not None:
            paths = [self.config.kallsyms]
        elif self.config.symfs:
            paths = []  # perf reads neither the host's kallsyms nor its cache's under --symfs
        else:
            paths = self._kallsyms_paths()
        for p in paths:
            try:
                with open(p, "rb") as f:
                    return f.read()
            except OSError:
                continue
        return b""

    def _kallsyms_paths(self) -> list[str]:
        bid = self.build_ids.get(KERNEL_DSO, "")
        paths = [os.path.expanduser(f"~/.debug/{KERNEL_DSO}/{bid}/kallsyms")] if bid else []
        # as perf: the running kernel's symbols only for a recording of this kernel
        if not bid or bid == running_kernel_build_id():
            paths.append("/proc/kallsyms")
        return paths

    def kernel_table(self) -> SymbolTable:
        if self._kernel_table is None:
            if self.config.vmlinux is not None:  # perf then reads no kallsyms at all
                self._kernel_table = self._vmlinux_table(self.config.vmlinux)
            else:
                self._kernel_table = kallsyms_table(self._kallsyms())
        return self._kernel_table

    def kernel_map_end(self) -> int:
        """perf's end of the kernel map: the last symbol rounded up to a page, plus a page."""
        if self._kernel_end is None:
            syms = self.kernel_table().symbols
            self._kernel_end = (syms[-1].start + 4095) // 4096 * 4096 + 4096 if syms else 0
        return self._kernel_end

    # -- records ----------------------------------------------------------------------

    def _dso(self, name: str, build_id: str) -> Dso:
        key = name if not build_id else f"{name}\0{build_id}"
        d = self._dsos.get(key)
        if d is None:
            d = self._dsos[key] = Dso(name, build_id, self._loader_for(name))
        return d

    def _loader_for(self, name: str) -> Callable[[Dso], Optional[SymbolTable]]:
        if name == KERNEL_DSO:
            return lambda d: self.kernel_table()
        if name.startswith("/tmp/perf-") and name.endswith(".map"):
            return lambda d: perf_map_table(d.name)
        if name == "[vdso]":
            return self._load_vdso
        if name.startswith("["):
            return lambda d: None
        return self._load_elf

    def _vmlinux_table(self, path: str) -> SymbolTable:
        """A vmlinux's symbols, at the addresses it links them to; none when its build id
        is not the recorded kernel's (as perf, which then prints [unknown])."""
        bid = self.build_ids.get(KERNEL_DSO, "")
        table = None
        if read_build_id(path) == bid or not bid:
            table = elf_table(path, rename=self._rename(kernel=True), offsets=False)
        return table if table is not None else SymbolTable([])

    def _rename(self, kernel: bool = False) -> Optional[Callable[[str], str]]:
        """What ELF symbol names become: demangled unless --no-demangle (the kernel's only
        with --demangle-kernel)."""
        return demangle if (self.config.demangle_kernel if kernel else self.config.demangle) else None

    def _load_elf(self, dso: Dso) -> Optional[SymbolTable]:
        path = self.config.path(dso.name)
        on_disk = read_build_id(path)
        if dso.build_id and on_disk != dso.build_id:
            # the file changed since the recording: perf's build-id cache may hold the old one
            path = self.config.path(os.path.expanduser(f"~/.debug{dso.name}/{dso.build_id}/elf"))
            if not os.path.exists(path):
                return None
        dso.build_id = dso.build_id or on_disk
        return elf_table(path, build_id=dso.build_id, rename=self._rename(),
                         debug_root=self.config.symfs)

    def _load_vdso(self, dso: Dso) -> Optional[SymbolTable]:
        if dso.build_id:
            cached = self.config.path(os.path.expanduser(f"~/.debug/[vdso]/{dso.build_id}/vdso"))
            if os.path.exists(cached):
                return elf_table(cached)
        image = _own_vdso()
        if not image:
            return None
        # a recording without build ids (a pipe): perf names its own vdso's
        dso.build_id = dso.build_id or read_build_id(image)
        return elf_table("[vdso]", data=image)

    def mmap(self, pid: int, start: int, length: int, pgoff: int, filename: str, kernel: bool,
             build_id: str = "", executable: bool = True) -> None:
        """An MMAP/MMAP2 record (``executable``: not a data map, which -d records)."""
        self.generation += 1
        if kernel or pid == -1:
            if filename.startswith(KERNEL_DSO):
                # its end needs kallsyms: placed at the first kernel address resolved
                self._kernel_pending.append((start, length))
            return  # kernel modules: not resolved (their symbols would come from the .ko files)
        identity = False
        if filename.startswith(_ANON_PREFIXES):
            # perf looks executable anonymous memory up in the JIT's map file
            filename = f"/tmp/perf-{pid}.map" if executable else filename
            identity = True
        bid = build_id or self.build_ids.get(filename, "")
        maps = self.procs.get(pid)
        if maps is None:
            maps = self.procs[pid] = Maps()
        maps.insert(Map(start, start + length, pgoff, self._dso(filename, bid), identity))

    def _place_kernel(self) -> None:
        dso = self._dso(KERNEL_DSO, self.build_ids.get(KERNEL_DSO, ""))
        for start, length in self._kernel_pending:
            self.kernel.insert(Map(start, max(start + length, self.kernel_map_end()), 0, dso, True))
        self._kernel_pending.clear()

    def fork(self, pid: int, ppid: int) -> None:
        """A FORK record: a new process starts with a copy of its parent's maps."""
        self.generation += 1
        if pid != ppid:
            parent = self.procs.get(ppid)
            if parent is not None:
                self.procs[pid] = parent.copy()
            else:
                self.procs.pop(pid, None)

    # -- resolution -------------------------------------------------------------------

    def resolve(self, pid: int, cpumode: int, ip: int) -> Location:
        """The map and symbol of ``ip`` for a thread of ``pid`` in ``cpumode``
        (1 kernel, 2 user, as in a record's misc)."""
        if cpumode == 1:
            if self._kernel_pending:
                self._place_kernel()
            maps = self.kernel
        elif cpumode == 2:
            maps = self.procs.get(pid)
            if maps is None:
                return Location(ip, None, ip, None)
        else:
            return Location(ip, None, ip, None)
        m = maps.find(ip)
        if m is None:
            return Location(ip, None, ip, None)
        loc = m.cache.get(ip)
        if loc is None:
            addr = m.map_ip(ip)
            table = m.dso.table
            loc = m.cache[ip] = Location(ip, m, addr, table.find(addr) if table is not None else None)
        return loc

    def callchain(self, pid: int, cpumode: int, chain: tuple) -> tuple[Location, ...]:
        """The callchain's entries resolved, context markers left out; a chain
        holding an unknown context value is corrupt and, as perf 6.1 does, comes
        back empty.  The same stacks come back again and again: each is resolved
        once per generation."""
        if self.config.max_stack <= 0:
            return ()
        if self._chains_of != self.generation or len(self._chains) > _CHAINS_KEPT:
            self._chains.clear()
            self._chains_of = self.generation
        key = (pid, cpumode, chain)
        locs = self._chains.get(key)
        if locs is None:
            out = []
            for ip in chain:
                if ip >= CONTEXT_MAX:
                    cpumode = CONTEXT_MODE.get(ip, -1)
                    if cpumode < 0:
                        out.clear()
                        break
                    continue
                out.append(self.resolve(pid, cpumode, ip))
                if len(out) == self.config.max_stack:
                    break
            locs = self._chains[key] = tuple(out)
        return locs

    def printed_chain(self, pid: int, cpumode: int, chain: tuple) -> tuple[Location, ...]:
        """The callchain as the default output prints it: ended after the first frame
        whose symbol --stop-bt names."""
        locs = self.callchain(pid, cpumode, chain)
        stop = self.config.stop_bt
        if stop:
            for i, loc in enumerate(locs):
                if loc.sym is not None and loc.sym.name in stop:
                    return locs[:i + 1]
        return locs
