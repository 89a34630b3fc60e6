"""The engine alone: decode throughput against `cat FILE > /dev/null`, and peak
memory over a 1,000,000- and a 10,000,000-event pipe-mode stream.

usage: python bench/bench_engine.py [--runs N] [--skip-memory]

Throughput: perf's recording of >= 1,000,000 raw_syscalls:sys_enter (the Python
benchmark's), read by `scripthost trace -i FILE -s` a script with no handlers:
every record framed, ordered by time and dropped.  Memory: storm (bench/storm.c)
makes getppid() calls while `perf record -o -` writes the pipe-mode stream to a
file; `scripthost trace -i - -s syscall-counts.py` and `perf script` read it from
stdin; peak RSS is the largest process's.  Both hold the largest round between two
FINISHED_ROUND records (and the one before it), which depends on how far `perf
record` fell behind, not on the stream's length: it is printed beside each figure.
"""

from __future__ import annotations

import argparse
import mmap
import os
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_live import build_storm  # noqa: E402
from common import WORKDIR, count_samples, ensure_recording, perf_exec, scripthost_cmd  # noqa: E402

NO_HANDLERS = "def trace_end():\n    pass\n"


def best_wall(cmd: list[str], runs: int, stdin: str | None = None) -> float:
    best = float("inf")
    for _ in range(runs):
        with open(stdin or os.devnull, "rb") as f:
            t = time.perf_counter()
            subprocess.run(cmd, stdin=f, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
            best = min(best, time.perf_counter() - t)
    return best


def throughput(runs: int) -> None:
    data = ensure_recording("sys_enter_1m", ["raw_syscalls:sys_enter"], ["getppid=1000000"], 1_000_000)
    script = WORKDIR / "no_handlers.py"
    script.write_text(NO_HANDLERS)
    mb = data.stat().st_size / 1e6
    cat = best_wall(["cat", str(data)], runs)
    ours = best_wall(scripthost_cmd() + ["trace", "-i", str(data), "-s", str(script)], runs)
    print(f"decode, no handler: {data.name}, {mb:,.0f} MB, {count_samples(data):,} events")
    print(f"  cat > /dev/null  {mb / cat:10,.0f} MB/s  ({cat:.3f} s)")
    print(f"  scripthost       {mb / ours:10,.0f} MB/s  ({ours:.3f} s)  = {cat / ours:.3f} of cat")


def stream(events: int) -> str:
    """A pipe-mode stream file of at least ``events`` raw_syscalls:sys_enter made by perf
    (recorded again, longer, when the machine's syscall rate fell short)."""
    out = WORKDIR / f"stream_{events}.pipe"
    if out.exists() and rounds(str(out))[0] >= events:
        return str(out)
    storm = build_storm()
    seconds = events / 1_400_000
    for _ in range(4):
        with open(out, "wb") as f:
            subprocess.run(["perf", "record", "-q", "-m", "8192", "-e", "raw_syscalls:sys_enter", "-a",
                            "-o", "-", "--", "sh", "-c", f"{storm} 0 {seconds:.2f} 2>/dev/null"],
                           stdout=f, check=True)
        got = rounds(str(out))[0]
        if got >= events:
            return str(out)
        seconds *= 1.15 * events / max(got, 1)
    sys.exit(f"bench: {out} has {got:,} events, fewer than {events:,}")


def peak_rss(cmd: list[str], path: str) -> tuple[int, int]:
    """(events, peak RSS in KiB) of ``cmd`` running syscall-counts.py over the stream on stdin."""
    script = os.path.join(perf_exec(), "scripts", "python", "syscall-counts.py")
    with open(path, "rb") as f:
        r = subprocess.run(["/usr/bin/time", "-f", "maxrss %M", *cmd, "-i", "-", "-s", script],
                           stdin=f, capture_output=True, text=True, check=True)
    rows = [line.split() for line in r.stdout.splitlines()]
    total = sum(int(row[-1]) for row in rows if len(row) == 2 and row[-1].isdigit())
    rss = int(r.stderr.rsplit("maxrss ", 1)[1].split()[0])
    return total, rss


def rounds(path: str) -> tuple[int, int]:
    """(samples, the most samples between two FINISHED_ROUND records) of a pipe-mode
    stream: both readers hold a round (and the one before it) until the next is read."""
    head = struct.Struct("<IHH")
    total = 0
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as m:
        pos, end, samples, most = 16, len(m), 0, 0
        while pos + 8 <= end:
            kind, _, size = head.unpack_from(m, pos)
            if kind == 9:  # PERF_RECORD_SAMPLE
                samples += 1
                total += 1
            elif kind == 68:  # PERF_RECORD_FINISHED_ROUND
                most = max(most, samples)
                samples = 0
            elif kind == 66:  # HEADER_TRACING_DATA: its blob follows, outside its size
                pos += struct.unpack_from("<I", m, pos + 8)[0]
            if size == 0:
                break
            pos += size
    return total, max(most, samples)


def memory() -> None:
    rows = []
    for events in (1_000_000, 10_000_000):
        path = stream(events)
        n, ours = peak_rss(scripthost_cmd() + ["trace"], path)
        _, perf = peak_rss(["perf", "script"], path)
        rows.append((n, ours, perf, rounds(path)[1]))
    print("peak RSS, syscall-counts.py over a pipe-mode stream on stdin:")
    small = rows[0]
    for n, ours, perf, most in rows:
        print(f"  {n:>12,} events  scripthost {ours / 1024:8.1f} MiB ({(ours - small[1]) * 100 / small[1]:+.1f}%)"
              f"  perf {perf / 1024:8.1f} MiB ({(perf - small[2]) * 100 / small[2]:+.1f}%)"
              f"  largest round {most:,} samples")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--skip-memory", action="store_true")
    a = ap.parse_args()
    throughput(a.runs)
    if not a.skip_memory:
        memory()


if __name__ == "__main__":
    main()
