"""perf's syscall-counts.py, syscall-counts-by-pid.py, sctop.py and
failed-syscalls-by-pid.py (unchanged) and the default output, scripthost against perf.

usage: python bench/bench_python.py [--runs N]

Records >= 1,000,000 raw_syscalls:sys_enter events and >= 500,000 raw_syscalls:sys_exit
(with failures among them) here with the real perf (cached under $SCRIPTHOST_BENCH_DIR,
default /tmp/scripthost-bench) in each of common.SHAPES, then alternates `perf script -s`
and `scripthost trace -s`.
"""

from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import SHAPES, SYS_EXIT_FAILS, alternate, count_samples, ensure_recording, perf_exec, scripthost_cmd  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    a = ap.parse_args()
    exec_path = perf_exec()
    env = {"PERF_EXEC_PATH": exec_path}
    for shape in SHAPES:
        data = ensure_recording("sys_enter_1m", ["raw_syscalls:sys_enter"], ["getppid=1000000"], 1_000_000, shape)
        n = count_samples(data)
        exits = ensure_recording(*SYS_EXIT_FAILS, shape=shape)
        runs = [(s, data, n) for s in ("syscall-counts.py", "syscall-counts-by-pid.py", "sctop.py")]
        runs.append(("failed-syscalls-by-pid.py", exits, count_samples(exits)))
        for script, rec, count in runs:
            path = os.path.join(exec_path, "scripts", "python", script)
            alternate(f"[{shape}] {script} (perf's, unchanged)", ["perf", "script", "-i", str(rec), "-s", path],
                      scripthost_cmd() + ["trace", "-i", str(rec), "-s", path], count, a.runs, env)
        alternate(f"[{shape}] default output (no script)", ["perf", "script", "-i", str(data)],
                  scripthost_cmd() + ["trace", "-i", str(data)], n, a.runs)


if __name__ == "__main__":
    main()
