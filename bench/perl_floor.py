"""The Perl floor: perf's rw-by-pid.pl handlers called by a plain perl loop with
arguments perl already holds (no reading, no decoding), as many times as the
bench's recording has read events. No bridge can run the script faster than this.

Writes the loop to a temporary file, runs it with the system perl (median of N
runs, load printed) and prints the loop's time and perl's start-up (0 calls) apart.

usage: python bench/perl_floor.py [--calls N] [--runs N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import perf_exec  # noqa: E402

# Each call pair: one sys_enter_read and one sys_exit_read, with perf's argument list
# (event name, context, cpu, secs, nsecs, pid, comm, callchain, then the fields).
LOOP = r"""
do $ARGV[0]; die "floor: $ARGV[0]: $@\n" if $@;
my $n = $ARGV[1];
my ($en, $ex) = ("syscalls::sys_enter_read", "syscalls::sys_exit_read");
my ($enter, $exit) = (\&syscalls::sys_enter_read, \&syscalls::sys_exit_read);
my ($comm, $cc) = ("workload.py", []);
for my $i (1 .. $n) {
    $enter->($en, 0, 1, 12345, $i, 4242, $comm, $cc, 0, 3, 140000000, 4096);
    $exit->($ex, 0, 1, 12345, $i, 4242, $comm, $cc, 0, 4096);
}
open(STDOUT, '>', '/dev/null');
main::trace_end();
"""


def time_loop(path: str, script: str, calls: int, env: dict) -> float:
    t = time.perf_counter()
    subprocess.run(["perl", path, script, str(calls)], env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=260_421, help="enter/exit pairs (default: 260,421)")
    ap.add_argument("--runs", type=int, default=5)
    a = ap.parse_args()
    exec_path = perf_exec()
    script = os.path.join(exec_path, "scripts", "perl", "rw-by-pid.pl")
    env = dict(os.environ, PERF_EXEC_PATH=exec_path)
    with tempfile.NamedTemporaryFile("w", suffix=".pl", delete=False) as f:
        f.write(LOOP)
    try:
        load = os.getloadavg()[0]
        full = statistics.median(time_loop(f.name, script, a.calls, env) for _ in range(a.runs))
        start = statistics.median(time_loop(f.name, script, 0, env) for _ in range(a.runs))
    finally:
        os.unlink(f.name)
    print(f"perl floor: rw-by-pid.pl handlers, 2 x {a.calls:,} calls "
          f"(load average {load:.2f} before, {os.getloadavg()[0]:.2f} after)")
    print(f"  whole run  {full:.3f} s  (median of {a.runs})")
    print(f"  start-up   {start:.3f} s  (0 calls)")
    print(f"  the loop   {full - start:.3f} s  ({(full - start) / (2 * a.calls) * 1e9:.0f} ns a call)")


if __name__ == "__main__":
    main()
