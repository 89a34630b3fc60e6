"""`scripthost export` to Parquet against `perf data convert --to-json`, rec.to_arrow()
events/s, and rec.events() against perf's Python scripting per event.

usage: python bench/bench_export.py [--runs N] [--append]

Records >= 1,000,000 raw_syscalls:sys_enter events here with the real perf (cached under
$SCRIPTHOST_BENCH_DIR, default /tmp/scripthost-bench; the workload alone), then alternates
each pair of commands in one run and prints the ratios (above 1.0: scripthost is faster).
With --append the figures are appended to bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import datetime
import os
import shlex
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import WORKDIR, alternate, count_samples, ensure_recording, perf_exec, scripthost_cmd  # noqa: E402

#: perf's handler and ours do the same nothing per event
NOP_PERF = "def raw_syscalls__sys_enter(*args):\n    pass\n"
NOP_OURS = ("import sys, scripthost\n"
            "with scripthost.open(sys.argv[1]) as rec:\n"
            "    for ev in rec.events():\n"
            "        ev.id\n")


def _to_arrow_rate(data: Path, n: int, runs: int) -> tuple[float, float]:
    """(median seconds, events/s) of rec.to_arrow() in this process, after one warm-up."""
    import scripthost
    times = []
    for i in range(runs + 1):
        with scripthost.open(str(data)) as rec:
            t = time.perf_counter()
            table = rec.to_arrow(event="raw_syscalls:sys_enter")
            if i:
                times.append(time.perf_counter() - t)
        assert table.num_rows == n
    s = statistics.median(times)
    return s, n / s


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--append", action="store_true", help="append the results to bench/RESULTS.md")
    a = ap.parse_args()
    perf_exec()
    data = ensure_recording("sys_enter_1m", ["raw_syscalls:sys_enter"], ["getppid=1000000"], 1_000_000, "alone")
    n = count_samples(data)
    out, js = WORKDIR / "export-out", WORKDIR / "convert.json"
    ours = " ".join(map(shlex.quote, scripthost_cmd() + ["export", "-i", str(data), "-o", str(out)]))
    export_ratio = alternate("export to Parquet vs perf data convert --to-json",
                             ["perf", "data", "convert", "-f", "-i", str(data), "--to-json", str(js)],
                             ["sh", "-c", f"rm -rf {shlex.quote(str(out))} && exec {ours}"], n, a.runs)
    arrow_s, arrow_rate = _to_arrow_rate(data, n, a.runs)
    print(f"rec.to_arrow(): {n} events in {arrow_s:.3f} s (median of {a.runs}): {arrow_rate:,.0f} events/s")
    nop, it = WORKDIR / "nop.py", WORKDIR / "iterate.py"
    nop.write_text(NOP_PERF)
    it.write_text(NOP_OURS)
    events_ratio = alternate("rec.events() vs perf script -s (a handler doing nothing)",
                             ["perf", "script", "-i", str(data), "-s", str(nop)],
                             [sys.executable, str(it), str(data)], n, a.runs)
    if a.append:
        load = os.getloadavg()[0]
        with open(Path(__file__).with_name("RESULTS.md"), "a") as f:
            f.write(f"\n## Export and the Python API, {datetime.date.today()} (issue 23, branch api)\n\n"
                    f"`python bench/bench_export.py --runs {a.runs}` on {n:,} raw_syscalls:sys_enter "
                    f"events (the workload alone), load average {load:.2f} at the end:\n\n"
                    f"| case | result |\n|---|---|\n"
                    f"| `scripthost export` (Parquet) vs `perf data convert --to-json` | {export_ratio:.2f}x |\n"
                    f"| `rec.to_arrow()` | {arrow_rate:,.0f} events/s ({arrow_s:.3f} s) |\n"
                    f"| `rec.events()` vs `perf script -s` (handler doing nothing) | {events_ratio:.2f}x |\n")


if __name__ == "__main__":
    main()
