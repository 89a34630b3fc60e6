"""perf script's symbol options against the real perf 6.1, on `-g` recordings made here of
a C++ workload (tests/cxx_workload.cpp, g++ -O0 -g) run after a shell loop of `ls`:
cpu-clock samples and raw_syscalls:sys_enter tracepoints, both with callchains, from a
file and from a pipe.  -c/-S/--addr-range/--dsos filters, --max-stack, --stop-bt,
--[no-]inline, demangling (--no-demangle, --demangle-kernel), --kallsyms, -k/--vmlinux,
--symfs and -f/--force; default output and a Python script, compared byte for byte."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import can_record, needs_perl, perf, record_input, scripthost

pytestmark = can_record

SOURCE = Path(__file__).parent / "cxx_workload.cpp"
EVENTS = ("-g", "-e", "cpu-clock", "-e", "raw_syscalls:sys_enter")

CHAIN_PY = """
def _chain(d):
    return [(c.get("ip"), c.get("sym", {}).get("name"), c.get("dso")) for c in d.get("callchain", [])]

def process_event(param_dict):
    s = param_dict["sample"]
    print(param_dict["comm"], s["tid"], param_dict.get("symbol"), param_dict.get("dso"), _chain(param_dict))

def trace_unhandled(event_name, context, fields, sample):
    print(event_name, sample["sample"]["tid"], sample.get("symbol"), _chain(sample))
"""


@pytest.fixture(scope="module")
def workload(tmp_path_factory: pytest.TempPathFactory) -> str:
    if shutil.which("g++") is None:
        pytest.skip("g++ is needed to build the C++ workload")
    out = tmp_path_factory.mktemp("cxx") / "cxxwork"
    r = subprocess.run(["g++", "-O0", "-g", "-o", str(out), str(SOURCE)], capture_output=True)
    if r.returncode:
        pytest.skip("g++ failed: " + r.stderr.decode()[-200:])
    return str(out)


class Rec:
    """A recording: its -i arguments and stdin, and a busy user-space sample's ip."""

    def __init__(self, tmp: Path, mode: str, workload: str) -> None:
        self.args, self.stdin = record_input(tmp, mode, *EVENTS, "--", "sh", "-c",
                                             f"i=0; while [ $i -lt 10 ]; do i=$((i+1)); ls / >/dev/null; done; exec {workload}")
        out = perf("script", *self.args, "-F", "ip,sym", "-G", input=self.stdin).stdout.decode()
        ips = re.findall(r"^\s*([0-9a-f]+) ns::Box<long>::spin$", out, re.M)
        assert ips, out[:400]
        self.ip = max(set(ips), key=ips.count)


@pytest.fixture(scope="module", params=["file", "pipe"])
def rec(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, workload: str) -> Rec:
    return Rec(tmp_path_factory.mktemp("sym"), request.param, workload)


def _same(rec: Rec, *args: str) -> bytes:
    want = perf("script", *rec.args, *args, input=rec.stdin)
    got = scripthost("trace", *rec.args, *args, input=rec.stdin)
    assert got.returncode == want.returncode, (args, got.stderr.decode())
    assert got.stdout == want.stdout, args
    return got.stdout


def _cases(rec: Rec, workload: str) -> list[list[str]]:
    base = os.path.basename(workload)
    return [["-c", "ls"], ["--comms", f"sh,{base}"], ["-S", "ns::outer,work"],
            ["-S", "syscall_trace_enter"], ["--symbols", "ns::Box<long>::spin", "-c", "ls"],
            ["-S", "0x" + rec.ip], ["-S", rec.ip], ["-S", "0x" + rec.ip, "--addr-range", "64"],
            ["-S", "_ZNK2ns3BoxIlE4spinEi"], ["--no-demangle", "-S", "_ZNK2ns3BoxIlE4spinEi"],
            ["--dsos", base], ["--dsos", workload], ["--dsos", "[kernel.kallsyms]"],
            ["--dsos", "libc.so.6,[kernel.kallsyms]", "-c", "ls"], ["--max-stack", "0"],
            ["--max-stack", "1"], ["--max-stack", "3"], ["--stop-bt", "work,do_syscall_64"],
            ["--stop-bt", "main", "--max-stack", "4"], ["--inline"], ["--no-inline"],
            ["--no-demangle"], ["--demangle-kernel"], ["-G", "-c", "ls", "--stop-bt", "work"]]


def test_default_output_as_perf(rec: Rec, workload: str) -> None:
    everything = _same(rec)
    assert b"ns::Box<long>::spin+0x" in everything and b"_ZNK2ns" not in everything  # demangled
    assert b"_ZNK2ns3BoxIlE4spinEi+0x" in _same(rec, "--no-demangle")
    cases = _cases(rec, workload)
    # a pipe is decoded as a file is: half the cases, every other one, check it
    for args in cases if rec.args[1] != "-" else cases[::2]:
        out = _same(rec, *args)
        if args not in (["--inline"], ["--no-inline"], ["--no-demangle"], ["--demangle-kernel"]):
            assert len(out) < len(everything), args  # each one filters or cuts


def test_python_script_as_perf(rec: Rec, workload: str, tmp_path: Path) -> None:
    script = tmp_path / "chain.py"
    script.write_text(CHAIN_PY)
    filters = [c for c in _cases(rec, workload) if c[0] in ("-c", "-S", "--dsos")][::3]
    for args in [[]] + filters + [["--max-stack", "2"], ["--no-demangle"]]:
        _same(rec, "-s", str(script), *args)


@pytest.fixture(scope="module")
def file_rec(tmp_path_factory: pytest.TempPathFactory, workload: str) -> Rec:
    return Rec(tmp_path_factory.mktemp("symf"), "file", workload)


@needs_perl
def test_perl_script_as_perf(file_rec: Rec) -> None:
    """perf's check-perf-trace.pl counts the events it is given: filtered first."""
    script = "/usr/lib/perf-core/scripts/perl/check-perf-trace.pl"
    env = {"PERL_HASH_SEED": "0", "PERL_PERTURB_KEYS": "0"}  # it prints a hash's keys
    for args in (["-c", "ls"], ["-S", "syscall_trace_enter"], ["--dsos", "libc.so.6"]):
        want = perf("script", *file_rec.args, "-s", script, *args, env=env)
        got = scripthost("trace", *file_rec.args, "-s", script, *args, env=env)
        assert (got.returncode, got.stdout) == (want.returncode, want.stdout), args


def test_symbol_sources_as_perf(file_rec: Rec, workload: str, tmp_path: Path) -> None:
    """--kallsyms with a copy of /proc/kallsyms (the same symbols) and with an empty file
    (kernel frames unknown); --symfs with a tree holding a copy of the workload (found
    there), an empty one (user frames unknown, and the kernel too: perf reads no kallsyms
    under --symfs), and with --kallsyms; -k with a file that is no vmlinux of this kernel."""
    kallsyms = tmp_path / "kallsyms"
    kallsyms.write_bytes(Path("/proc/kallsyms").read_bytes())
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    tree = tmp_path / "symfs"
    (tree / workload.lstrip("/")).parent.mkdir(parents=True)
    shutil.copy(workload, tree / workload.lstrip("/"))
    (tmp_path / "nothing").mkdir()
    everything = _same(file_rec)
    assert _same(file_rec, "--kallsyms", str(kallsyms)) == everything
    assert b"[unknown] ([kernel.kallsyms])" in _same(file_rec, "--kallsyms", str(empty))
    found = _same(file_rec, "--symfs", str(tree))
    assert b"ns::Box<long>::spin+0x" in found and b"do_syscall_64" not in found
    assert b"[unknown] (" + workload.encode() in _same(file_rec, "--symfs", str(tmp_path / "nothing"))
    assert b"do_syscall_64" in _same(file_rec, "--symfs", f"{tree}/", "--kallsyms", str(kallsyms))
    assert b"[unknown] ([kernel.kallsyms])" in _same(file_rec, "-k", workload)


@pytest.mark.parametrize("args", [["-k", "/nonexistent/vmlinux"], ["--kallsyms", "/nonexistent/kallsyms"],
                                  ["--vmlinux", "/nonexistent/vmlinux", "--kallsyms", "/proc/kallsyms"],
                                  ["--max-stack", "x"], ["-S", "work", "--addr-range", "0x40"],
                                  ["-c", "ls,,ls"], ["-S", "work,work"], ["--dsos", "a,a", "-c", "b,b"],
                                  ["--stop-bt", "main,main"], ["-c", ""]])
def test_bad_values_as_perf(file_rec: Rec, args: list[str]) -> None:
    want = perf("script", *file_rec.args, *args)
    got = scripthost("trace", *file_rec.args, *args)
    assert (got.returncode, got.stdout) == (want.returncode, want.stdout), got.stderr.decode()
    said = got.stderr.decode().removeprefix("scripthost: ").strip()
    if want.returncode == 129:  # a usage error: perf's words, then its usage text
        assert said.splitlines()[0] in want.stderr.decode(), (said, want.stderr)
    else:
        assert said == want.stderr.decode().strip(), (said, want.stderr)


def test_force_reads_files_others_own(file_rec: Rec, tmp_path: Path) -> None:
    """perf refuses a recording owned by neither the user nor root unless -f is given."""
    theirs = tmp_path / "theirs.data"
    shutil.copy(file_rec.args[1], theirs)
    os.chown(theirs, 65534, 65534)
    for args in (["-i", str(theirs)], ["-i", str(theirs), "--header-only"]):
        want, got = perf("script", *args), scripthost("trace", *args)
        assert (got.returncode, got.stdout) == (want.returncode, want.stdout) == (255, b"")
        assert got.stderr.decode().removeprefix("scripthost: ") == want.stderr.decode()
    forced = ["-f", "-i", str(theirs)]
    assert scripthost("trace", *forced).stdout == perf("script", *forced).stdout != b""


def test_demangler_matches_binutils(workload: str) -> None:
    """Every C++ name of the workload and of libstdc++ demangles as `c++filt -p` (binutils'
    demangler without parameters, the form perf 6.1 prints) says."""
    if shutil.which("c++filt") is None or shutil.which("nm") is None:
        pytest.skip("binutils (nm, c++filt) are needed")
    from scripthost.engine.demangle import demangle
    names = []
    for binary in (workload, "/usr/lib/x86_64-linux-gnu/libstdc++.so.6"):
        if os.path.exists(binary):
            out = subprocess.run(["nm", "-D" if binary.endswith(".so.6") else "-a", binary],
                                 capture_output=True, text=True).stdout
            # nm -D names a versioned symbol NAME@VERSION; the symbol itself is NAME
            names += [w.split("@")[0] for w in (line.split()[-1] for line in out.splitlines()
                                                if line.strip()) if w.startswith("_Z")]
    assert len(names) > 100
    want = subprocess.run(["c++filt", "-p"], input="\n".join(names) + "\n", capture_output=True,
                          text=True).stdout.splitlines()
    got = [demangle(n) for n in names]
    assert [(n, g, w) for n, g, w in zip(names, got, want) if _terse(g) != _terse(w)] == []


#: what binutils' verbose mode (c++filt's, not perf's) spells out of the standard
#: abbreviations; both sides are compared in the terse spelling
_VERBOSE = {"std::basic_string<char, std::char_traits<char>, std::allocator<char> >": "std::string",
            "std::basic_istream<char, std::char_traits<char> >": "std::istream",
            "std::basic_ostream<char, std::char_traits<char> >": "std::ostream",
            "std::basic_iostream<char, std::char_traits<char> >": "std::iostream"}


def _terse(name: str) -> str:
    for long, short in _VERBOSE.items():
        name = name.replace(long + " >", short + ">").replace(long, short)  # "> >" closes as ">>"
    return name
