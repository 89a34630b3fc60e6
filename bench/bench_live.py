"""Live mode under a syscall storm: events delivered / events made, for
`scripthost trace syscall-counts-by-pid -- storm` and `perf script
syscall-counts-by-pid storm`, at increasing rates.

usage: python bench/bench_live.py [--seconds S] [--rates 50000,100000,...]

storm.c makes an exact number of getppid() calls at a fixed rate and prints it;
each tracer's table gives the getppid count it saw for storm's pid.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import WORKDIR, perf_exec, scripthost_cmd  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def build_storm() -> str:
    WORKDIR.mkdir(parents=True, exist_ok=True)
    out = str(WORKDIR / "storm")
    subprocess.run(["gcc", "-O2", "-static", "-o", out, os.path.join(HERE, "storm.c")], check=True)
    return out


def seen(output: str) -> int:
    m = re.search(r"(?m)^storm \[\d+\]\n((?:  .*\n?)*)", output)
    if not m:
        return 0
    for line in m.group(1).splitlines():
        parts = line.split()
        if parts and parts[0] in ("getppid", "110"):
            return int(parts[-1])
    return 0


COUNT = str(WORKDIR / "storm.count")


def run(cmd: list[str], env: dict) -> tuple[int, int, bool]:
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    made = int(re.search(r"made (\d+)", open(COUNT).read()).group(1))
    lost = "lost" in p.stderr or "lost" in p.stdout
    return seen(p.stdout), made, lost


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", default="2")
    ap.add_argument("--rates", default="50000,100000,200000,400000,800000,0")
    a = ap.parse_args()
    exec_path = perf_exec()
    storm = build_storm()
    env = dict(os.environ, PERF_EXEC_PATH=exec_path)
    ours_env = {k: v for k, v in os.environ.items() if k != "PERF_EXEC_PATH"}
    print(f"{'rate/s':>10}  {'scripthost seen/made':>24}  {'perf seen/made':>24}")
    best = {"scripthost": 0, "perf": 0}
    for rate in (int(r) for r in a.rates.split(",")):
        o_seen, o_made, _ = run(scripthost_cmd() + ["trace", "syscall-counts-by-pid", "--", storm,
                                                    str(rate), a.seconds, COUNT], ours_env)
        p_seen, p_made, _ = run(["perf", "script", "syscall-counts-by-pid", storm, str(rate), a.seconds, COUNT], env)
        label = str(rate) if rate else "max"
        print(f"{label:>10}  {o_seen:>11}/{o_made:<11} {o_seen / o_made:6.1%}  "
              f"{p_seen:>11}/{p_made:<11} {p_seen / p_made:6.1%}")
        for name, s, m in (("scripthost", o_seen, o_made), ("perf", p_seen, p_made)):
            if s == m:
                best[name] = max(best[name], m / float(a.seconds))
    print(f"highest rate held with 0 lost: scripthost {best['scripthost']:,.0f}/s, perf {best['perf']:,.0f}/s")


if __name__ == "__main__":
    main()
