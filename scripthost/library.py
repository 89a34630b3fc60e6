"""The installed trace scripts: ours (with TOML manifests), the user's, and
perf's (described by their bin/*-record and bin/*-report files).

A user's script shadows ours of the same name, and ours shadow perf's.  Within
one origin a name found in several languages is taken in the order python,
perl, lua; `NAME.lua` (or `.pl`, `.py`) asks for one language explicitly.
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Optional, TextIO

from scripthost.errors import ScripthostError
from scripthost.exec_paths import own_exec_path, perf_exec_path
from scripthost.langs.specs import Language, language_named

__all__ = ["Script", "all_scripts", "find_script", "print_listing", "script_dirs", "split_args"]

#: a name found in several languages of one origin runs the first of these
LANGS = {k: language_named(k).suffix for k in ("python", "perl", "lua")}  # type: ignore[union-attr]
_EXT_LANG = {v: k for k, v in LANGS.items()}
ORIGIN_RANK = {"user": 0, "scripthost": 1, "perf": 2}


@dataclass
class Script:
    """One runnable trace script and what its record half needs."""

    name: str
    language: str
    path: Path
    origin: str
    description: str = ""
    args: str = ""
    events: list[str] = field(default_factory=list)
    fallback_events: list[str] = field(default_factory=list)
    record_options: list[str] = field(default_factory=list)
    system_wide: Optional[bool] = None
    #: the script's own options that take a value (`-o FILE`), given to the report half live
    report_options: list[str] = field(default_factory=list)
    #: perf's bin/NAME-record, which says what to record when run (see scripthost.dryrun)
    record_script: Optional[Path] = None

    def record_alternatives(self, record_args: list[str]) -> list[list[str]]:
        """The `scripthost record` options of each way this script can record, best first
        (the user's ``record_args`` not included); a one-line error if it cannot here."""
        if self.record_script is None:
            alts = [self.events] + ([self.fallback_events] if self.fallback_events else [])
            return [[a for ev in evs for a in ("-e", ev)] + self.record_options for evs in alts]
        from scripthost.dryrun import dry_run
        run = dry_run(self.record_script, record_args)
        why = run.refusal()
        if why is not None:
            raise ScripthostError(f"{self.name} cannot run here: {why}")
        return run.records

    @property
    def top_style(self) -> bool:
        return self.name.endswith("top")

    @property
    def report_arg_slots(self) -> int:
        """How many leading user args belong to the report half (perf counts `<`)."""
        return self.args.count("<")

    @property
    def optional_arg_slots(self) -> int:
        return self.args.count("[")


def _load_manifest(toml: Path, origin: str) -> Optional[Script]:
    try:  # imported here: only a listing or a name lookup reads manifests
        import tomllib
    except ModuleNotFoundError:  # Python < 3.11
        import tomli as tomllib  # type: ignore[no-redef]
    try:
        data = tomllib.loads(toml.read_text())
    except (OSError, tomllib.TOMLDecodeError) as e:
        sys.stderr.write(f"scripthost: ignoring bad manifest {toml}: {e}\n")
        return None
    lang = data.get("language")
    script_path = None
    if lang in LANGS:
        script_path = toml.with_suffix(LANGS[lang])
    else:
        for lg, ext in LANGS.items():
            if toml.with_suffix(ext).exists():
                lang, script_path = lg, toml.with_suffix(ext)
                break
    if script_path is None or not script_path.exists():
        return None
    return Script(
        name=toml.stem, language=lang, path=script_path, origin=origin,
        description=str(data.get("description", "")), args=str(data.get("args", "")),
        events=list(data.get("events", [])), fallback_events=list(data.get("fallback_events", [])),
        record_options=[str(o) for o in data.get("record_options", [])],
        system_wide=data.get("system_wide"),
        report_options=[str(o) for o in data.get("report_options", [])])


def _scan_dir(d: Path, origin: str) -> list[Script]:
    """Scripts with manifests in d and d/{python,perl,lua}."""
    out = []
    for sub in (d, d / "python", d / "perl", d / "lua"):
        if sub.is_dir():
            for toml in sorted(sub.glob("*.toml")):
                s = _load_manifest(toml, origin)
                if s is not None:
                    out.append(s)
    return out


def _user_dirs() -> list[Path]:
    dirs = [Path(p) for p in os.environ.get("SCRIPTHOST_PATH", "").split(os.pathsep) if p]
    xdg = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    dirs.append(Path(xdg) / "scripthost" / "scripts")
    return dirs


_META = re.compile(r"^\s*#\s*(description|args):\s*(.*)$")


def _perf_scripts(root: Path) -> list[Script]:
    """perf's scripts: one per bin/NAME-report, in perf's readdir order."""
    out: dict[tuple[str, str], Script] = {}
    scripts = root / "scripts"
    for langdir in sorted(os.listdir(scripts)):
        lang = {"python": "python", "perl": "perl"}.get(langdir)
        bindir = scripts / langdir / "bin"
        if lang is None or not bindir.is_dir():
            continue
        for f in sorted(os.listdir(bindir)):
            if not f.endswith("-report"):
                continue
            name = f[:-len("-report")]
            script_path = scripts / langdir / (name + LANGS[lang])
            if not script_path.exists():
                continue
            s = Script(name=name, language=lang, path=script_path, origin="perf")
            try:
                for line in (bindir / f).read_text(errors="replace").splitlines():
                    if line.lstrip().startswith("#!"):
                        continue
                    m = _META.match(line)
                    if m:
                        setattr(s, m.group(1), m.group(2).strip())
                rec = bindir / (name + "-record")
                if rec.exists():
                    s.record_script = rec
            except OSError:
                pass
            out[(name, lang)] = s
    return list(out.values())


def script_dirs(lang: Language) -> Iterator[Path]:
    """Where a bare `-s FILE` is looked for, in the order of the names `-l` lists: the
    user's directories, ours, then perf's exec path (asked only when reached)."""
    for d in _user_dirs():
        yield d / lang.key
        yield d
    yield own_exec_path() / "scripts" / lang.key
    perf_root = perf_exec_path()
    if perf_root is not None:
        yield perf_root / "scripts" / lang.key


def all_scripts() -> list[Script]:
    """Every script, best origin first within each name."""
    found: list[Script] = []
    for d in _user_dirs():
        found += _scan_dir(d, "user")
    found += _scan_dir(own_exec_path() / "scripts", "scripthost")
    perf_root = perf_exec_path()
    if perf_root is not None:
        found += _perf_scripts(perf_root)
    return found


def _ordered(scripts: list[Script]) -> list[Script]:
    return sorted(scripts, key=lambda s: (ORIGIN_RANK[s.origin], list(LANGS).index(s.language)))


def find_script(name: str, language: Optional[str] = None) -> Script:
    """Resolve NAME (or NAME.ext) to a script; raises a one-line error when unknown."""
    base, ext = os.path.splitext(name)
    if ext in _EXT_LANG and language is None:
        name, language = base, _EXT_LANG[ext]
    cands = [s for s in all_scripts() if s.name == name and (language is None or s.language == language)]
    if not cands:
        if os.path.exists(name) or os.path.exists(name + (LANGS.get(language or "", "") or "")):
            raise ScripthostError(f"{name!r} is a file: run it with `scripthost trace -i DATA -s {name}`")
        raise ScripthostError(f"couldn't find script `{name}' (`scripthost trace -l` lists the available ones)")
    return _ordered(cands)[0]


def print_listing(out: TextIO) -> int:
    """`scripthost trace -l`: perf's listing format with the language shown."""
    seen: dict[str, list[Script]] = {}
    for s in all_scripts():
        seen.setdefault(s.name, []).append(s)
    out.write("List of available trace scripts:\n")
    for name in sorted(seen):
        by_lang: dict[str, Script] = {}
        for s in _ordered(seen[name]):
            by_lang.setdefault(s.language, s)
        for i, s in enumerate(_ordered(list(by_lang.values()))):
            shown = name if i == 0 else name + LANGS[s.language]
            label = f"{shown} {s.args}".rstrip() if s.args else shown
            tag = s.language if s.origin != "perf" else f"{s.language}, perf"
            out.write("  %-36s [%s] %s\n" % (label, tag, s.description))
    return 0


def split_args(script: Script, args: list[str]) -> tuple[list[str], list[str]]:
    """Split live-mode args into (report args, record args).

    perf's rule: a *top script takes every arg; otherwise the first N args
    (N = number of `<` in its args line) go to the report.  We also give the
    report side the optional `[...]` slots when those args are plain words
    before `--`, so `scripthost trace syscall-counts-by-pid bash` filters on bash,
    and the options its manifest names in `report_options` with their values
    (`flamegraph -o x.svg --title T -- cmd`).
    """
    if "--" in args:
        k = args.index("--")
        before, cmd = args[:k], args[k:]
    else:
        before, cmd = list(args), []
    if script.top_style:
        return before, cmd
    slots = script.report_arg_slots + script.optional_arg_slots
    report: list[str] = []
    record: list[str] = []
    words = 0
    i = 0
    while i < len(before):
        a = before[i]
        opt = a.split("=", 1)[0]
        if opt in script.report_options:
            take = 1 if "=" in a else 2
            report += before[i:i + take]
            i += take
            continue
        if words < slots and not a.startswith("-") and not record:
            report.append(a)
            words += 1
        else:
            record.append(a)
        i += 1
    if words < script.report_arg_slots:
        raise ScripthostError(f"`{script.name}' script requires options: {script.args}")
    return report, record + cmd
