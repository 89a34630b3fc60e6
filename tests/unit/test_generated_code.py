"""Generated code is readable when it fails: linecache shows its lines in a traceback,
and SCRIPTHOST_DUMP_CODE prints or saves every source as it is made."""

from __future__ import annotations

import os
import subprocess
import sys
import traceback
from pathlib import Path

import pytest

from scripthost.engine.codegen import compile_handler
from scripthost.engine.generated import DUMP_CODE_ENV, generated_base

ROOT = Path(__file__).resolve().parents[2]
SMALL = ROOT / "tests" / "data" / "engine" / "small.data"


def test_a_raising_handler_shows_its_generated_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(DUMP_CODE_ENV, raising=False)
    h = compile_handler(["    t = item[0]", "    raise ValueError(t * 2)"], {}, "<unit handler>")
    with pytest.raises(ValueError) as info:
        h((21,))
    text = "".join(traceback.format_exception(info.value))
    assert "    raise ValueError(t * 2)\n" in text
    frame = info.traceback[-1]
    assert generated_base(str(frame.path)) == "<unit handler>"
    with pytest.raises(ValueError) as info:  # the batch loop's copy of the body too
        h.run([(1,)])
    assert "raise ValueError(t * 2)" in "".join(traceback.format_exception(info.value))


def test_dump_to_stderr(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv(DUMP_CODE_ENV, "1")
    compile_handler(["    pass"], {}, "<dumped handler>")
    err = capsys.readouterr().err
    assert "# ---- <dumped handler> #" in err and "def one(item):\n    pass\n" in err


def test_dump_to_a_directory(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(DUMP_CODE_ENV, str(tmp_path / "code"))
    compile_handler(["    pass"], {}, "<saved handler>")
    saved = list((tmp_path / "code").iterdir())
    assert len(saved) == 1 and saved[0].suffix == ".py" and "saved_handler" in saved[0].name
    assert "def run(items):" in saved[0].read_text()


@pytest.mark.skipif(not SMALL.exists(), reason="tests/data/engine/small.data is missing")
def test_a_trace_run_dumps_its_generated_code(tmp_path: Path) -> None:
    """End to end: `scripthost trace` over a committed recording saves the sample parser
    and the line handlers it generated, and its output is unchanged."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    plain = subprocess.run([sys.executable, "-m", "scripthost", "trace", "-i", str(SMALL)],
                           capture_output=True, env=env, timeout=120)
    env[DUMP_CODE_ENV] = str(tmp_path)
    dumped = subprocess.run([sys.executable, "-m", "scripthost", "trace", "-i", str(SMALL)],
                            capture_output=True, env=env, timeout=120)
    assert dumped.returncode == plain.returncode == 0 and dumped.stdout == plain.stdout
    names = sorted(p.name for p in tmp_path.iterdir())
    assert any(n.startswith("sample_parser") for n in names), names
    assert all(compile(p.read_text(), p.name, "exec") for p in tmp_path.iterdir())
