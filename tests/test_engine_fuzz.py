"""The engine under mutated input (tests/fuzz_engine.py), bounded for CI: with the
core as built, and with the core built again under AddressSanitizer and
UndefinedBehaviorSanitizer, where the fuzzer and the engine's own tests run too."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
CSRC = ROOT / "scripthost" / "engine" / "csrc"
sys.path.insert(0, str(TESTS))
import fuzz_engine  # noqa: E402


def test_mutants_read_through_or_stop_with_one_line() -> None:
    found = fuzz_engine.fuzz(1500, seed=20261203)
    assert not found, found[0][1]


def _sanitizer_runtime() -> str | None:
    gcc = shutil.which("gcc")
    if gcc is None:
        return None
    lib = subprocess.run([gcc, "-print-file-name=libasan.so"], capture_output=True, text=True).stdout.strip()
    return lib if os.path.isabs(lib) and os.path.exists(lib) else None


@pytest.fixture(scope="module")
def sanitized(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the package whose core is built with -fsanitize=address,undefined."""
    if _sanitizer_runtime() is None:
        pytest.skip("needs gcc with libasan")
    out = tmp_path_factory.mktemp("asan")
    shutil.copytree(ROOT / "scripthost", out / "scripthost", ignore=shutil.ignore_patterns("*.so", "__pycache__"))
    shutil.copytree(ROOT / "scripts", out / "scripts")
    target = out / "scripthost" / "engine" / ("_core" + sysconfig.get_config_var("EXT_SUFFIX"))
    subprocess.run(["gcc", "-shared", "-fPIC", "-O1", "-g", "-std=c11", "-fno-omit-frame-pointer",
                    "-fsanitize=address,undefined", "-fno-sanitize-recover=undefined",
                    "-I" + sysconfig.get_paths()["include"], *map(str, sorted(CSRC.glob("*.c"))),
                    "-o", str(target)], check=True)
    return out


def _env(pkg: Path) -> dict:
    return dict(os.environ, PYTHONPATH=str(pkg), LD_PRELOAD=_sanitizer_runtime() or "",
                ASAN_OPTIONS="detect_leaks=0:abort_on_error=1",
                UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1")


def test_fuzzer_under_sanitizers(sanitized: Path) -> None:
    r = subprocess.run([sys.executable, str(TESTS / "fuzz_engine.py"), "--mutants", "600", "--seed", "5"],
                       capture_output=True, text=True, env=_env(sanitized), cwd=sanitized, timeout=1200)
    assert r.returncode == 0 and "600 mutants, 0 findings" in r.stdout, (r.stdout[-3000:], r.stderr[-3000:])


def test_engine_tests_under_sanitizers(sanitized: Path) -> None:
    probe = subprocess.run([sys.executable, "-c", "import scripthost.engine._core as c; print(c.__file__)"],
                           capture_output=True, text=True, env=_env(sanitized), cwd=sanitized)
    assert probe.stdout.startswith(str(sanitized)), probe  # the sanitized build, not the installed one
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-x",
                        str(TESTS / "test_ordering.py"), str(TESTS / "test_engine_input.py")],
                       capture_output=True, text=True, env=_env(sanitized), cwd=sanitized, timeout=1800)
    assert r.returncode == 0, (r.stdout[-3000:], r.stderr[-3000:])
