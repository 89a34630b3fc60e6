"""The command line around the commands: --version, help, `script` as perf's name for `trace`,
and perf's exit status (255) and words ("incompatible file format") for input that is no
recording, compared with the real perf where perf has the same case."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import needs_perf, perf, scripthost
from scripthost import __version__

VERSION_LINE = f"scripthost version {__version__} (perf script 6.1 compatible)\n".encode()


@pytest.mark.parametrize("argv", [["--version"], ["version"], ["trace", "--version"],
                                  ["script", "--version"], ["record", "--version"]])
def test_every_command_tells_its_version(argv: list[str]) -> None:
    r = scripthost(*argv, timeout=60)
    assert (r.returncode, r.stdout, r.stderr) == (0, VERSION_LINE, b"")


@pytest.mark.parametrize("name", ["trace", "script"])
def test_help_of_a_command_is_its_usage(name: str) -> None:
    r, own = scripthost("help", name, timeout=60), scripthost(name, "-h", timeout=60)
    assert r.returncode == own.returncode == 0 and r.stdout == own.stdout
    assert r.stdout.startswith(b"usage: scripthost trace")


def test_help_alone_lists_the_commands_and_an_unknown_one_is_refused() -> None:
    r = scripthost("help", timeout=60)
    assert r.returncode == 0 and b"scripthost script ..." in r.stdout
    bad = scripthost("help", "bogus", timeout=60)
    assert bad.returncode == 129 and bad.stderr.startswith(b"scripthost: unknown command 'bogus'")


def test_script_is_trace_by_perfs_name(tmp_path: Path) -> None:
    """parallel-perf.py runs `<perf> script --header-only --input FILE`."""
    (tmp_path / "x.data").write_bytes(b"x")
    a = scripthost("script", "--header-only", "--input", str(tmp_path / "x.data"), timeout=60)
    b = scripthost("trace", "--header-only", "--input", str(tmp_path / "x.data"), timeout=60)
    assert (a.returncode, a.stdout, a.stderr) == (b.returncode, b.stdout, b.stderr)


@needs_perf
@pytest.mark.parametrize("content", [b"root:x:0:0:root:/root:/bin/bash\n" * 4, b"hi\n"], ids=["text", "short"])
@pytest.mark.parametrize("mode", ["file", "pipe"])
def test_a_non_perf_input_is_an_incompatible_file_format_as_perf(content: bytes, mode: str,
                                                                   tmp_path: Path) -> None:
    path = tmp_path / "not.data"
    path.write_bytes(content)
    args, stdin = (["-i", str(path)], None) if mode == "file" else (["-i", "-"], content)
    theirs, ours = perf("script", *args, input=stdin), scripthost("trace", *args, input=stdin, timeout=60)
    assert theirs.stderr.startswith(b"incompatible file format")
    assert ours.returncode == theirs.returncode == 255 and ours.stdout == theirs.stdout == b""
    assert ours.stderr.startswith(b"scripthost: incompatible file format: ") and ours.stderr.count(b"\n") == 1


@needs_perf
def test_a_missing_file_exits_255_as_perf(tmp_path: Path) -> None:
    missing = str(tmp_path / "none.data")
    theirs, ours = perf("script", "-i", missing), scripthost("trace", "-i", missing, timeout=60)
    assert theirs.stderr == f"failed to open {missing}: No such file or directory\n".encode()
    assert ours.returncode == theirs.returncode == 255 and ours.stderr.count(b"\n") == 1
