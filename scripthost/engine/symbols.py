"""Symbol tables for sample and callchain addresses, built the way perf 6.1
builds them: ELF files through pyelftools (a separate debug file's .symtab
first, then the file's own .symtab, then .dynsym), the kernel from a kallsyms
text, JIT code from ``/tmp/perf-PID.map`` files.

Addresses in a user table are file offsets (what perf prints for a callchain
entry: ``ip - map.start + map.pgoff``).  perf keeps one symbol per address
(its duplicate rule prefers sized, non-weak, global, fewer leading
underscores, then the longer name) and lets an unsized symbol run to the next.
"""

from __future__ import annotations

import os
import struct
from bisect import bisect_right
from typing import Callable, Iterable, Iterator, Optional

__all__ = ["Symbol", "SymbolTable", "elf_table", "kallsyms_entries", "kallsyms_table", "perf_map_table",
           "read_build_id", "running_kernel_build_id", "debug_candidates"]

STB_LOCAL, STB_GLOBAL, STB_WEAK = 0, 1, 2
_PAGE = 4096


class Symbol:
    """One symbol: [start, end) in its table's address space."""

    __slots__ = ("start", "end", "binding", "name")

    def __init__(self, start: int, end: int, binding: int, name: str) -> None:
        self.start = start
        self.end = end
        self.binding = binding
        self.name = name


def _underscores(name: str) -> int:
    return len(name) - len(name.lstrip("_"))


def _better(a: Symbol, b: Symbol) -> bool:
    """perf's choice between two symbols at one address: True keeps ``a``."""
    for ka, kb in (((a.end - a.start) > 0, (b.end - b.start) > 0),
                   (a.binding != STB_WEAK, b.binding != STB_WEAK),
                   (a.binding == STB_GLOBAL, b.binding == STB_GLOBAL)):
        if ka != kb:
            return ka
    ua, ub = _underscores(a.name), _underscores(b.name)
    if ua != ub:
        return ua < ub
    return len(a.name) >= len(b.name)


class SymbolTable:
    """Symbols sorted by start, one per address, found by bisection."""

    def __init__(self, symbols: Iterable[Symbol], *, kallsyms: bool = False) -> None:
        syms = sorted(symbols, key=lambda s: s.start)  # stable: equal starts keep file order
        if kallsyms:
            # perf fixes kallsyms ends before dropping duplicates, so of several
            # names at one address only the last has a size, and it wins
            self._fixup_ends(syms, kallsyms)
            syms = self._drop_duplicates(syms)
        else:
            syms = self._drop_duplicates(syms)
            self._fixup_ends(syms, kallsyms)
        self.symbols = syms
        self._starts = [s.start for s in syms]

    @staticmethod
    def _drop_duplicates(syms: list[Symbol]) -> list[Symbol]:
        kept: list[Symbol] = []
        for s in syms:
            if kept and kept[-1].start == s.start:
                if not _better(kept[-1], s):
                    kept[-1] = s
                continue
            kept.append(s)
        return kept

    @staticmethod
    def _fixup_ends(syms: list[Symbol], kallsyms: bool) -> None:
        for prev, cur in zip(syms, syms[1:]):
            if prev.end == prev.start:
                if kallsyms and (("[" in prev.name) != ("[" in cur.name)):
                    prev.end = (prev.end + _PAGE + _PAGE - 1) // _PAGE * _PAGE
                else:
                    prev.end = cur.start
        if syms and syms[-1].end == syms[-1].start:
            syms[-1].end = (syms[-1].start + _PAGE - 1) // _PAGE * _PAGE + _PAGE

    def find(self, addr: int) -> Optional[Symbol]:
        i = bisect_right(self._starts, addr) - 1
        if i < 0:
            return None
        s = self.symbols[i]
        return s if addr < s.end else None

    def __len__(self) -> int:
        return len(self.symbols)


def kallsyms_entries(text: bytes, *, modules: bool = False) -> Iterator[tuple[int, str, str]]:
    """(address, type letter, name) of each line of a kallsyms text: the kernel image's
    (or, with ``modules``, the modules' ones, whose lines name their module)."""
    for line in text.splitlines():
        parts = line.split()
        if len(parts) < 3 or (len(parts) > 3) != modules:
            continue
        try:
            addr = int(parts[0], 16)
        except ValueError:
            continue
        yield addr, parts[1][:1].decode("ascii", "replace"), parts[2].decode("utf-8", "replace")


def kallsyms_table(text: bytes, *, modules: bool = False) -> SymbolTable:
    """The kernel image's symbols (or, with ``modules``, the modules' ones) of
    the types perf loads (T, W, D, B in either case)."""
    syms = []
    for addr, kind, name in kallsyms_entries(text, modules=modules):
        if kind.upper() not in "TWDB":
            continue
        binding = STB_WEAK if kind in "wW" else STB_GLOBAL if kind.isupper() else STB_LOCAL
        syms.append(Symbol(addr, addr, binding, name))
    return SymbolTable(syms, kallsyms=True)


def perf_map_table(path: str) -> Optional[SymbolTable]:
    """A JIT's ``/tmp/perf-PID.map``: lines of ``START SIZE name`` in hex."""
    try:
        with open(path, "rb") as f:
            lines = f.read().splitlines()
    except OSError:
        return None
    syms = []
    for line in lines:
        parts = line.split(None, 2)
        if len(parts) == 3:
            try:
                start, size = int(parts[0], 16), int(parts[1], 16)
            except ValueError:
                continue
            syms.append(Symbol(start, start + size, STB_GLOBAL, parts[2].decode("utf-8", "replace")))
    return SymbolTable(syms)


def read_build_id(path_or_elf) -> str:
    """The GNU build id of an ELF file as hex, or ""."""
    try:
        elf = _open_elf(path_or_elf) if isinstance(path_or_elf, (str, bytes)) else path_or_elf
        if elf is None:
            return ""
        for sec in elf.iter_sections():
            if sec["sh_type"] != "SHT_NOTE":
                continue
            for note in sec.iter_notes():
                if note["n_type"] == "NT_GNU_BUILD_ID":
                    return note["n_desc"]
    except Exception:  # pyelftools raises assorted errors on damaged files
        return ""
    return ""


_NOTE = struct.Struct("<III")


def running_kernel_build_id(notes: str = "/sys/kernel/notes") -> str:
    """The running kernel's GNU build id (from its raw ELF notes), or ""."""
    try:
        with open(notes, "rb") as f:
            raw = f.read()
    except OSError:
        return ""
    pos = 0
    while pos + 12 <= len(raw):
        namesz, descsz, ntype = _NOTE.unpack_from(raw, pos)
        name_at = pos + 12
        desc_at = name_at + (namesz + 3) // 4 * 4
        if ntype == 3 and raw[name_at:name_at + namesz].rstrip(b"\0") == b"GNU":
            return raw[desc_at:desc_at + descsz].hex()
        pos = desc_at + (descsz + 3) // 4 * 4
    return ""


def debug_candidates(path: str, build_id: str, root: str = "") -> list[str]:
    """Where perf looks for a separate debug file, in its order (under ``root``, --symfs)."""
    out = []
    if build_id:
        home = os.path.expanduser("~")
        out.append(os.path.join(home, ".debug", ".build-id", build_id[:2], build_id[2:], "debug"))
        out.append(f"/usr/lib/debug/.build-id/{build_id[:2]}/{build_id[2:]}.debug")
    out.append(f"/usr/lib/debug{path}.debug")
    out.append(f"/usr/lib/debug{path}")
    return [root + p for p in out]


def _open_elf(src):
    from elftools.elf.elffile import ELFFile
    import io
    try:
        if isinstance(src, bytes):
            return ELFFile(io.BytesIO(src))
        f = open(src, "rb")
        return ELFFile(f)
    except Exception:
        return None


#: an Elf_Sym entry by ELF class (little endian; '>' for big): its fields' order differs
_SYM_LAYOUT = {64: ("IBBHQQ", ("name", "info", "other", "shndx", "value", "size")),
               32: ("IIIBBH", ("name", "value", "size", "info", "other", "shndx"))}
STT_NOTYPE, STT_OBJECT, STT_FUNC, STT_GNU_IFUNC = 0, 1, 2, 10
#: symbol types perf keeps (STT_NOTYPE labels too, in text sections)
_WANTED_TYPES = frozenset((STT_FUNC, STT_GNU_IFUNC, STT_OBJECT))
SHN_UNDEF, SHN_LORESERVE = 0, 0xFF00  # undefined; from here on ABS, COMMON, XINDEX...


def _elf_symbols(elf) -> list[tuple[int, int, int, str, int]]:
    """(value, size, binding, name, section index) of the symbols perf keeps,
    from .symtab, else .dynsym.  pyelftools finds the sections; their entries are
    unpacked in bulk (pyelftools' per-symbol parsing dominated a system-wide run)."""
    from elftools.elf.sections import SymbolTableSection
    codes, names = _SYM_LAYOUT[elf.elfclass]
    entry = struct.Struct(("<" if elf.little_endian else ">") + codes)
    at = {n: i for i, n in enumerate(names)}
    i_name, i_info, i_shndx, i_value, i_size = at["name"], at["info"], at["shndx"], at["value"], at["size"]
    for secname in (".symtab", ".dynsym"):
        sec = elf.get_section_by_name(secname)
        if not isinstance(sec, SymbolTableSection) or sec["sh_entsize"] != entry.size:
            continue
        data, strtab = sec.data(), sec.stringtable.data()
        data = data[:len(data) - len(data) % entry.size]
        out = []
        text_sections: dict[int, bool] = {}
        for sym in entry.iter_unpack(data):
            shndx = sym[i_shndx]
            if shndx == SHN_UNDEF or shndx >= SHN_LORESERVE:
                continue  # undefined, absolute or common
            kind = sym[i_info] & 0xF
            if kind not in _WANTED_TYPES:
                if kind != STT_NOTYPE:
                    continue
                # a label: kept when it sits in a text section
                is_text = text_sections.get(shndx)
                if is_text is None:
                    try:
                        is_text = "text" in elf.get_section(shndx).name
                    except Exception:
                        is_text = False
                    text_sections[shndx] = is_text
                if not is_text:
                    continue
            off = sym[i_name]
            end = strtab.find(b"\0", off)
            name = strtab[off:end if end >= 0 else len(strtab)].decode("utf-8", "replace")
            if not name:
                continue  # unnamed
            bind = sym[i_info] >> 4
            out.append((sym[i_value], sym[i_size], bind if bind <= STB_WEAK else STB_GLOBAL, name, shndx))
        if out:
            return out
    return []


def elf_table(path: str, data: Optional[bytes] = None, build_id: str = "", *,
              rename: Optional[Callable[[str], str]] = None, offsets: bool = True,
              debug_root: str = "") -> Optional[SymbolTable]:
    """Symbols of one ELF file, keyed by file offset (``offsets``, a user-space file's) or
    by address (a vmlinux); None when the file cannot be read (perf then prints
    ``[unknown]`` for its addresses).  ``rename`` gives each symbol's printed name (the
    demangler); a separate debug file is looked for under ``debug_root`` (--symfs)."""
    runtime = _open_elf(data if data is not None else path)
    if runtime is None:
        return None
    try:
        loads = [(seg["p_vaddr"], seg["p_memsz"], seg["p_offset"]) for seg in runtime.iter_segments()
                 if seg["p_type"] == "PT_LOAD"]
        syms: list = []
        if data is None:
            for cand in debug_candidates(path[len(debug_root):], build_id or read_build_id(runtime), debug_root):
                dbg = _open_elf(cand) if os.path.exists(cand) else None
                if dbg is not None:
                    try:
                        syms = _elf_symbols(dbg)
                    except Exception:
                        syms = []
                    finally:
                        dbg.stream.close()
                    if syms:
                        break
        if not syms:
            syms = _elf_symbols(runtime)
        plt = _plt_symbols(runtime, rename)
    except Exception:
        return None
    finally:
        runtime.stream.close()

    def to_offset(v: int) -> int:
        if not offsets:
            return v
        for vaddr, memsz, off in loads:
            if vaddr <= v < vaddr + memsz:
                return v - vaddr + off
        return v

    if rename is not None:
        syms = [(v, size, b, rename(n), x) for v, size, b, n, x in syms]
    table = SymbolTable(Symbol(to_offset(v), to_offset(v) + size, b, n) for v, size, b, n, _ in syms)
    if plt:
        table = SymbolTable(table.symbols + plt)
    return table


def _plt_symbols(elf, rename: Optional[Callable[[str], str]] = None) -> list[Symbol]:
    """``name@plt`` for each PLT slot (x86-64 layout: a 16-byte header, then
    16-byte entries in .rela.plt order; with .plt.sec, no header), at file offsets."""
    from elftools.elf.relocation import RelocationSection
    rela = elf.get_section_by_name(".rela.plt")
    plt = elf.get_section_by_name(".plt.sec") or elf.get_section_by_name(".plt")
    if not isinstance(rela, RelocationSection) or plt is None or elf["e_machine"] != "EM_X86_64":
        return []
    off = plt["sh_offset"] + (0 if plt.name == ".plt.sec" else 16)
    symtab = elf.get_section(rela["sh_link"])
    out = []
    for r in rela.iter_relocations():
        idx = r["r_info_sym"]
        # a slot without a symbol (an IFUNC's IRELATIVE) is perf 6.1's plain "@plt"
        name = symtab.get_symbol(idx).name if idx else ""
        if rename is not None:
            name = rename(name)
        out.append(Symbol(off, off + 16, STB_GLOBAL, name + "@plt"))
        off += 16
    return out
