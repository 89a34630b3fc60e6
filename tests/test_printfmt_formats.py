"""Every tracepoint format on this machine through the print_fmt compiler before and after
its restructuring into scripthost/engine/printfmt/: the old module (one file, pinned at the
commit before, read out of git) and the new package must agree on every format (and on two
cut-short copies of it, which exercise the parse failures): whether it fails, the compiled
%-format and value expressions the default output fuses into its line, the text of eight
synthetic payloads (zeros, ones, random bytes, well-formed dynamic fields, short ones), the
fields marked for -g, perf's warning and perf's define_* calls."""

from __future__ import annotations

import glob
import importlib.util
import os
import random
import struct
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.conftest import tracefs_dir

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripthost.engine import printfmt  # noqa: E402
from scripthost.engine.tpformat import EventFormat, parse_format  # noqa: E402

#: the last commit with the one-file compiler (scripthost/engine/printfmt.py)
OLD_COMMIT = "68f293bea5ffd4e01632123a37a14f7a276c8ddf"
PRINTK = {0xffffffff82000100: "printk %d string", 0xffffffff82000200: "another"}


class FakeKsyms:
    """Kernel symbols for %pS: addresses with bit 8 set have one."""

    @staticmethod
    def lookup(v: int) -> Any:
        return (f"sym_{v >> 12 & 0xfff:x}", v & 0xff) if v & 0x100 else None


@pytest.fixture(scope="module")
def old() -> ModuleType:
    r = subprocess.run(["git", "-C", str(ROOT), "show", f"{OLD_COMMIT}:scripthost/engine/printfmt.py"],
                       capture_output=True)
    if r.returncode:
        pytest.skip(f"needs the git history with commit {OLD_COMMIT[:12]} (the old compiler)")
    path = Path(os.environ.get("TMPDIR", "/tmp")) / f"old_printfmt_{os.getpid()}.py"
    path.write_bytes(r.stdout)
    try:
        spec = importlib.util.spec_from_file_location("old_printfmt", path)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
    finally:
        path.unlink()
    return mod


@pytest.fixture(scope="module")
def formats() -> list[EventFormat]:
    d = tracefs_dir()
    if d is None:
        pytest.skip("tracefs is not mounted")
    out = []
    for path in sorted(glob.glob(os.path.join(d, "events", "*", "*", "format"))):
        try:
            text = Path(path).read_bytes()
        except OSError:
            continue
        out.append(parse_format(text, Path(path).parent.parent.name))
    if not out:
        pytest.skip("no readable tracepoint format (needs root)")
    return out


def payloads(fmt: EventFormat) -> list[bytes]:
    """Eight payloads for ``fmt``: zeros, ones, two random, two with every dynamic field
    pointing at a string in a tail (and 8-byte fields at printk strings / symbols), two short."""
    fields = fmt.common_fields + fmt.fields
    size = max((f.offset + f.size for f in fields), default=8)
    rnd = random.Random(fmt.full_name)
    out = [bytes(size), b"\xff" * size, rnd.randbytes(size), rnd.randbytes(size + 32)]
    for k in range(2):
        raw = bytearray(rnd.randbytes(size))
        tail = bytearray()
        for f in fields:
            if f.is_dynamic or f.is_relative:
                data = (b"text-%d\0" % rnd.randrange(1000)) if k == 0 else rnd.randbytes(rnd.randrange(1, 20))
                base = f.offset + 4 if f.is_relative else 0
                loc = ((size + len(tail) - base) & 0xFFFF) | len(data) << 16
                raw[f.offset:f.offset + 4] = struct.pack("<I", loc)
                tail += data
            elif f.size == 8 and not f.is_array:
                addr = rnd.choice([*PRINTK, 0xffffffff81234567 | 0x100, 0])
                raw[f.offset:f.offset + 8] = struct.pack("<Q", addr)
        out.append(bytes(raw + tail))
    out += [out[2][:size // 2], b""]
    return out


def variants(fmt: EventFormat) -> list[EventFormat]:
    """The format and two cut-short copies of its print_fmt."""
    p = fmt.print_fmt
    return [fmt, replace(fmt, print_fmt=p[:len(p) // 2]), replace(fmt, print_fmt=p[:len(p) * 5 // 6])]


def compiled_view(pf: Any) -> Any:
    c = pf.compiled
    if c is None:
        return None
    return c.pyfmt, c.values, c.reads(), c.struct_reads(), c.need, c.uses_raw


def test_every_format_renders_as_before(old: ModuleType, formats: list[EventFormat]) -> None:
    old_calls: list[tuple] = []
    new_calls: list[tuple] = []

    def recorder(log: list[tuple]) -> list:
        return [lambda *a, k=k: log.append((k, *a)) for k in ("ff", "fv", "sf", "sv")]
    walk = printfmt.DefineWalk()
    checked = failed = 0
    for base in formats:
        for fmt in variants(base):
            o = old.PrintFormat(fmt, FakeKsyms(), PRINTK)
            n = printfmt.PrintFormat(fmt, FakeKsyms(), PRINTK)
            where = f"{fmt.full_name}: {fmt.print_fmt!r}"
            assert n.failed == o.failed, where
            assert compiled_view(n) == compiled_view(o), where
            for raw in payloads(fmt):
                assert n.render(raw) == o.render(raw), f"{where} on {raw.hex()}"
            assert n.marked_fields() == o.marked_fields(), where
            assert printfmt.perf_warning(fmt) == old.perf_warning(fmt), where
            name = f"{fmt.system}__{fmt.name}"
            old.PrintFormat(fmt, None).walk_defines(*recorder(old_calls), name)
            walk.walk(printfmt.PrintFormat(fmt, None).args, name, printfmt.DefineCalls(*recorder(new_calls)))
            assert new_calls == old_calls, where
            checked += 1
            failed += n.failed
    # the machine's own formats: most parse (a few use calls perf 6.1 does not know)
    parsed = sum(not printfmt.PrintFormat(f).failed for f in formats)
    assert parsed > 0.9 * len(formats)
    print(f"{checked} formats compared ({len(formats)} from tracefs), {failed} failed alike, "
          f"{len(old_calls)} define_* calls alike")
