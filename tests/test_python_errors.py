"""Python scripts that fail: a handler that raises, sys.exit(n), a top-level
error, a missing file, and Ctrl-C (trace_end runs, exit 0)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

from conftest import DATA, scripthost

REC = str(DATA / "engine" / "small.data")


def _run(tmp_path: Path, src: str) -> subprocess.CompletedProcess:
    script = tmp_path / "s.py"
    script.write_text(src)
    return scripthost("trace", "-i", REC, "-s", str(script))


def test_handler_exception_shows_the_scripts_traceback(tmp_path: Path) -> None:
    r = _run(tmp_path, "def trace_end():\n    print('end ran')\n"
                       "def sched__sched_switch(*a):\n    helper()\n"
                       "def helper():\n    raise ValueError('bad value')\n")
    err = r.stderr.decode()
    assert r.returncode != 0
    assert 's.py", line 6, in helper' in err and "ValueError: bad value" in err
    assert "scripthost/" not in err  # no frames of ours
    assert b"end ran" not in r.stdout  # as perf: no trace_end after a handler failed


def test_sys_exit_in_a_handler_exits_with_its_code(tmp_path: Path) -> None:
    r = _run(tmp_path, "import sys\ndef sched__sched_switch(*a):\n    print('once')\n    sys.exit(7)\n")
    assert r.returncode == 7 and r.stdout == b"once\n"


def test_top_level_error_and_missing_script(tmp_path: Path) -> None:
    r = _run(tmp_path, "import nosuchmodule_xyz\n")
    assert (r.returncode, r.stderr) == (255, b"scripthost: s.py cannot run here: it needs the Python module "
                                             b"'nosuchmodule_xyz', which is not installed\n")
    r = _run(tmp_path, "import os\nos.no_such_name\n")
    assert r.returncode == 255 and b"AttributeError" in r.stderr and b"error running python script" in r.stderr
    m = scripthost("trace", "-i", REC, "-s", str(tmp_path / "missing.py"))
    assert m.returncode != 0 and m.stderr.count(b"\n") == 1 and b"no such file" in m.stderr


def test_ctrl_c_runs_trace_end_and_exits_zero(tmp_path: Path) -> None:
    script = tmp_path / "slow.py"
    script.write_text("import time\ndef trace_end():\n    print('trace_end ran', flush=True)\n"
                      "def trace_unhandled(*a):\n    time.sleep(0.01)\n")
    p = subprocess.Popen([sys.executable, "-m", "scripthost", "trace", "-i", REC, "-s", str(script)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(1.5)
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=30)
    assert p.returncode == 0, err
    assert b"trace_end ran" in out and b"Traceback" not in err


def test_exception_in_trace_end_is_named_as_trace_ends(tmp_path: Path) -> None:
    r = _run(tmp_path, "def trace_end():\n    print('end ran')\n    raise ValueError('late')\n")
    err = r.stderr.decode()
    assert r.returncode != 0 and r.stdout == b"end ran\n"
    assert "ValueError: late" in err and err.endswith("scripthost: trace_end in " + str(tmp_path / "s.py")
                                                      + " raised ValueError\n"), err
