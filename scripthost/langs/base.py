"""The interface every language runtime implements, and finding the runtime for a
script file (by the lazy names in `scripthost.langs.specs.LANGUAGES`)."""

from __future__ import annotations

import functools
import importlib
from typing import TYPE_CHECKING, Optional

from scripthost.engine.session import Consumer
from scripthost.errors import ScripthostError
from scripthost.langs.specs import language_named, language_of_file

if TYPE_CHECKING:
    from scripthost.engine.printfmt.defines import DefineWalk

__all__ = ["Runtime", "runtime_for"]


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


def runtime_for(script: str, args: list[str], language: Optional[str] = None) -> Runtime:
    """Pick the runtime for ``script`` by ``language`` (any name `-s lang` lists) or by
    its file extension."""
    lang = language_named(language) if language else language_of_file(script)
    if lang is not None:
        module, _, cls = lang.runtime.partition(":")
        runtime: type[Runtime] = getattr(importlib.import_module(module), cls)
        return runtime(script, args)
    raise ScripthostError(
        f"don't know how to run {script!r}: name a .py, .pl or .lua file (or pass -s lang:FILE)")
