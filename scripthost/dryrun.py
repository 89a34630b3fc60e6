"""What a perf bin/NAME-record script would record, learnt by running it.

The script runs as perf runs it (`/bin/sh NAME-record ARGS`) with a directory
first on PATH holding a `perf` stand-in: `perf record ...` appends its argv to a
file and fails, so every fallback of `(perf record -e A $@ || perf record -e B
$@) 2>/dev/null` is tried and captured in order; any other perf command (`perf
list` in mem-phys-addr-record) is the real perf.  A script that stops before
recording (no event for it here) has said why on its output.

The user's arguments stand between two markers, so the script's own checks see
them (intel-pt-events-record greps "$@") while they are told apart from the
script's own options however the script quotes `$@`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

__all__ = ["DryRun", "dry_run"]

ARGV_ENV = "SCRIPTHOST_PERF_ARGV"
REAL_PERF_ENV = "SCRIPTHOST_REAL_PERF"
_BEGIN, _END = "@scripthost-args@", "@scripthost-args-end@"
TIMEOUT = 30  # seconds: the scripts only run `perf list` besides the captured records

# each `perf record` call is written as its argument count, then each argument, NUL-ended
_SHIM = f"""#!/bin/sh
if [ "$1" = record ]; then
    shift
    printf '%s\\0' "$#" "$@" >> "${ARGV_ENV}"
    exit 1
fi
exec "${REAL_PERF_ENV}" "$@"
"""


@dataclass
class DryRun:
    """The `perf record` calls a record script made (each without `record` and without
    the user's arguments), its exit status and what it printed."""

    records: list[list[str]]
    status: int
    output: str

    def refusal(self) -> Optional[str]:
        """Why the script stopped without recording, in one line, or None."""
        if self.records:
            return None
        text = " ".join(line.strip() for line in self.output.splitlines() if line.strip())
        return text or f"its record script exited {self.status} without recording"


def _parse(blob: bytes) -> list[list[str]]:
    words = blob.split(b"\0")[:-1]
    out, i = [], 0
    while i < len(words):
        n = int(words[i])
        out.append([w.decode(errors="surrogateescape") for w in words[i + 1:i + 1 + n]])
        i += 1 + n
    return out


def _own(argv: list[str]) -> list[str]:
    """``argv`` without the user's arguments (the marked span, wherever `$@` put it)."""
    out, inside = [], False
    for a in argv:
        if a == _BEGIN:
            inside = True
        elif a == _END:
            inside = False
        elif not inside:
            out.append(a)
    return out


def dry_run(record_script: Path, args: list[str]) -> DryRun:
    """Run ``record_script`` (EXEC/scripts/LANG/bin/NAME-record) with ``args`` as the
    user's arguments, recording nothing."""
    exec_path = record_script.resolve().parents[3]
    real = shutil.which("perf")
    with tempfile.TemporaryDirectory(prefix="scripthost-dryrun-") as tmp:
        shim = Path(tmp) / "perf"
        shim.write_text(_SHIM)
        shim.chmod(0o755)
        argv_file = Path(tmp) / "argv"
        env = dict(os.environ, PATH=tmp + os.pathsep + os.environ.get("PATH", ""),
                   PERF_EXEC_PATH=str(exec_path))
        env[ARGV_ENV] = str(argv_file)
        env[REAL_PERF_ENV] = real or "false"
        try:
            r = subprocess.run(["/bin/sh", str(record_script), _BEGIN, *args, _END], cwd=tmp, env=env,
                               stdin=subprocess.DEVNULL, capture_output=True, timeout=TIMEOUT)
            status, output = r.returncode, (r.stdout + r.stderr).decode(errors="replace")
        except subprocess.TimeoutExpired:
            status, output = -1, f"its record script did not finish in {TIMEOUT} s"
        except OSError as e:
            status, output = -1, f"its record script cannot run: {e.strerror}"
        blob = argv_file.read_bytes() if argv_file.exists() else b""
    return DryRun([_own(a) for a in _parse(blob)], status, output)
