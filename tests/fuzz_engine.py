"""A mutation fuzzer of the engine: real recordings (tests/data/engine, made with the
real perf) with bytes flipped, set, cut or sizes rewritten, each read four times in
this process: by the default printer, by handlers the native core calls itself (a
plan for every tracepoint), and by the Python runtime twice (handlers by name; then
trace_unhandled with perf_sample_dict and process_event, the script asking for
perf_trace_context).  A mutant must either read through or stop with one of our
one-line errors (ScripthostError); anything else, a script's handler called with what
it cannot take, or output out of all proportion to the input, is a finding.

    python tests/fuzz_engine.py [--mutants N] [--seed S]     # prints the findings, exit 1 if any
"""

from __future__ import annotations

import argparse
import functools
import io
import random
import sys
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
try:
    import scripthost  # noqa: F401 - installed, or a build on PYTHONPATH (the sanitized one)
except ImportError:
    sys.path.insert(0, str(ROOT))

from scripthost.engine import machine  # noqa: E402
from scripthost.engine.filters import SampleFilter  # noqa: E402
from scripthost.engine.output import DefaultPrinter  # noqa: E402
from scripthost.engine.session import Consumer, Session  # noqa: E402
from scripthost.engine.source import record_fault  # noqa: E402
from scripthost.errors import ScripthostError  # noqa: E402
from scripthost.langs.python_rt import PythonRuntime, field_kinds  # noqa: E402

#: perf 6.1's recordings: tracepoints (see test_engine_input.py), and cpu-clock -g of a
#: python process busy for 30 ms (`perf record -g -e cpu-clock -c 200000`, file and pipe)
SEEDS = [ROOT / "tests" / "data" / "engine" / n for n in ("small.data", "small.pipe", "chains.data", "chains.pipe")]
#: output beyond this many times the input's size is a renderer not bounded by its record
OUTPUT_BOUND = 64


class _Limited(io.StringIO):
    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit
        self.size = 0

    def write(self, s: str) -> int:
        self.size += len(s)
        if self.size > self.limit:
            raise OverflowError(f"output past {self.limit} characters")
        return super().write(s)


class _Planned(Consumer):
    """A plan for every tracepoint: the core builds every argument of every event."""

    def __init__(self) -> None:
        self.session: Session | None = None
        self.calls = 0

    def begin(self, session: Session) -> None:
        self.session = session

    def _count(self, *args: object) -> None:
        self.calls += 1

    def plan(self, ev):  # noqa: ANN001, ANN201
        lay = ev.fixed_layout
        if not ev.is_tracepoint or ev.tp_format is None or not all(
                k in lay for k in ("tid", "time", "cpu", "raw_size")):
            return None
        return (self._count, ev.tp_format.name, None, self.session.comms, record_fault, lay["tid"][0],
                lay["time"][0], lay["cpu"][0], lay["raw_size"][0], field_kinds(ev.tp_format.fields))


# Python scripts as the runtime runs them: handlers by name (the core calls them), and
# trace_unhandled with perf_sample_dict and process_event, the script asking for
# perf_trace_context (generated decoders, the sample dict): none of them ever raises
_BY_NAME = ("def _count(*args):\n    pass\n"
            "raw_syscalls__sys_enter = raw_syscalls__sys_exit = sched__sched_switch = sched__sched_wakeup = _count\n")
_UNHANDLED = ("def trace_unhandled(event_name, context, fields, sample):\n    assert isinstance(sample, dict)\n"
              "def process_event(sample):\n    assert isinstance(sample, dict)\n")


def _once_per_process() -> None:
    """The host's kernel symbols and its binaries' read and parsed once for every mutant,
    not once a session."""
    read, parse, texts = machine.Machine._host_kallsyms, functools.lru_cache(maxsize=8)(machine.kallsyms_table), {}
    machine.elf_table = functools.lru_cache(maxsize=64)(machine.elf_table)  # type: ignore[assignment]

    def host_kallsyms(self: machine.Machine) -> bytes:
        key = self.build_ids.get(machine.KERNEL_DSO, "")
        if key not in texts:
            texts[key] = read(self)
        return texts[key]
    machine.Machine._host_kallsyms = host_kallsyms  # type: ignore[method-assign]
    machine.kallsyms_table = parse  # type: ignore[assignment]


_once_per_process()


def _python(source: str, uses_context: bool) -> PythonRuntime:
    """A Python runtime over ``source`` without load(): this process's __main__ stays ours."""
    rt = PythonRuntime("<fuzz>", [])
    rt.globals = {"__name__": "__fuzz__"}
    exec(source, rt.globals)
    rt._uses_context = rt._uses_script_context = uses_context
    return rt


def mutate(data: bytes, rng: random.Random) -> bytes:
    b = bytearray(data)
    for _ in range(rng.choice((1, 1, 2, 4, 16))):
        how = rng.random()
        at = rng.randrange(len(b))
        if how < 0.4:
            b[at] ^= 1 << rng.randrange(8)
        elif how < 0.6:
            b[at] = rng.choice((0, 0xFF, 0x7F, 0x80, rng.randrange(256)))
        elif how < 0.8 and at + 2 <= len(b):
            b[at:at + 2] = rng.choice((0, 1, 8, 0xFFFF, rng.randrange(1 << 16))).to_bytes(2, "little")
        elif how < 0.9:
            del b[at:]
            if not b:
                b = bytearray(data[:1])
        else:
            b[at:at] = bytes(rng.randrange(1, 24))
    return bytes(b)


#: a filter of every kind the core applies (time ranges, cpus, pids, tids), so it reads each
#: mutant's fields too (percentages are resolved in Python, and a pipe has no span for them)
FILTER = SampleFilter(times=[(1, 1 << 40), (1 << 41, 0)], cpus=[0, 1], pids=list(range(1 << 15)),
                      tids=list(range(1 << 15)))


def run_one(data: bytes) -> str | None:
    """None when the mutant is read as the contract says, else what went wrong."""
    for make, filtered in ((lambda: DefaultPrinter(_Limited(OUTPUT_BOUND * len(data) + 4096)), False),
                           (_Planned, False), (lambda: _python(_BY_NAME, False), False),
                           (lambda: _python(_UNHANDLED, True), False),
                           (lambda: DefaultPrinter(_Limited(OUTPUT_BOUND * len(data) + 4096)), True)):
        consumer = make()
        try:
            session = Session(data)
            if filtered:
                session.set_filter(FILTER)
            session.run(consumer)
        except ScripthostError:
            pass
        except Exception:  # noqa: BLE001 - any other exception is a finding
            return traceback.format_exc(limit=-3)
    return None


def fuzz(mutants: int, seed: int) -> list[tuple[int, str]]:
    """(mutant number, what went wrong) for each finding."""
    seeds = [p.read_bytes() for p in SEEDS]
    rng = random.Random(seed)
    found = []
    saved, sys.stderr = sys.stderr, io.StringIO()  # the end-of-run warnings
    try:
        for n in range(mutants):
            data = mutate(seeds[n % len(seeds)], rng)
            bad = run_one(data)
            sys.stderr.seek(0)
            sys.stderr.truncate()
            if bad is not None:
                found.append((n, bad))
    finally:
        sys.stderr = saved
    return found


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mutants", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    found = fuzz(a.mutants, a.seed)
    for n, what in found:
        print(f"--- mutant {n} (seed {a.seed})\n{what}")
    print(f"{a.mutants} mutants, {len(found)} findings")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
