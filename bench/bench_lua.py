"""syscall-counts.lua against perf's syscall-counts.py under `perf script -s`,
on the same >= 1,000,000 raw_syscalls:sys_enter recording as bench_python.py.

usage: python bench/bench_lua.py [--runs N]
"""

from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import SHAPES, alternate, count_samples, ensure_recording, perf_exec, scripthost_cmd  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    a = ap.parse_args()
    exec_path = perf_exec()
    from scripthost.langs.lua_rt import lua_implementation
    for shape in SHAPES:
        data = ensure_recording("sys_enter_1m", ["raw_syscalls:sys_enter"], ["getppid=1000000"], 1_000_000, shape)
        n = count_samples(data)
        alternate(f"[{shape}] syscall-counts.lua ({lua_implementation()}) vs perf's syscall-counts.py",
                  ["perf", "script", "-i", str(data), "-s",
                   os.path.join(exec_path, "scripts", "python", "syscall-counts.py")],
                  scripthost_cmd() + ["trace", "-i", str(data), "-s",
                                      os.path.join(ROOT, "scripts", "lua", "syscall-counts.lua")],
                  n, a.runs, {"PERF_EXEC_PATH": exec_path})


if __name__ == "__main__":
    main()
