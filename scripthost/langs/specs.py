"""What `-s SPEC` names, read as perf reads it.

SPEC is `[lang:]FILE`.  Without a language prefix the file's extension picks the
language; perf knows each language by two names (`Python`/`py`, `Perl`/`pl`),
matched without regard to case, and we add `Lua`/`lua`.  FILE is used as given
when it is readable; otherwise, as perf does with its exec path, it is looked up
in the scripts directories of each language (see `script_dirs`).  `-s lang`
prints the language list perf prints, to stderr.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Optional, TextIO

from scripthost.errors import UsageError

__all__ = ["LANGUAGES", "Language", "language_named", "language_of_file", "print_languages",
           "resolve_script"]


@dataclass(frozen=True)
class Language:
    """A scripting language: our key (also its scripts/ directory), perf's name, extension,
    and its runtime class as "module:Class" (imported only when a script of it runs)."""

    key: str
    title: str
    ext: str
    runtime: str

    @property
    def suffix(self) -> str:
        return "." + self.ext


#: in perf's registration order (its `-s lang` list), then ours
LANGUAGES = (Language("perl", "Perl", "pl", "scripthost.langs.perl_rt:PerlRuntime"),
             Language("python", "Python", "py", "scripthost.langs.python_rt:PythonRuntime"),
             Language("lua", "Lua", "lua", "scripthost.langs.lua_rt:LuaRuntime"))


def language_named(spec: str) -> Optional[Language]:
    """The language a spec names (`python`, `py`, `Perl`, ...), or None."""
    s = spec.lower()
    for lang in LANGUAGES:
        if s in (lang.key, lang.title.lower(), lang.ext):
            return lang
    return None


def language_of_file(path: str) -> Optional[Language]:
    """The language a file's extension names, or None."""
    ext = os.path.splitext(path)[1]
    return language_named(ext[1:]) if ext else None


def print_languages(out: TextIO) -> int:
    """`-s lang`: perf's list of language specs, each language under both its names."""
    out.write("\nScripting language extensions (used in perf script -s [spec:]script.[spec]):\n\n")
    for lang in LANGUAGES:
        for name in (lang.title, lang.ext):
            out.write("  %-42s [%s]\n" % (name, lang.title))
    out.write("\n")
    return 0


def _split_spec(spec: str) -> tuple[Language, str]:
    head, sep, rest = spec.partition(":")
    if sep and "/" not in head:  # a path holding ':' (a/b:c.py) is a file, not a spec
        lang = language_named(head)
        if lang is None:
            raise UsageError(f"invalid language specifier {head!r} in -s {spec}: "
                             "`scripthost trace -s lang` lists the languages")
        return lang, rest
    lang = language_of_file(spec)
    if lang is None:
        exts = ", ".join(lg.suffix for lg in LANGUAGES)
        raise UsageError(f"invalid script extension in -s {spec}: name a {exts} file "
                         "or give its language (-s python:FILE)")
    return lang, spec


def resolve_script(spec: str, script_dirs: Callable[[Language], Iterable[Path]]) -> tuple[str, Language]:
    """The file and language `-s SPEC` runs: FILE itself when it is readable, else the
    first ``script_dirs(lang)`` directory holding it (FILE taken relative to it)."""
    lang, name = _split_spec(spec)
    if os.access(name, os.R_OK) or os.path.isabs(name):
        return name, lang
    for d in script_dirs(lang):
        cand = d / name
        if os.access(cand, os.R_OK):
            return str(cand), lang
    return name, lang  # the runtime says it cannot open it, by the name the user gave
