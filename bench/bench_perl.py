"""perf's rw-by-pid.pl and failed-syscalls.pl (unchanged): scripthost's perl
bridge against perf's embedded libperl, on >= 500,000 syscalls:sys_enter/exit_read/write
events and >= 500,000 raw_syscalls:sys_exit with failures among them.

usage: python bench/bench_perl.py [--runs N]
"""

from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import SHAPES, SYS_EXIT_FAILS, alternate, count_samples, ensure_recording, perf_exec, scripthost_cmd  # noqa: E402

EVENTS = ["syscalls:sys_enter_read", "syscalls:sys_exit_read", "syscalls:sys_enter_write",
          "syscalls:sys_exit_write"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    a = ap.parse_args()
    exec_path = perf_exec()
    env = {"PERF_EXEC_PATH": exec_path, "PERL_HASH_SEED": "0", "PERL_PERTURB_KEYS": "0"}
    for shape in SHAPES:
        data = ensure_recording("rw_500k", EVENTS, ["reads=260000"], 500_000, shape)
        exits = ensure_recording(*SYS_EXIT_FAILS, shape=shape)
        for script, rec in (("rw-by-pid.pl", data), ("failed-syscalls.pl", exits)):
            path = os.path.join(exec_path, "scripts", "perl", script)
            alternate(f"[{shape}] {script} (perf's, unchanged)", ["perf", "script", "-i", str(rec), "-s", path],
                      scripthost_cmd() + ["trace", "-i", str(rec), "-s", path], count_samples(rec), a.runs, env)


if __name__ == "__main__":
    main()
