"""How the machine finds and names symbols and how far it follows callchains: perf
script's --vmlinux, --kallsyms, --symfs, --[no-]demangle, --demangle-kernel, --max-stack
and --stop-bt, as one value the CLI builds and `Machine` reads."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Optional

from scripthost.engine.filters import strlist
from scripthost.errors import ScripthostError, UsageError

__all__ = ["SymbolConfig", "symbol_config"]

#: perf's exit status for a --vmlinux/--kallsyms it cannot read
INVALID_FILE_STATUS = 255
#: perf's callchain depth when --max-stack is not given (kernel.perf_event_max_stack's default)
DEFAULT_MAX_STACK = 127


@dataclass(frozen=True)
class SymbolConfig:
    """Where symbols come from and how they print (perf's symbol_conf, the parts we follow)."""

    demangle: bool = True
    demangle_kernel: bool = False
    vmlinux: Optional[str] = None
    kallsyms: Optional[str] = None
    symfs: str = ""
    max_stack: int = DEFAULT_MAX_STACK
    stop_bt: frozenset = frozenset()

    @property
    def whole_chains(self) -> bool:
        """Callchains print every recorded frame (no --max-stack below the kernel's, no --stop-bt)."""
        return self.max_stack >= DEFAULT_MAX_STACK and not self.stop_bt

    def path(self, name: str) -> str:
        """Where the file ``name`` is read from: under --symfs when given."""
        return self.symfs + name if self.symfs else name


def _number(text: str, option: str) -> int:
    try:
        return int(text, 10)
    except ValueError:
        raise UsageError(f"option `{option}' expects a numerical value") from None


def symbol_config(*, demangle: bool = True, demangle_kernel: bool = False, vmlinux: Optional[str] = None,
                  kallsyms: Optional[str] = None, symfs: Optional[str] = None,
                  max_stack: Optional[str] = None, stop_bt: Optional[str] = None) -> SymbolConfig:
    """The configuration the options ask for; perf's error (exit 255) for a --vmlinux or
    --kallsyms file that cannot be read, and for a --max-stack that is no number (129)."""
    for f in (vmlinux, kallsyms):
        if f is not None and not os.access(f, os.R_OK):
            raise ScripthostError(f"Invalid file: {f}", exit_code=INVALID_FILE_STATUS)
    return SymbolConfig(demangle=demangle, demangle_kernel=demangle_kernel, vmlinux=vmlinux,
                        kallsyms=kallsyms, symfs=(symfs or "").rstrip("/"),
                        max_stack=_number(max_stack, "max-stack") if max_stack is not None else DEFAULT_MAX_STACK,
                        stop_bt=strlist(stop_bt, "symbol") or frozenset())
