"""symbols._elf_symbols unpacks symbol tables in bulk; its ground truth here is pyelftools'
own per-symbol parsing of the same files (every ELF the test finds among a few system
directories), filtered by perf's rule: named, defined, functions/objects/ifuncs, and
untyped labels in text sections."""
from __future__ import annotations

import glob
import os

import pytest

from scripthost.engine import symbols

CANDIDATES = sorted(glob.glob("/usr/lib/x86_64-linux-gnu/lib*.so*"))[:12] + ["/bin/sh", "/usr/bin/perl"]
_BINDS = {"STB_LOCAL": 0, "STB_GLOBAL": 1, "STB_WEAK": 2}


def _reference(elf) -> list[tuple]:
    from elftools.elf.sections import SymbolTableSection
    for name in (".symtab", ".dynsym"):
        sec = elf.get_section_by_name(name)
        if not isinstance(sec, SymbolTableSection):
            continue
        out = []
        for sym in sec.iter_symbols():
            shndx, kind = sym["st_shndx"], sym["st_info"]["type"]
            if not sym.name or not isinstance(shndx, int):
                continue
            if kind not in ("STT_FUNC", "STT_GNU_IFUNC", "STT_OBJECT", "STT_LOOS"):
                if kind != "STT_NOTYPE" or "text" not in elf.get_section(shndx).name:
                    continue
            out.append((sym["st_value"], sym["st_size"], _BINDS.get(sym["st_info"]["bind"], 1), sym.name, shndx))
        if out:
            return out
    return []


@pytest.mark.parametrize("path", [p for p in CANDIDATES if os.path.isfile(p)])
def test_bulk_symbols_equal_pyelftools(path: str) -> None:
    elf = symbols._open_elf(path)
    if elf is None:
        pytest.skip(f"{path} is no ELF file")
    assert symbols._elf_symbols(elf) == _reference(elf)
