"""The bash completion script (`scripthost completion bash`), run by bash itself: it
registers with `complete`, and compgen-driven completion offers the commands, `trace`'s
options from the OPTIONS table, languages, and the installed scripts `trace -l` lists."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import scripthost
from scripthost.cli import _COMMANDS
from scripthost.trace_options import OPTIONS

pytestmark = pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The generated script, and a directory with a `scripthost` command running this tree."""
    tmp = tmp_path_factory.mktemp("completion")
    script = tmp / "scripthost.bash"
    r = scripthost("completion", "bash")
    assert r.returncode == 0, r.stderr
    script.write_bytes(r.stdout)
    exe = tmp / "bin" / "scripthost"
    exe.parent.mkdir()
    root = Path(__file__).resolve().parent.parent
    exe.write_text(f"#!/bin/sh\nPYTHONPATH={root} exec {sys.executable} -m scripthost \"$@\"\n")
    exe.chmod(0o755)
    return script, exe.parent


def _complete(env: tuple[Path, Path], *words: str) -> list[str]:
    """COMPREPLY for the command line ``words`` (the last one being completed)."""
    script, bindir = env
    line = " ".join(f"'{w}'" for w in words)
    prog = (f"export PATH={bindir}:$PATH; source {script}; COMP_WORDS=({line}); "
            f"COMP_CWORD={len(words) - 1}; _scripthost; printf '%s\\n' \"${{COMPREPLY[@]}}\"")
    r = subprocess.run(["bash", "-c", prog], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return [w for w in r.stdout.split("\n") if w]


def test_registers_with_complete(env: tuple[Path, Path]) -> None:
    r = subprocess.run(["bash", "-c", f"source {env[0]}; complete -p scripthost"], capture_output=True, text=True)
    assert r.stdout.strip() == "complete -o default -F _scripthost scripthost"


def test_commands(env: tuple[Path, Path]) -> None:
    assert _complete(env, "scripthost", "") == sorted(set(_COMMANDS) | {"completion", "help", "version"})
    assert {"trace", "script", "record"} <= set(_COMMANDS)
    assert _complete(env, "scripthost", "tr") == ["trace"]


def test_every_trace_option_from_the_table(env: tuple[Path, Path]) -> None:
    longs = _complete(env, "scripthost", "trace", "--")
    assert sorted(longs) == sorted("--" + o.long for o in OPTIONS)
    assert _complete(env, "scripthost", "trace", "--show-r") == ["--show-round-events"]
    assert _complete(env, "scripthost", "script", "--per") == ["--per-event-dump"]


def test_values(env: tuple[Path, Path], tmp_path: Path) -> None:
    assert sorted(_complete(env, "scripthost", "trace", "-g", "p")) == ["perl", "python"]
    (tmp_path / "rec.data").write_bytes(b"")
    assert _complete(env, "scripthost", "trace", "-i", str(tmp_path / "rec.d")) == [str(tmp_path / "rec.data")]
    assert _complete(env, "scripthost", "trace", "--time", "") == []  # a value, not an option


def test_script_names_from_the_listing(env: tuple[Path, Path]) -> None:
    listed = scripthost("trace", "-l").stdout.decode().splitlines()[1:]
    names = sorted({line.split()[0] for line in listed if line.strip()})
    assert "syscall-counts" in names
    assert sorted(set(_complete(env, "scripthost", "trace", ""))) == sorted(set(names) | {"record", "report"})
    assert "syscall-counts" in _complete(env, "scripthost", "trace", "-s", "syscall-c")
    assert sorted(_complete(env, "scripthost", "trace", "report", "syscall-cou")) == [
        n for n in names if n.startswith("syscall-cou")]
