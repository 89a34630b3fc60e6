"""Our script library: manifests, perf-compatible tables, and a BCC-style smoke
test that runs every script live under a timeout and SIGINT."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

try:
    import tomllib
except ModuleNotFoundError:  # Python < 3.11
    import tomli as tomllib

from scripthost.collect.record import SAMPLED_EVENTS
from conftest import IS_ROOT, PERF_EXEC, can_record, needs_perf, needs_perl, perf, scripthost, tracefs_dir

ROOT = Path(__file__).resolve().parent.parent / "scripts"
MANIFESTS = sorted(ROOT.glob("*/*.toml"))
WORKLOAD = str(Path(__file__).parent / "workload.py")


@pytest.mark.parametrize("toml", MANIFESTS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_manifest_is_complete(toml: Path) -> None:
    data = tomllib.loads(toml.read_text())
    assert data["description"] and isinstance(data.get("args", ""), str)
    # a tracepoint (sys:event) or a sampled event the collector knows by name
    assert data["events"] and all(":" in e or e in SAMPLED_EVENTS for e in data["events"])
    scripts = [toml.with_suffix(ext) for ext in (".py", ".pl", ".lua")]
    assert any(s.exists() for s in scripts), f"no script beside {toml}"


@pytest.mark.parametrize("script", sorted(ROOT.glob("python/*.py")), ids=lambda p: p.name)
def test_python_script_compiles_with_usage_header(script: Path) -> None:
    src = script.read_text()
    compile(src, str(script), "exec")
    assert src.lstrip().startswith('"""') and "usage:" in src.split('"""')[1]


@can_record
@pytest.mark.parametrize("name", ["syscall-counts", "syscall-counts-by-pid", "failed-syscalls-by-pid"])
def test_our_tables_equal_perfs_scripts_under_our_libraries(name: str, tmp_path: Path) -> None:
    data = tmp_path / "rec.data"
    ev = "raw_syscalls:sys_exit" if name.startswith("failed") else "raw_syscalls:sys_enter"
    r = perf("record", "-q", "-e", ev, "-a", "-o", str(data), "--", sys.executable, WORKLOAD,
             "getppid=50", "failed_opens=7")
    assert r.returncode == 0
    ours = scripthost("trace", "-i", str(data), "-s", str(ROOT / "python" / f"{name}.py"))
    theirs = scripthost("trace", "-i", str(data), "-s", f"{PERF_EXEC}/scripts/python/{name}.py")
    assert ours.returncode == 0 and ours.stdout == theirs.stdout


LIVE = [(p.stem, p.suffix) for p in sorted(ROOT.glob("*/*.toml"))]


@pytest.mark.skipif(not IS_ROOT or tracefs_dir() is None, reason="live tracing needs root and tracefs")
@pytest.mark.parametrize("name", sorted({n for n, _ in LIVE}))
def test_every_script_runs_live_and_stops_on_sigint(name: str, tmp_path: Path) -> None:
    args = ["python3"] if name == "rw-by-file" else []
    # in a directory of its own: flamegraph writes flamegraph.svg where it runs
    p = subprocess.Popen([sys.executable, "-m", "scripthost", "trace", name, *args],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path)
    time.sleep(2.5)
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=60)
    assert p.returncode == 0, err.decode()[-2000:]
    assert out.strip(), err.decode()
    assert b"Traceback" not in err


def test_user_script_shadows_ours_and_is_listed(tmp_path: Path) -> None:
    (tmp_path / "syscall-counts.py").write_text('"""usage: mine"""\ndef trace_end():\n    print("user version")\n')
    (tmp_path / "syscall-counts.toml").write_text('description = "mine"\nevents = ["raw_syscalls:sys_enter"]\n')
    env = {"SCRIPTHOST_PATH": str(tmp_path)}
    listing = scripthost("trace", "-l", env=env).stdout.decode()
    assert "syscall-counts                       [python] mine" in listing
    assert "syscall-counts.lua" in listing  # other languages still listed by extension
    from conftest import DATA
    r = scripthost("trace", "report", "syscall-counts", "-i", str(DATA / "engine" / "small.data"), env=env)
    assert r.returncode == 0 and r.stdout == b"user version\n"


SMALL = str(Path(__file__).parent / "data" / "engine" / "small.data")


@needs_perf
def test_lang_lists_perfs_language_specs_and_lua() -> None:
    theirs, ours = perf("script", "-s", "lang"), scripthost("trace", "-s", "lang")
    assert (ours.returncode, ours.stdout) == (theirs.returncode, theirs.stdout) == (0, b"")
    lua = b"  Lua                                        [Lua]\n  lua                                        [Lua]\n"
    assert lua in ours.stderr and ours.stderr.replace(lua, b"") == theirs.stderr


@needs_perf
def test_bare_name_found_in_perfs_exec_path_as_perf_finds_it(tmp_path: Path) -> None:
    """check-perf-trace.py is perf's alone: both find it from a directory without it."""
    theirs = perf("script", "-i", SMALL, "-s", "check-perf-trace.py", cwd=str(tmp_path))
    ours = scripthost("trace", "-i", SMALL, "-s", "check-perf-trace.py", cwd=str(tmp_path))
    assert theirs.returncode == ours.returncode == 0, ours.stderr
    assert b"sched__sched_switch" in ours.stdout and ours.stdout == theirs.stdout


@needs_perf
@needs_perl
@pytest.mark.parametrize("spec", ["rw-by-pid.pl", "perl:rw-by-pid.pl", "Perl:rw-by-pid.pl", "pl:rw-by-pid.pl"])
def test_bare_name_runs_ours_before_perfs(spec: str, tmp_path: Path) -> None:
    ours_file = scripthost("trace", "-i", SMALL, "-s", str(ROOT / "perl" / "rw-by-pid.pl"))
    perfs_file = scripthost("trace", "-i", SMALL, "-s", f"{PERF_EXEC}/scripts/perl/rw-by-pid.pl")
    assert ours_file.stdout != perfs_file.stdout  # the two tell themselves apart
    r = scripthost("trace", "-i", SMALL, "-s", spec, cwd=str(tmp_path))
    assert r.returncode == 0 and r.stdout == ours_file.stdout, r.stderr


@needs_perf
def test_bare_python_name_and_prefix_run_ours(tmp_path: Path) -> None:
    for spec in ("flamegraph.py", "python:flamegraph.py", "PY:flamegraph.py"):
        r = scripthost("trace", "-i", SMALL, "-s", spec, cwd=str(tmp_path))
        # perf's flamegraph.py would stop for want of its d3 template; ours writes the svg
        assert r.returncode == 0 and b"wrote flamegraph.svg" in r.stdout, r.stderr
        assert (tmp_path / "flamegraph.svg").exists()
        (tmp_path / "flamegraph.svg").unlink()


@needs_perf
def test_a_file_in_the_current_directory_wins_as_with_perf(tmp_path: Path) -> None:
    (tmp_path / "syscall-counts.py").write_text('def trace_end():\n    print("the local one")\n')
    for run in (perf("script", "-i", SMALL, "-s", "syscall-counts.py", cwd=str(tmp_path)),
                scripthost("trace", "-i", SMALL, "-s", "syscall-counts.py", cwd=str(tmp_path))):
        assert run.returncode == 0 and run.stdout == b"the local one\n", run.stderr


@needs_perf
@pytest.mark.parametrize("spec", ["syscall-counts", "nosuchlang:x.py"])
def test_bad_spec_is_a_usage_error_as_with_perf(spec: str) -> None:
    theirs = perf("script", "-i", SMALL, "-s", spec)
    ours = scripthost("trace", "-i", SMALL, "-s", spec)
    assert theirs.returncode == ours.returncode == 129
    assert ours.stderr.startswith(b"scripthost: ") and ours.stderr.count(b"\n") == 1, ours.stderr


@needs_perf
def test_missing_script_is_one_line(tmp_path: Path) -> None:
    for spec in ("nope.py", "py:syscall-counts", "lua:nope.lua"):
        theirs = perf("script", "-i", SMALL, "-s", spec, cwd=str(tmp_path))
        ours = scripthost("trace", "-i", SMALL, "-s", spec, cwd=str(tmp_path))
        assert theirs.returncode != 0 or spec.startswith("lua")
        assert ours.returncode != 0 and ours.stderr.count(b"\n") == 1, ours.stderr
