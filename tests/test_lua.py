"""Lua runtime: each Lua script prints what its Python original prints over the
same recording (file and pipe), Lua errors show the Lua traceback, and Lua
scripts run live."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import DATA, IS_ROOT, can_record, perf, record_input, scripthost, tracefs_dir

pytest.importorskip("lupa", reason="lupa is not installed")
SCRIPTS = Path(__file__).resolve().parent.parent / "scripts"
WORKLOAD = str(Path(__file__).parent / "workload.py")
ON_SMALL = ["syscall-counts", "syscall-counts-by-pid", "failed-syscalls-by-pid", "sctop", "wakeup-latency"]


def _both(name: str, inp: list[str], data: bytes | None = None, args: tuple = ()) -> None:
    py = scripthost("trace", *inp, "-s", str(SCRIPTS / "python" / f"{name}.py"), *args, input=data)
    lua = scripthost("trace", *inp, "-s", str(SCRIPTS / "lua" / f"{name}.lua"), *args, input=data)
    assert py.returncode == 0 and lua.returncode == 0, lua.stderr.decode()
    assert lua.stdout == py.stdout
    assert len(py.stdout.splitlines()) > 3


@pytest.mark.parametrize("name", ON_SMALL)
def test_lua_script_equals_python_original(name: str) -> None:
    _both(name, ["-i", str(DATA / "engine" / "small.data")])
    _both(name, ["-i", "-"], (DATA / "engine" / "small.pipe").read_bytes())
    if name in ("syscall-counts", "syscall-counts-by-pid"):
        _both(name, ["-i", str(DATA / "engine" / "small.data")], args=("sh",))


@can_record
@pytest.mark.parametrize("name", ["rw-by-pid", "rwtop"])
def test_rw_lua_scripts_equal_python(name: str, tmp_path: Path) -> None:
    data = tmp_path / "rw.data"
    r = perf("record", "-q", "-e", "syscalls:sys_enter_read", "-e", "syscalls:sys_exit_read",
             "-e", "syscalls:sys_enter_write", "-e", "syscalls:sys_exit_write", "-a", "-o", str(data),
             "--", sys.executable, WORKLOAD, "reads=200")
    assert r.returncode == 0
    _both(name, ["-i", str(data)])


def test_lua_error_shows_lua_traceback_and_exits_nonzero(tmp_path: Path) -> None:
    script = tmp_path / "bad.lua"
    script.write_text("function trace_end() print('end ran') end\n"
                      "local function helper(x)\n  error('boom ' .. x)\nend\n"
                      "function raw_syscalls__sys_enter(...)\n  helper('here')\nend\n")
    r = scripthost("trace", "-i", str(DATA / "engine" / "small.data"), "-s", str(script))
    assert r.returncode != 0
    err = r.stderr.decode()
    assert "bad.lua:3: boom here" in err and "stack traceback" in err and "Traceback (most recent" not in err
    assert b"end ran" not in r.stdout


def test_lua_syntax_error_is_one_message(tmp_path: Path) -> None:
    script = tmp_path / "syntax.lua"
    script.write_text("function x(\n")
    r = scripthost("trace", "-i", str(DATA / "engine" / "small.data"), "-s", str(script))
    assert r.returncode != 0 and b"syntax.lua" in r.stderr and b"Traceback (most recent" not in r.stderr


def test_big_u64_values_arrive_exactly(tmp_path: Path) -> None:
    script = tmp_path / "big.lua"
    script.write_text("function raw_syscalls__sys_enter(e, c, cpu, s, ns, pid, comm, cc, id, args)\n"
                      "  if id == 12 and not done then done = true; print(type(id), #args) end\n"
                      "end\n"
                      "function sched__sched_switch(e, c, cpu, s, ns, pid, comm, cc, pc, pp, ppr, state)\n"
                      "  if not shown then shown = true; print(tostring(state)) end\nend\n")
    r = scripthost("trace", "-i", str(DATA / "engine" / "small.data"), "-s", str(script))
    assert r.returncode == 0, r.stderr
    assert b"number\t48" in r.stdout


@pytest.mark.skipif(not IS_ROOT or tracefs_dir() is None, reason="live tracing needs root and tracefs")
def test_lua_script_runs_live_and_stops_on_sigint() -> None:
    p = subprocess.Popen([sys.executable, "-m", "scripthost", "trace", "syscall-counts.lua"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(2.5)
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=60)
    assert p.returncode == 0, err
    assert b"syscall events:" in out


def _probe_run(data: object, batch: bool, capfd: pytest.CaptureFixture) -> str:
    from scripthost.engine.session import Session
    from scripthost.langs.lua_rt import LuaRuntime
    rt = LuaRuntime(str(Path(__file__).parent / "scripts" / "lua_probe.lua"), [])
    rt.load()
    if not batch:
        rt._batch = None  # the per-event path, decoded in Python
    capfd.readouterr()
    Session(data() if callable(data) else data).run(rt)
    sys.stdout.flush()
    return capfd.readouterr().out


def _batch_equals_per_event(data: object, capfd: pytest.CaptureFixture) -> None:
    from scripthost.langs.lua_rt import lua_implementation
    if lua_implementation() != "LuaJIT":
        pytest.skip("batches need LuaJIT's FFI; this lupa has only Lua 5.4")
    batched = _probe_run(data, True, capfd)
    assert batched == _probe_run(data, False, capfd)
    assert batched.count("\n") > 100 and "unhandled" in batched and "table#0" in batched


def test_batches_give_every_argument_as_per_event_calls(capfd: pytest.CaptureFixture) -> None:
    _batch_equals_per_event(str(DATA / "engine" / "small.data"), capfd)


def test_batches_over_hundreds_of_small_input_chunks(capfd: pytest.CaptureFixture) -> None:
    # each 100-byte read makes a new chunk, so one batch reads records from many chunks
    raw = (DATA / "engine" / "small.pipe").read_bytes()
    _batch_equals_per_event(lambda: iter([raw[i:i + 100] for i in range(0, len(raw), 100)]), capfd)


@can_record
def test_batches_on_many_field_types(tmp_path: Path, capfd: pytest.CaptureFixture) -> None:
    from test_python_args import EVENTS
    out = tmp_path / "many.data"
    have = [e for e in EVENTS if Path("/sys/kernel/tracing/events", *e.split(":")).is_dir()]
    r = perf("record", "-q", *[a for e in have for a in ("-e", e)], "-a", "-o", str(out), "--",
             sys.executable, WORKLOAD, "getppid=10", "reads=10", "failed_opens=5", "udp=20", "futex=1")
    assert r.returncode == 0, r.stderr.decode()
    _batch_equals_per_event(str(out), capfd)


@can_record
def test_callchains_equal_the_python_runtimes(tmp_path: Path) -> None:
    """common_callchain of a -g recording: every frame's ip, sym and dso as the Python
    runtime gives them (whose callchains are diffed against perf in test_samples), and a
    new table for each event."""
    data = tmp_path / "cc.data"
    r = perf("record", "-q", "-g", "-e", "syscalls:sys_enter_read", "-o", str(data), "--",
             sys.executable, WORKLOAD, "reads=50")
    assert r.returncode == 0, r.stderr.decode()
    lua = tmp_path / "cc.lua"
    lua.write_text('''
local function s(v)
  if type(v) == "number" then return string.format("%d", v) end
  return (tostring(v):gsub("U?LL$", ""))
end
local seen = {}
function trace_unhandled(event_name, context, fields)
  local cc = fields.common_callchain
  assert(not seen[cc], "a callchain table shared between events")
  seen[cc] = true
  io.write(event_name, " ", #cc, "\\n")
  for _, f in ipairs(cc) do
    io.write("  ", s(f.ip))
    if f.sym then
      io.write(" ", f.sym.name, " ", s(f.sym.start), " ", s(f.sym["end"]), " ", f.sym.binding, " ", f.sym_off)
    end
    if f.dso then io.write(" ", f.dso) end
    io.write("\\n")
  end
end
''')
    py = tmp_path / "cc.py"
    py.write_text('''
def trace_unhandled(event_name, context, fields):
    cc = fields["common_callchain"]
    print(event_name, len(cc))
    for f in cc:
        line = "  %d" % f["ip"]
        if "sym" in f:
            s = f["sym"]
            line += " %s %d %d %d %d" % (s["name"], s["start"], s["end"], s["binding"], f["sym_off"])
        if "dso" in f:
            line += " " + f["dso"]
        print(line)
''')
    ours_lua = scripthost("trace", "-i", str(data), "-s", str(lua))
    ours_py = scripthost("trace", "-i", str(data), "-s", str(py))
    assert ours_lua.returncode == 0 and ours_py.returncode == 0, ours_lua.stderr.decode()
    assert ours_lua.stdout == ours_py.stdout
    assert ours_lua.stdout.count(b" /usr/") > 50


@can_record
@pytest.mark.parametrize("events", [["-e", "cpu-clock", "-c", "100000", "-g", "-e", "syscalls:sys_enter_read"],
                                    ["-e", "{cpu-clock,task-clock}:S"]],
                         ids=["callchains-and-tracepoint", "group-read"])
@pytest.mark.parametrize("mode", ["file", "pipe"])
def test_process_event_table_is_perfs_sample_dict(events: list, mode: str, tmp_path: Path) -> None:
    """process_event(param_dict) for cpu-clock samples: the table Lua gets, printed by a Lua
    probe, is perf's perf_sample_dict printed the same way by its Python twin under perf;
    interleaved with a tracepoint's handler (batched under LuaJIT) in stream order."""
    inp, stdin = record_input(tmp_path, mode, *events, "--", sys.executable, WORKLOAD, "reads=100")
    probes = Path(__file__).parent / "scripts"
    theirs = perf("script", *inp, "-s", str(probes / "sample_dict_probe.py"), input=stdin)
    ours = scripthost("trace", *inp, "-s", str(probes / "sample_dict_probe.lua"), input=stdin)
    assert theirs.returncode == 0 and ours.returncode == 0, ours.stderr.decode()
    assert ours.stdout == theirs.stdout
    assert ours.stdout.count(b"{attr=") > 20
    if "syscalls:sys_enter_read" in events:
        assert ours.stdout.count(b"read ") >= 100 and b"callchain={1={dso=" in ours.stdout
