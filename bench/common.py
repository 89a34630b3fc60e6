"""Side-by-side timing of scripthost against the real perf on one input.

Runs alternate (perf, scripthost, perf, scripthost, ...) in one process so both
see the same machine state, and reports the load average, the median events/s of each and the ratio
(scripthost's rate / perf's rate; above 1.0 means scripthost is faster).
"""

from __future__ import annotations

import compileall
import os
import resource
import statistics
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Sequence

__all__ = ["SHAPES", "SYS_EXIT_FAILS", "WORKDIR", "alternate", "count_samples", "ensure_recording", "perf_exec", "scripthost_cmd"]

WORKDIR = Path(os.environ.get("SCRIPTHOST_BENCH_DIR", "/tmp/scripthost-bench"))
_ROOT = str(Path(__file__).resolve().parent.parent)
try:
    import scripthost  # the installed package
except ImportError:  # a bare checkout: use the source tree, for us and for the CLI we run
    sys.path.insert(0, _ROOT)
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (_ROOT, os.environ.get("PYTHONPATH")) if p)
    import scripthost
# ensure_recording's arguments for >= 500,000 raw_syscalls:sys_exit, failures among them
SYS_EXIT_FAILS = ("sys_exit_fail", ["raw_syscalls:sys_exit"], ["getppid=400000", "failed_opens=200000"], 500_000)
WORKLOAD = str(Path(__file__).resolve().parent.parent / "tests" / "workload.py")


def perf_exec() -> str:
    if not shutil.which("perf"):
        sys.exit("bench: perf is not installed; the benchmarks compare against it")
    return subprocess.run(["perf", "--exec-path"], capture_output=True, text=True).stdout.strip()


def scripthost_cmd() -> list[str]:
    """The command line that runs scripthost, its modules byte-compiled as `pip install`
    leaves them: from a source checkout, or with PYTHONDONTWRITEBYTECODE set, every run
    would otherwise compile them again (some 20 ms before the first event)."""
    compileall.compile_dir(os.path.dirname(scripthost.__file__), quiet=1)
    return [sys.executable, "-m", "scripthost"]


#: recording shapes: perf record's options for each
SHAPES = {
    "system-wide": ["-a", "-m", "4096"],  # every CPU: small rounds
    "alone": ["-m", "64M"],               # the workload alone, a large buffer: rounds of thousands
}


def ensure_recording(name: str, events: Sequence[str], workload_args: Sequence[str],
                     min_samples: int, shape: str = "system-wide") -> Path:
    """A file-mode recording of one of SHAPES, made here with the real perf (cached in WORKDIR)."""
    WORKDIR.mkdir(parents=True, exist_ok=True)
    out = WORKDIR / f"{name}-{shape}.data"
    if out.exists() and count_samples(out) >= min_samples:
        return out
    args = [a for e in events for a in ("-e", e)]
    subprocess.run(["perf", "record", "-q", *SHAPES[shape], *args, "-o", str(out), "--",
                    sys.executable, WORKLOAD, *workload_args], check=True)
    n = count_samples(out)
    if n < min_samples:
        sys.exit(f"bench: {out} has {n} samples, fewer than {min_samples}; raise the workload")
    return out


def count_samples(path: Path) -> int:
    """Samples in a recording, read with our own engine (no handler)."""
    from scripthost.engine.session import Consumer, Session
    s = Session(str(path))
    s.run(Consumer())
    return s.stats.samples


def _run(cmd: list[str], env: dict) -> tuple[float, float]:
    t = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, check=False)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_maxrss


def alternate(title: str, perf_cmd: list[str], ours_cmd: list[str], events: int,
              runs: int = 3, env: dict | None = None) -> float:
    """Alternate the two commands ``runs`` times each; print rates and the ratio; return it."""
    e = dict(os.environ)
    e.update(env or {})
    perf_t, ours_t = [], []
    load = os.getloadavg()[0]
    for _ in range(runs):
        perf_t.append(_run(perf_cmd, e)[0])
        ours_t.append(_run(ours_cmd, e)[0])
    p, o = statistics.median(perf_t), statistics.median(ours_t)
    ratio = p / o
    print(f"{title}: {events} events (load average {load:.2f} before, {os.getloadavg()[0]:.2f} after)")
    print(f"  perf       {events / p:12,.0f} events/s  (median of {runs}: {p:.3f} s)")
    print(f"  scripthost {events / o:12,.0f} events/s  (median of {runs}: {o:.3f} s)")
    print(f"  ratio      {ratio:.2f}x")
    return ratio
