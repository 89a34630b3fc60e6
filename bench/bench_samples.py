"""perf's stackcollapse.py over a >= 200,000-sample callchain recording
(cpu-clock every 10 us, -g, of tests/hot.c), and the default output of the same
recording, scripthost against `perf script` in one run.

usage: python bench/bench_samples.py [--runs N]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import WORKDIR, alternate, count_samples, perf_exec, scripthost_cmd  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MIN_SAMPLES = 200_000


def recording() -> str:
    WORKDIR.mkdir(parents=True, exist_ok=True)
    out = WORKDIR / "callchains_200k.data"
    if out.exists() and count_samples(out) >= MIN_SAMPLES:
        return str(out)
    hot = WORKDIR / "hot"
    subprocess.run(["gcc", "-O1", "-g", "-fno-omit-frame-pointer", "-static", "-o", str(hot),
                    os.path.join(ROOT, "tests", "hot.c")], check=True)
    subprocess.run(["perf", "record", "-q", "-m", "4096", "-g", "-e", "cpu-clock", "-c", "10000",
                    "-o", str(out), "--", str(hot), "2500", "300000"], check=True)
    n = count_samples(out)
    if n < MIN_SAMPLES:
        sys.exit(f"bench: {out} has {n} samples, fewer than {MIN_SAMPLES}")
    return str(out)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    exec_path = perf_exec()
    data = recording()
    n = count_samples(data)
    script = os.path.join(exec_path, "scripts", "python", "stackcollapse.py")
    alternate("stackcollapse.py (perf's, unchanged)",
              ["perf", "script", "-i", data, "-s", script],
              scripthost_cmd() + ["trace", "-i", data, "-s", script], n, a.runs)
    alternate("default output with callchains",
              ["perf", "script", "-i", data], scripthost_cmd() + ["trace", "-i", data], n, a.runs)


if __name__ == "__main__":
    main()
