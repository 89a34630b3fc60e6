"""scripthost's version line, printed by `scripthost --version` and each command's `--version`."""

from __future__ import annotations

from typing import TextIO

from scripthost import __version__

__all__ = ["PERF_VERSION_FOLLOWED", "print_version"]

#: the perf release whose `perf script` output scripthost reproduces byte for byte
PERF_VERSION_FOLLOWED = "6.1"


def print_version(out: TextIO) -> int:
    """Write the version line; the exit status (0)."""
    out.write(f"scripthost version {__version__} (perf script {PERF_VERSION_FOLLOWED} compatible)\n")
    return 0
