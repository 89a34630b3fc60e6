"""The interface every language runtime implements, and what they share:
finding a runtime for a script file and the exec-path tree scripts expect."""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import TYPE_CHECKING, Optional

from scripthost.engine.session import Consumer

if TYPE_CHECKING:
    from scripthost.engine.printfmt.defines import DefineWalk

__all__ = ["Runtime", "ScriptError", "exec_path", "runtime_for"]


class ScriptError(Exception):
    """The user's script failed; its own diagnostics were already printed."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class Runtime(Consumer):
    """A script runtime: a `Consumer` that loads a script and calls its handlers.

    Subclasses implement `load()` (compile/run the script's top level) plus the
    `Consumer` hooks; `close()` releases whatever the runtime started.
    """

    language = "?"
    #: set once trace_end is called: a fault after that is not a handler's
    ending = False

    def __init__(self, script: str, args: list[str]) -> None:
        self.script = script
        self.args = list(args)

    @functools.cached_property
    def defines(self) -> DefineWalk:
        """perf's define_* walk for this script session (it carries a field name from one
        event to the next); imported on first use: only tracepoint scripts need it."""
        from scripthost.engine.printfmt.defines import DefineWalk
        return DefineWalk()

    def load(self) -> None:
        raise NotImplementedError

    def close(self) -> None:
        pass

    def __enter__(self) -> "Runtime":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def exec_path() -> str:
    """The PERF_EXEC_PATH scripts see: the user's if set, else our own tree."""
    env = os.environ.get("PERF_EXEC_PATH")
    if env:
        return env
    return str(own_exec_path())


def own_exec_path() -> Path:
    """Our installed tree holding scripts/{python,perl,lua} (or the source checkout's)."""
    here = Path(__file__).resolve().parent.parent
    if (here / "scripts").is_dir():
        return here
    return here.parent  # running from a source checkout: <repo>/scripts


def runtime_for(script: str, args: list[str], language: Optional[str] = None) -> Runtime:
    """Pick the runtime for ``script`` by ``language`` (any name `-s lang` lists) or by
    its file extension."""
    from scripthost.errors import ScripthostError
    from scripthost.langs.specs import language_named, language_of_file
    lang = language_named(language) if language else language_of_file(script)
    key = lang.key if lang is not None else None
    if key == "python":
        from scripthost.langs.python_rt import PythonRuntime
        return PythonRuntime(script, args)
    if key == "perl":
        from scripthost.langs.perl_rt import PerlRuntime
        return PerlRuntime(script, args)
    if key == "lua":
        from scripthost.langs.lua_rt import LuaRuntime
        return LuaRuntime(script, args)
    raise ScripthostError(
        f"don't know how to run {script!r}: name a .py, .pl or .lua file (or pass -s lang:FILE)")
