"""Generated code made readable: every source scripthost generates (Python handlers and
decoders, Lua handlers) goes through here.  Python sources are registered with linecache,
so a traceback through one shows its lines; SCRIPTHOST_DUMP_CODE=1 prints each source to
stderr as it is made, SCRIPTHOST_DUMP_CODE=DIR saves each in DIR (like BCC's --ebpf)."""

from __future__ import annotations

import itertools
import linecache
import os
import re
import sys
from typing import Any

__all__ = ["DUMP_CODE_ENV", "exec_generated", "generated_base", "show_generated"]

#: =1: print every generated source to stderr as it is made; =DIR: save each in DIR
DUMP_CODE_ENV = "SCRIPTHOST_DUMP_CODE"
_serial = itertools.count(1)


def show_generated(source: str, name: str, suffix: str = ".py") -> None:
    """What SCRIPTHOST_DUMP_CODE asks for with a generated ``source`` (Python, or Lua with
    ``suffix`` ".lua") known as ``name``: printed to stderr, saved in a directory, or nothing."""
    where = os.environ.get(DUMP_CODE_ENV)
    if not where or where == "0":
        return
    if where == "1":
        sys.stderr.write(f"# ---- {name} ----\n{source}\n")
        sys.stderr.flush()
        return
    os.makedirs(where, exist_ok=True)
    path = os.path.join(where, re.sub(r"[^\w.-]+", "_", name).strip("_") + suffix)
    with open(path, "w") as f:
        f.write(source + "\n")


def exec_generated(source: str, name: str, env: dict[str, Any]) -> str:
    """Run generated Python ``source`` into ``env`` as the file ``name`` made unique (it is
    returned): registered with linecache, a traceback through it shows its lines."""
    filename = f"{name} #{next(_serial)}"
    lines = [line + "\n" for line in source.split("\n")]
    linecache.cache[filename] = (len(source), None, lines, filename)  # no mtime: never dropped
    show_generated(source, filename)
    exec(compile(source, filename, "exec"), env)
    return filename


def generated_base(filename: str) -> str:
    """The name code was generated under, from the file name `exec_generated` gave it."""
    return filename.rsplit(" #", 1)[0]
