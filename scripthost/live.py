"""Live mode and its halves: `scripthost trace NAME`, `trace record NAME`,
`trace report NAME`.

Live mode is `scripthost trace record NAME | scripthost trace report NAME -i -`
in one command, with what a shell pipeline cannot give: the record half writes
its stream to a pipe of its own (not its stdout), so the traced command keeps
the user's stdout, stdin and terminal, and the command's exit status becomes
the live run's.  Both halves and the command stay in the caller's process
group, as a perf pipeline does: Ctrl-C at the terminal stops the command and
the record half, which drains its buffers and closes the pipe; the report half
then delivers everything, runs trace_end and exits.  A second Ctrl-C stops at
once (perf's behaviour: queued events dropped, trace_end still runs).

Nothing outlives the run: the record half dies with the report half (a parent
death signal) and stops the command's whole tree; the report half is a child
subreaper, so a record half killed outright leaves the command's processes to
it, and it stops them.
"""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
from typing import Optional

from scripthost.collect.record import LIVE_PARENT_ENV, parse_record_args
from scripthost.collect.workload import become_subreaper, resolve_command, stop_tree
from scripthost.errors import EmptyInput, ScripthostError, StreamError
from scripthost.library import Script, find_script, split_args

__all__ = ["live_main", "record_command", "record_options", "run_report"]

def record_options(script: Script, record_args: list[str]) -> list[str]:
    """The script's own `scripthost record` options: the first of its ways to record that
    this machine can record (perf's `A || B` fallbacks), else a one-line error naming why
    the first cannot."""
    from scripthost.collect.record import unavailable
    first: Optional[str] = None
    for alt in script.record_alternatives(record_args):
        why = unavailable(alt)
        if why is None:
            return alt
        first = first or why
    raise ScripthostError(f"{script.name} cannot run here: {first}")


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


def record_command(script: Script, record_args: list[str], *, output: Optional[str],
                   exclude_pids: list[int] = (), own: Optional[list[str]] = None) -> list[str]:
    """The `scripthost record` command line of a script's record half (``output``: the
    stream's file, quietly; None leaves it to ``record_args``; ``own``: the script's
    record_options, when already chosen)."""
    cmd = [sys.executable, "-m", "scripthost", "record"]
    cmd += record_options(script, record_args) if own is None else own
    targeted = any(a in ("-p", "-t", "-C", "-a") for a in record_args)
    if not targeted and (script.top_style or script.system_wide or not _has_command(record_args)):
        cmd.append("-a")
    if output is not None and "-o" not in record_args:
        cmd += ["-q", "-o", output]
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
    from scripthost.report import run_recording
    return run_recording(inp, str(script.path), args)  # type: ignore[arg-type]


class _RecordHalf:
    """The record half of a live run: its process, stream and the command's status."""

    def __init__(self, cmd: list[str]) -> None:
        stream_r, stream_w = os.pipe()
        self._status_r, status_w = os.pipe()
        env = dict(os.environ)
        env[LIVE_PARENT_ENV] = f"{os.getpid()},{status_w}"
        cmd = [a if a != _STREAM_FD else f"/dev/fd/{stream_w}" for a in cmd]
        try:
            self.proc = subprocess.Popen(cmd, pass_fds=(stream_w, status_w), env=env)
        finally:
            os.close(stream_w)
            os.close(status_w)
        self.stream = os.fdopen(stream_r, "rb")

    def signal(self, signum: int) -> None:
        try:
            self.proc.send_signal(signum)
        except ProcessLookupError:
            pass

    def finish(self) -> Optional[int]:
        """Wait for the record half; the command's exit status, None without a command."""
        self.stream.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        with os.fdopen(self._status_r, "rb") as f:
            self._report = f.read()  # written last: the record half ran to its end
        return int(self._report) if self._report not in (b"", b"-") else None

    def failure(self) -> Optional[str]:
        """Why the record half ended badly, or None.  A non-zero exit has had its own
        message on stderr already (""), a signal has not."""
        rc = self.proc.returncode
        if self._report or rc == 0:
            return None
        if rc < 0:
            return (f"the record half was killed by signal {-rc}; "
                    "the output above covers what it had recorded")
        return ""


#: record_command's placeholder for the stream's fd, known once the pipe exists
_STREAM_FD = "/dev/fd/STREAM"


def _run_live(script: Script, report_args: list[str], record_args: list[str]) -> int:
    from scripthost.engine.session import Session
    from scripthost.langs.base import runtime_for
    from scripthost.report import run_script_session

    command = parse_record_args(list(record_args)).command
    if command:
        resolve_command(command)  # before trace_begin: a command that cannot run traces nothing
    own = record_options(script, record_args)  # so is a script that cannot record here
    runtime = runtime_for(str(script.path), report_args, script.language)
    with runtime:
        runtime.load()
        helpers = list(getattr(runtime, "helper_pids", lambda: [])())
        become_subreaper()
        cmd = record_command(script, record_args, output=_STREAM_FD,
                             exclude_pids=[os.getpid()] + helpers, own=own)
        half = _RecordHalf(cmd)
        interrupted: list[int] = []

        def on_signal(signum: int, frame: object) -> None:
            if interrupted and signum == signal.SIGINT:
                raise KeyboardInterrupt
            interrupted.append(signum)
            half.signal(signum)  # the terminal may have told it already; telling twice is harmless

        old = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
        fault: Optional[ScripthostError] = None
        try:
            try:
                session = Session(half.stream)  # an empty stream: the record half failed
                run_script_session(session, runtime, str(script.path))
            except StreamError as e:
                fault = e
        finally:
            for s, h in old.items():
                signal.signal(s, h)
            status = half.finish()
            why = half.failure()
            if why is not None:
                stop_tree(os.getpid(), spare=helpers)  # what the record half could not stop
    if why:
        raise ScripthostError(why)
    if why == "":
        raise SystemExit(half.proc.returncode)  # the record half has said why
    if fault is not None:
        raise fault
    return 0 if status is None else status


def live_main(half: Optional[str], name: Optional[str], args: list[str], *,
              input_path: Optional[str] = None) -> int:
    if name is None:
        raise ScripthostError(f"`scripthost trace {half}` needs a script name (see `scripthost trace -l`)")
    script = find_script(name)
    if half == "record":
        to_stdout = "-o" not in args and (_stdin_is_pipe() or not sys.stdout.isatty()) and \
            stat.S_ISFIFO(os.fstat(1).st_mode)
        cmd = record_command(script, args, output="-" if to_stdout else None)
        from scripthost.collect.record import record_main
        return record_main(cmd[cmd.index("record") + 1:])
    if half == "report":
        inp, rest = _take_input(args)
        inp = inp or input_path or ("-" if _stdin_is_pipe() else "perf.data")
        try:
            return run_report(script, rest, inp)
        except EmptyInput:
            if inp == "-" and _stdin_is_pipe():
                # the record half before us in the pipeline failed and has said why
                raise SystemExit(EmptyInput.exit_code) from None
            raise
    report_args, record_args = split_args(script, args)
    return _run_live(script, report_args, record_args)
