"""Shared fixtures: where perf, root, tracefs and perl are, and how to run scripthost."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"


def perf_exec_path() -> str | None:
    if not shutil.which("perf"):
        return None
    try:
        out = subprocess.run(["perf", "--exec-path"], capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return out if out and os.path.isdir(os.path.join(out, "scripts")) else None


PERF_EXEC = perf_exec_path()
IS_ROOT = os.geteuid() == 0


def tracefs_dir() -> str | None:
    for d in ("/sys/kernel/tracing", "/sys/kernel/debug/tracing"):
        if os.path.isdir(os.path.join(d, "events")):
            return d
    return None


needs_perf = pytest.mark.skipif(PERF_EXEC is None, reason="perf is not installed")
needs_root = pytest.mark.skipif(not IS_ROOT, reason="needs root for perf_event_open on tracepoints")
needs_tracefs = pytest.mark.skipif(tracefs_dir() is None, reason="tracefs is not mounted")
needs_perl = pytest.mark.skipif(shutil.which("perl") is None, reason="perl is not installed")
can_record = pytest.mark.skipif(PERF_EXEC is None or not IS_ROOT or tracefs_dir() is None,
                                reason="recording needs perf, root and tracefs")


# The tests run the installed package (CI installs it); from a bare checkout they fall
# back to the source tree so a developer can run them without installing.
INSTALLED = subprocess.run([sys.executable, "-c", "import scripthost"], cwd="/",
                           capture_output=True).returncode == 0
if not INSTALLED:
    os.environ["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(Path(__file__).resolve().parent.parent), os.environ.get("PYTHONPATH")) if p)


def scripthost(*args: str, input: bytes | None = None, env: dict | None = None,
               timeout: float = 300, cwd: str | None = None) -> subprocess.CompletedProcess:
    """Run the CLI (`python -m scripthost`) and capture bytes."""
    e = dict(os.environ)
    if env:
        e.update(env)
    return subprocess.run([sys.executable, "-m", "scripthost", *args], input=input,
                          capture_output=True, env=e, timeout=timeout, cwd=cwd)


def perf(*args: str, input: bytes | None = None, env: dict | None = None,
         timeout: float = 300, cwd: str | None = None) -> subprocess.CompletedProcess:
    e = dict(os.environ)
    if env:
        e.update(env)
    return subprocess.run(["perf", *args], input=input, capture_output=True, env=e,
                          timeout=timeout, cwd=cwd)


def record_input(tmp_path: Path, mode: str, *record_args: str) -> tuple[list[str], bytes | None]:
    """`perf record RECORD_ARGS` (options, then `--` and the command) to a file ("file") or as
    a pipe-mode stream ("pipe"): the `-i` arguments and the stdin that read it back."""
    data = tmp_path / "rec.data"
    r = perf("record", "-q", "-o", str(data) if mode == "file" else "-", *record_args)
    assert r.returncode == 0, r.stderr.decode()
    return (["-i", str(data)], None) if mode == "file" else (["-i", "-"], r.stdout)


@pytest.fixture(scope="session")
def static_workload(tmp_path_factory: pytest.TempPathFactory) -> str:
    """tests/workload.c built static: exactly N getppid(), M read(), F failing openat()."""
    if shutil.which("gcc") is None:
        pytest.skip("gcc is needed to build the static ground-truth workload")
    out = tmp_path_factory.mktemp("wl") / "wl"
    r = subprocess.run(["gcc", "-O2", "-static", "-o", str(out), str(Path(__file__).parent / "workload.c")],
                       capture_output=True)
    if r.returncode:
        pytest.skip("static linking is unavailable: " + r.stderr.decode()[-200:])
    return str(out)
