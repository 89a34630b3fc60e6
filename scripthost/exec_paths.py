"""Where the script trees are: our own scripts/{python,perl,lua}, perf's exec path, and
the PERF_EXEC_PATH scripts see."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Optional

__all__ = ["exec_path", "own_exec_path", "perf_exec_path"]


def exec_path() -> str:
    """The PERF_EXEC_PATH scripts see: the user's if set, else our own tree."""
    env = os.environ.get("PERF_EXEC_PATH")
    if env:
        return env
    return str(own_exec_path())


def own_exec_path() -> Path:
    """Our installed tree holding scripts/{python,perl,lua} (or the source checkout's)."""
    here = Path(__file__).resolve().parent
    if (here / "scripts").is_dir():
        return here
    return here.parent  # running from a source checkout: <repo>/scripts


def perf_exec_path() -> Optional[Path]:
    """perf's own exec path, when perf is installed."""
    perf = shutil.which("perf")
    if perf is None:
        return None
    try:
        env = {k: v for k, v in os.environ.items() if k != "PERF_EXEC_PATH"}  # perf echoes it
        out = subprocess.run([perf, "--exec-path"], capture_output=True, text=True, timeout=10,
                             env=env).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    p = Path(out)
    return p if (p / "scripts").is_dir() else None
