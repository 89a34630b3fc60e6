"""perf's stackcollapse.py over >= 1M-sample callchain recordings (cpu-clock every
10 us, -g, of tests/hot.c) in each of common.SHAPES, and the default output of the same
recordings, scripthost against `perf script` in one run.

usage: python bench/bench_samples.py [--runs N] [--shape NAME]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import SHAPES, WORKDIR, alternate, count_samples, perf_exec, scripthost_cmd  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MIN_SAMPLES = 1_000_000
# the arguments of hot for about 1.3M samples in each shape (system-wide adds every other process)
HOT_ARGS = {"system-wide": ["150", "10000"], "alone": ["800", "100000"]}


def recording(shape: str) -> str:
    WORKDIR.mkdir(parents=True, exist_ok=True)
    out = WORKDIR / f"callchains_1m-{shape}.data"
    if out.exists() and count_samples(out) >= MIN_SAMPLES:
        return str(out)
    hot = WORKDIR / "hot"
    subprocess.run(["gcc", "-O1", "-g", "-fno-omit-frame-pointer", "-static", "-o", str(hot),
                    os.path.join(ROOT, "tests", "hot.c")], check=True)
    subprocess.run(["perf", "record", "-q", *SHAPES[shape], "-g", "-e", "cpu-clock", "-c", "10000",
                    "-o", str(out), "--", str(hot), *HOT_ARGS[shape]], check=True)
    n = count_samples(out)
    if n < MIN_SAMPLES:
        sys.exit(f"bench: {out} has {n} samples, fewer than {MIN_SAMPLES}")
    return str(out)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--shape", choices=sorted(SHAPES), action="append")
    a = ap.parse_args()
    exec_path = perf_exec()
    script = os.path.join(exec_path, "scripts", "python", "stackcollapse.py")
    for shape in a.shape or sorted(SHAPES):
        data = recording(shape)
        n = count_samples(data)
        alternate(f"[{shape}] stackcollapse.py (perf's, unchanged)",
                  ["perf", "script", "-i", data, "-s", script],
                  scripthost_cmd() + ["trace", "-i", data, "-s", script], n, a.runs)
        alternate(f"[{shape}] default output with callchains",
                  ["perf", "script", "-i", data], scripthost_cmd() + ["trace", "-i", data], n, a.runs)


if __name__ == "__main__":
    main()
