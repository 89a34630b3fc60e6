"""Sampled events with callchains: perf's sampling scripts run unchanged over
recordings of a workload with known hot functions (hot_inner about 3/4 of the
user time, warm 1/4, then a getppid() loop in the kernel), and print what
`perf script -s` prints; default output matches `perf script`, also for a group
sampled by its leader (one sample per counter); our collector's
recording of the same workload shows the same hot functions; our flame graph
shows the hottest function widest."""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conftest import IS_ROOT, PERF_EXEC, perf, scripthost

HERE = Path(__file__).parent
OUR_FLAMEGRAPH = str(HERE.parent / "scripts" / "python" / "flamegraph.py")
needs_sampling = pytest.mark.skipif(PERF_EXEC is None or not IS_ROOT,
                                    reason="sampling recordings need perf and root")


@pytest.fixture(scope="module")
def hot(tmp_path_factory: pytest.TempPathFactory) -> str:
    """tests/hot.c, static (no PLT stubs) and with frame pointers."""
    if shutil.which("gcc") is None:
        pytest.skip("gcc is needed to build the sampling workload")
    out = tmp_path_factory.mktemp("hot") / "hot"
    subprocess.run(["gcc", "-O1", "-g", "-fno-omit-frame-pointer", "-static", "-o", str(out),
                    str(HERE / "hot.c")], check=True, capture_output=True)
    return str(out)


@pytest.fixture(scope="module")
def recordings(hot: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The workload recorded by perf (file and pipe mode) and by our collector."""
    if PERF_EXEC is None or not IS_ROOT:
        pytest.skip("sampling recordings need perf and root")
    d = tmp_path_factory.mktemp("samples")
    out = {"file": str(d / "perf.data"), "pipe": str(d / "perf.pipe"), "ours": str(d / "ours.data")}
    cmd = [hot, "200", "200000"]
    r = perf("record", "-q", "-g", "-e", "cpu-clock", "-F", "999", "-o", out["file"], "--", *cmd)
    assert r.returncode == 0, r.stderr
    r = perf("record", "-q", "-g", "-e", "cpu-clock", "-F", "999", "-o", "-", "--", *cmd)
    assert r.returncode == 0, r.stderr
    Path(out["pipe"]).write_bytes(r.stdout)
    r = scripthost("record", "-q", "-e", "cpu-clock", "-F", "999", "-g", "-o", out["ours"], "--", *cmd)
    assert r.returncode == 0, r.stderr
    # a fixed period (-c: PERIOD not sampled, perf still shows it) and no callchains
    out["fixed"], out["flat"] = str(d / "fixed.data"), str(d / "flat.data")
    r = perf("record", "-q", "-g", "-e", "cpu-clock", "-c", "100000", "-o", out["fixed"], "--", *cmd)
    assert r.returncode == 0, r.stderr
    r = perf("record", "-q", "-e", "cpu-clock", "-F", "999", "-o", out["flat"], "--", *cmd)
    assert r.returncode == 0, r.stderr
    # a group sampled by its leader (READ): perf delivers each sample once per counter
    group = ["record", "-q", "-g", "-e", "{cpu-clock,task-clock}:S", "-F", "999"]
    out["group"], out["group_pipe"] = str(d / "group.data"), str(d / "group.pipe")
    r = perf(*group, "-o", out["group"], "--", *cmd)
    assert r.returncode == 0, r.stderr
    r = perf(*group, "-o", "-", "--", *cmd)
    assert r.returncode == 0, r.stderr
    Path(out["group_pipe"]).write_bytes(r.stdout)
    return out


def _perf_script(path: str) -> str:
    return os.path.join(PERF_EXEC or "", "scripts", "python", path)


@needs_sampling
@pytest.mark.parametrize("times", ["us", "ns"])
@pytest.mark.parametrize("mode", ["file", "pipe", "ours", "fixed", "flat", "group", "group_pipe"])
def test_default_output_with_callchains(mode: str, times: str, recordings: dict) -> None:
    ns = ["--ns"] if times == "ns" else []
    ours = scripthost("trace", *ns, "-i", recordings[mode])
    theirs = perf("script", *ns, "-i", recordings[mode])
    assert ours.returncode == 0, ours.stderr
    a, b = ours.stdout.decode().splitlines(), theirs.stdout.decode().splitlines()
    same = sum(x == y for x, y in zip(a, b))
    assert len(a) == len(b) and len(b) > (100 if mode == "flat" else 1000)
    if mode.startswith("group"):  # both counters' samples, each with its own period
        assert " task-clock: " in ours.stdout.decode() and " cpu-clock: " in ours.stdout.decode()
    assert same >= 0.99 * len(b), f"{same}/{len(b)} lines identical"


# sample_type bits of the u64 fields before READ and CALLCHAIN in a sample
_BEFORE_CHAIN = (1 << 16, 1, 2, 4, 8, 1 << 6, 1 << 9, 1 << 7, 1 << 8)


@needs_sampling
def test_callchain_past_its_record_is_a_stream_error(recordings: dict, tmp_path: Path) -> None:
    """A sample whose callchain length runs past its record: a one-line error, a
    non-zero exit, and every sample before it printed."""
    data = bytearray(Path(recordings["pipe"]).read_bytes())
    pos, seen, sample_type = 16, 0, None
    while pos < len(data):
        kind, _, size = struct.unpack_from("<IHH", data, pos)
        if kind == 64 and sample_type is None:  # PERF_RECORD_HEADER_ATTR
            sample_type = struct.unpack_from("<Q", data, pos + 8 + 24)[0]
        if kind == 9:  # PERF_RECORD_SAMPLE
            seen += 1
            if seen == 200:
                assert sample_type is not None and not sample_type & (1 << 4)  # no READ
                chain_off = 8 + 8 * sum(bool(sample_type & bit) for bit in _BEFORE_CHAIN)
                struct.pack_into("<Q", data, pos + chain_off, 4096)
                break
        pos += size
    assert seen == 200
    bad = tmp_path / "bad.pipe"
    bad.write_bytes(bytes(data))
    good = scripthost("trace", "-i", recordings["pipe"])
    r = scripthost("trace", "-i", str(bad))
    err = r.stderr.decode()
    assert r.returncode != 0
    # past the record, or past the whole chunk read (the parser's struct read fails first)
    assert f"corrupt sample: fields run past its {size} bytes" in err or \
        "corrupt sample: fields run past the buffer" in err, err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert r.stdout and good.stdout.startswith(r.stdout)


@needs_sampling
@pytest.mark.parametrize("mode", ["file", "pipe", "ours", "fixed", "group", "group_pipe"])
@pytest.mark.parametrize("script", ["stackcollapse.py", "event_analyzing_sample.py", "sample_probe.py",
                                    "flamegraph.py -- -f json -o -"])
def test_perf_sampling_scripts_identical(script: str, mode: str, recordings: dict) -> None:
    name, *args = script.split()
    path = str(HERE / "scripts" / name) if name == "sample_probe.py" else _perf_script(name)
    outs = []
    for run in (lambda: perf("script", "-i", recordings[mode], "-s", path, *args),
                lambda: scripthost("trace", "-i", recordings[mode], "-s", path, *args)):
        if os.path.exists("/dev/shm/perf.db"):
            os.unlink("/dev/shm/perf.db")  # event_analyzing_sample's database, kept between runs
        r = run()
        assert r.returncode == 0, r.stderr
        outs.append(r.stdout)
    assert outs[1] == outs[0]
    assert len(outs[0]) > 100


@needs_sampling
def test_collector_finds_the_same_hot_functions(recordings: dict) -> None:
    """Our recording, read by the real perf, ranks the workload's functions as perf's own does."""
    def leaves(path: str) -> dict[str, int]:
        r = perf("script", "-i", path, "-s", _perf_script("stackcollapse.py"))
        counts: dict[str, int] = {}
        for line in r.stdout.decode().splitlines():
            stack, n = line.rsplit(" ", 1)
            counts[stack.split(";")[-1]] = counts.get(stack.split(";")[-1], 0) + int(n)
        return counts
    ours, theirs = leaves(recordings["ours"]), leaves(recordings["file"])
    for counts in (ours, theirs):
        top = sorted(counts, key=counts.get, reverse=True)
        assert top[:2] == ["hot_inner", "warm"], counts
        assert counts["hot_inner"] > 2 * counts["warm"]


@needs_sampling
def test_our_folded_output_is_stackcollapse(recordings: dict) -> None:
    ours = scripthost("trace", "-i", recordings["file"], "-s", OUR_FLAMEGRAPH, "--", "--format", "folded")
    theirs = perf("script", "-i", recordings["file"], "-s", _perf_script("stackcollapse.py"))
    assert ours.returncode == 0, ours.stderr
    assert ours.stdout.splitlines() == sorted(theirs.stdout.splitlines())


def _frames(svg: Path) -> list[tuple[str, float, int]]:
    ns = "{http://www.w3.org/2000/svg}"
    out = []
    for g in ET.parse(svg).getroot().iter(f"{ns}g"):
        if g.get("class") == "f":
            name = g.find(f"{ns}title").text.rsplit(" (", 1)[0]
            out.append((name, float(g.find(f"{ns}rect").get("width")), int(g.get("data-d"))))
    return out


@needs_sampling
def test_flame_graph_shows_the_hottest_function_widest(recordings: dict, tmp_path: Path) -> None:
    svg = tmp_path / "fg.svg"
    r = scripthost("trace", "-i", recordings["ours"], "-s", OUR_FLAMEGRAPH, "--", "-o", str(svg))
    assert r.returncode == 0, r.stderr
    text = svg.read_text()
    assert "http://" not in text.replace("http://www.w3.org/2000/svg", "")  # nothing to fetch
    frames = _frames(svg)
    hot = [f for f in frames if f[0] == "hot_inner"]
    assert hot
    name, width, depth = max(hot, key=lambda f: f[1])
    same_depth = [f for f in frames if f[2] == depth]
    assert max(same_depth, key=lambda f: f[1])[0] == "hot_inner"
    warm = max(f[1] for f in frames if f[0] == "warm")
    assert width > 2 * warm
    chromium = next((shutil.which(b) for b in ("chromium", "chromium-browser", "google-chrome")
                     if shutil.which(b)), None)
    if chromium is None:
        pytest.skip("no headless Chromium for the screenshot")
    png = tmp_path / "fg.png"
    subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", f"--screenshot={png}",
                    "--window-size=1200,600", f"file://{svg}"], capture_output=True, timeout=120)
    assert png.exists() and png.stat().st_size > 1000


def test_symbol_rules_without_perf() -> None:
    """perf's kallsyms rules: of names at one address the last wins; an unsized
    symbol runs to the next; ELF tables prefer global over local."""
    from scripthost.engine.symbols import STB_GLOBAL, STB_LOCAL, Symbol, SymbolTable, kallsyms_table
    t = kallsyms_table(b"ffffffff81000000 T _text\nffffffff81377d40 T __ia32_sys_getppid\n"
                       b"ffffffff81377d40 T __x64_sys_getppid\nffffffff81377d80 t next_fn\n")
    assert t.find(0xFFFFFFFF81377D66).name == "__x64_sys_getppid"
    assert t.find(0xFFFFFFFF81377D66).end == 0xFFFFFFFF81377D80
    e = SymbolTable([Symbol(0x100, 0x110, STB_LOCAL, "__GI_f"), Symbol(0x100, 0x110, STB_GLOBAL, "f"),
                     Symbol(0x200, 0x200, STB_GLOBAL, "label"), Symbol(0x240, 0x250, STB_GLOBAL, "g")])
    assert e.find(0x105).name == "f" and e.find(0x110) is None
    assert e.find(0x230).name == "label"


def test_maps_cut_overlaps() -> None:
    from scripthost.engine.machine import Dso, Map, Maps
    d1, d2 = Dso("a", "", lambda d: None), Dso("b", "", lambda d: None)
    m = Maps()
    m.insert(Map(0x1000, 0x5000, 0, d1))
    m.insert(Map(0x2000, 0x3000, 0x40, d2))
    assert m.find(0x1800).dso is d1 and m.find(0x2800).dso is d2
    after = m.find(0x3800)
    assert after.dso is d1 and after.map_ip(0x3800) == 0x2800
    assert m.find(0x5000) is None


@pytest.mark.skipif(PERF_EXEC is None or not os.path.exists("/sys/kernel/notes"), reason="needs perf and /sys/kernel/notes")
def test_running_kernel_build_id_is_perfs() -> None:
    # /proc/kallsyms names a recording's kernel addresses only when this id is the recorded one
    from scripthost.engine.symbols import running_kernel_build_id
    r = perf("buildid-list", "-k")
    assert running_kernel_build_id() == r.stdout.decode().strip()


def test_other_kernels_recording_gets_no_host_symbols() -> None:
    from scripthost.engine.machine import Machine
    m = Machine({"[kernel.kallsyms]": "00" * 20})
    assert m.kernel_table().symbols == [] or os.path.exists(
        os.path.expanduser("~/.debug/[kernel.kallsyms]/" + "00" * 20))
