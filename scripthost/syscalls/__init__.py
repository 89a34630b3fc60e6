"""Syscall names by number for the architecture a recording was made on."""

from __future__ import annotations

import os

from scripthost.syscalls.tables import TABLES

__all__ = ["syscall_name", "table_for"]

_ALIASES = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "generic", "arm64": "generic",
            "riscv64": "generic", "loongarch64": "generic"}


def table_for(arch: str | None = None) -> dict[int, str]:
    """The number -> name table for ``arch`` (uname -m spelling); empty if unknown."""
    return TABLES.get(_ALIASES.get(arch or os.uname().machine, ""), {})


def syscall_name(nr: int, arch: str | None = None) -> str:
    """The syscall's name, or its number as text when unknown."""
    return table_for(arch).get(nr, str(nr))
