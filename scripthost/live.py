"""Live mode and its halves: `scripthost trace NAME`, `trace record NAME`,
`trace report NAME`.

Live mode is exactly `scripthost trace record NAME -o - | scripthost trace
report NAME -i -`: the record half runs as a child process (in its own process
group) writing perf's pipe-mode stream; the report half runs here.  Ctrl-C is
forwarded to the record half, which stops, drains its buffers and closes the
pipe; the report half then delivers everything, runs trace_end and exits 0.
A second Ctrl-C stops at once (perf's behaviour: queued events dropped,
trace_end still runs).
"""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
from typing import Optional

from scripthost.errors import ScripthostError
from scripthost.library import Script, find_script, split_args

__all__ = ["live_main", "record_command", "run_report"]

_TRACEFS = ("/sys/kernel/tracing", "/sys/kernel/debug/tracing")


def _event_exists(ev: str) -> bool:
    if ":" not in ev:
        return True  # a PMU/software event: let the recorder judge
    sys_, name = ev.split(":", 1)
    for root in _TRACEFS:
        d = os.path.join(root, "events", sys_)
        if os.path.isdir(d):
            return "*" in name or "?" in name or os.path.isdir(os.path.join(d, name))
    return True  # no tracefs visible: the recorder will mount it or explain


def _choose_events(script: Script) -> list[str]:
    if script.fallback_events and not all(_event_exists(e) for e in script.events):
        return script.fallback_events
    return script.events


def _has_command(args: list[str]) -> bool:
    if "--" in args:
        return True
    takes_value = {"-e", "-c", "-C", "-p", "-t", "-m", "-o", "--filter", "-F", "--exclude-pid"}
    i = 0
    while i < len(args):
        a = args[i]
        if a in takes_value:
            i += 2
            continue
        if not a.startswith("-"):
            return True
        i += 1
    return False


def record_command(script: Script, record_args: list[str], *, to_stdout: bool,
                   exclude_pids: list[int] = ()) -> list[str]:
    """The `scripthost record` command line of a script's record half."""
    cmd = [sys.executable, "-m", "scripthost", "record"]
    for ev in _choose_events(script):
        cmd += ["-e", ev]
    cmd += script.record_options
    targeted = any(a in ("-p", "-t", "-C", "-a") for a in record_args)
    if not targeted and (script.top_style or script.system_wide or not _has_command(record_args)):
        cmd.append("-a")
    if to_stdout and "-o" not in record_args:
        cmd += ["-q", "-o", "-"]
    for pid in exclude_pids:
        cmd += ["--exclude-pid", str(pid)]
    return cmd + list(record_args)


def _take_input(args: list[str]) -> tuple[Optional[str], list[str]]:
    """Pull `-i FILE` out of report-half args."""
    out, inp, i = [], None, 0
    while i < len(args):
        if args[i] in ("-i", "--input") and i + 1 < len(args):
            inp = args[i + 1]
            i += 2
            continue
        out.append(args[i])
        i += 1
    return inp, out


def _stdin_is_pipe() -> bool:
    try:
        return stat.S_ISFIFO(os.fstat(0).st_mode)
    except OSError:
        return False


def run_report(script: Script, args: list[str], inp: object) -> int:
    """Run a script's report half over ``inp`` (a path, '-' or a file object)."""
    from scripthost.cli import run_recording
    return run_recording(inp, str(script.path), args)  # type: ignore[arg-type]


def _run_live(script: Script, report_args: list[str], record_args: list[str]) -> int:
    from scripthost.engine.session import Session
    from scripthost.langs.base import runtime_for
    from scripthost.cli import run_script_session

    runtime = runtime_for(str(script.path), report_args, script.language)
    with runtime:
        runtime.load()
        exclude = [os.getpid()] + list(getattr(runtime, "helper_pids", lambda: [])())
        cmd = record_command(script, record_args, to_stdout=True, exclude_pids=exclude)
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, start_new_session=True)
        interrupted = []

        def on_sigint(signum: int, frame: object) -> None:
            if interrupted:
                raise KeyboardInterrupt
            interrupted.append(signum)
            try:
                proc.send_signal(signal.SIGINT)
            except ProcessLookupError:
                pass

        old = {s: signal.signal(s, on_sigint) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            session = Session(proc.stdout)
            session.fork_reader = False  # a reader forked now would not be left out of the trace
            rc = run_script_session(session, runtime, str(script.path))
        finally:
            for s, h in old.items():
                signal.signal(s, h)
            _reap(proc)
        status = proc.returncode
        if status not in (0, None) and not interrupted:
            if status < 0:
                raise ScripthostError(f"the record half was killed by signal {-status}; "
                                      "the summary above covers what it had recorded")
            raise ScripthostError(f"the record half failed (exit {status}); see its message above")
        return rc


def _reap(proc: subprocess.Popen) -> None:
    """Make sure the record half is gone (it disables its events on the way out)."""
    if proc.stdout is not None:
        proc.stdout.close()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def live_main(half: Optional[str], name: Optional[str], args: list[str], *,
              input_path: Optional[str] = None) -> int:
    if name is None:
        raise ScripthostError(f"`scripthost trace {half}` needs a script name (see `scripthost trace -l`)")
    script = find_script(name)
    if script.origin == "perf" and not os.environ.get("PERF_EXEC_PATH"):
        # perf's scripts load perf's own helper libraries, as under `perf script`
        os.environ["PERF_EXEC_PATH"] = str(script.path.parents[2])
    if half == "record":
        to_stdout = "-o" not in args and (_stdin_is_pipe() or not sys.stdout.isatty()) and \
            stat.S_ISFIFO(os.fstat(1).st_mode)
        cmd = record_command(script, args, to_stdout=to_stdout)
        return subprocess.call(cmd)
    if half == "report":
        inp, rest = _take_input(args)
        inp = inp or input_path or ("-" if _stdin_is_pipe() else "perf.data")
        return run_report(script, rest, inp)
    report_args, record_args = split_args(script, args)
    return _run_live(script, report_args, record_args)
