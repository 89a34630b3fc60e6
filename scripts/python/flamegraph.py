"""flamegraph: a self-contained, interactive SVG flame graph of sampled callchains.

usage: scripthost trace flamegraph [-o FILE] [--title TEXT] [--width PX] [--format svg|folded]
       scripthost trace -i DATA -s flamegraph.py [-o FILE] [--title TEXT] [--width PX] [--format svg|folded]

Record with callchains first (`scripthost trace record flamegraph -- COMMAND`,
`scripthost record -e cpu-clock -F 999 -g -a`, or `perf record -g`).  The SVG
needs no network: it opens in any browser, a click on a frame zooms into it,
"Search" highlights frames by regular expression, "Reset" zooms out.
--format folded prints stackcollapse lines (comm;outer;...;inner COUNT) for
Brendan Gregg's FlameGraph tools instead.  Default output: flamegraph.svg.
"""

import argparse
import html
import sys
import zlib

parser = argparse.ArgumentParser(prog="flamegraph", description="interactive SVG flame graph")
parser.add_argument("-o", "--output", default=None, help="output file (- for standard output)")
parser.add_argument("--title", default="Flame Graph")
parser.add_argument("--width", type=int, default=1200)
parser.add_argument("--format", choices=("svg", "folded"), default="svg")
opts = parser.parse_args(sys.argv[1:])

FRAME_H = 16
KERNEL = "[kernel.kallsyms]"


class Node:
    __slots__ = ("name", "kind", "count", "children")

    def __init__(self, name, kind):
        self.name = name
        self.kind = kind
        self.count = 0
        self.children = {}

    def child(self, name, kind):
        c = self.children.get(name)
        if c is None:
            c = self.children[name] = Node(name, kind)
        return c


root = Node("all", "root")


def _kind(dso):
    if dso == KERNEL:
        return "kernel"
    if dso is None:
        return "unknown"
    if dso.startswith("/tmp/perf-"):
        return "jit"
    return "user"


def process_event(param_dict):
    chain = param_dict.get("callchain") or []
    node = root.child(param_dict.get("comm", "[unknown]"), "comm")
    node.count += 1
    root.count += 1
    if chain:
        frames = [(f["sym"]["name"] if "sym" in f else "[unknown]", _kind(f.get("dso"))) for f in chain]
    else:
        frames = [(param_dict.get("symbol", "[unknown]"), _kind(param_dict.get("dso")))]
    for name, kind in reversed(frames):
        node = node.child(name, kind)
        node.count += 1


def _folded(node, path, out):
    own = node.count - sum(c.count for c in node.children.values())
    if own > 0 and path:
        out.append("%s %d" % (";".join(path), own))
    for c in node.children.values():
        _folded(c, path + [c.name], out)


def _color(node):
    h = zlib.crc32(node.name.encode("utf-8", "surrogateescape"))
    v = h % 55
    if node.kind == "kernel":
        return "rgb(230,%d,%d)" % (140 + v, 50 + v // 2)
    if node.kind == "jit":
        return "rgb(%d,200,%d)" % (80 + v, 80 + v)
    if node.kind in ("comm", "root"):
        return "rgb(200,200,%d)" % (200 + v)
    return "rgb(%d,%d,55)" % (205 + v, 80 + 2 * v)


def _svg(out):
    width = opts.width
    total = root.count or 1
    scale = (width - 20) / total
    depth = [0]

    def measure(n, d):
        depth[0] = max(depth[0], d)
        for c in n.children.values():
            measure(c, d + 1)
    measure(root, 0)
    height = (depth[0] + 1) * FRAME_H + 70
    frames = []

    def draw(n, x, d):
        w = n.count * scale
        y = height - 30 - (d + 1) * FRAME_H
        pct = 100.0 * n.count / total
        label = html.escape(n.name, quote=True)
        frames.append(
            '<g class="f" data-n="%d" data-d="%d"><title>%s (%d samples, %.2f%%)</title>'
            '<rect x="%.2f" y="%d" width="%.2f" height="%d" fill="%s" rx="2"/>'
            '<text x="%.2f" y="%d">%s</text></g>'
            % (n.count, d, label, n.count, pct, x, y, w, FRAME_H - 1, _color(n), x + 3, y + 11, label))
        for c in sorted(n.children.values(), key=lambda c: c.name):
            draw(c, x, d + 1)
            x += c.count * scale
    draw(root, 10, 0)
    out.write(_TEMPLATE % {"w": width, "h": height, "title": html.escape(opts.title),
                           "frames": "\n".join(frames), "total": root.count})


def trace_end():
    if opts.format == "folded":
        lines = []
        for comm in root.children.values():
            _folded(comm, [comm.name], lines)
        out = sys.stdout if opts.output in (None, "-") else open(opts.output, "w")
        out.write("\n".join(sorted(lines)) + ("\n" if lines else ""))
        if out is not sys.stdout:
            out.close()
        return
    if not root.count:
        sys.stderr.write("flamegraph: no samples with callchains; record with -g\n")
    name = opts.output or "flamegraph.svg"
    if name == "-":
        _svg(sys.stdout)
        return
    with open(name, "w", encoding="utf-8") as f:
        _svg(f)
    print("flamegraph: wrote %s (%d samples)" % (name, root.count))


_TEMPLATE = """<?xml version="1.0" standalone="no"?>
<svg version="1.1" width="%(w)d" height="%(h)d" viewBox="0 0 %(w)d %(h)d"
     xmlns="http://www.w3.org/2000/svg" onload="init()">
<style>
 text { font: 11px Verdana, sans-serif; fill: #000; pointer-events: none; }
 .f:hover rect { stroke: #000; stroke-width: 0.5; cursor: pointer; }
 .hl rect { fill: rgb(230,0,230) !important; }
 #title { font-size: 17px; }
 .btn { font-size: 12px; fill: #333; cursor: pointer; pointer-events: all; }
</style>
<rect width="100%%" height="100%%" fill="#f8f8f8"/>
<text id="title" x="50%%" y="24" text-anchor="middle">%(title)s</text>
<text class="btn" id="reset" x="10" y="24" onclick="reset()">Reset</text>
<text class="btn" id="search" x="%(w)d" y="24" dx="-70" onclick="search()">Search</text>
<text id="info" x="10" y="%(h)d" dy="-10">%(total)d samples</text>
<g id="frames">
%(frames)s
</g>
<script type="text/ecmascript"><![CDATA[
var frames, W = %(w)d;
function init() {
  frames = Array.prototype.slice.call(document.querySelectorAll("g.f"));
  frames.forEach(function (g) {
    var r = g.querySelector("rect");
    g.ox = parseFloat(r.getAttribute("x")); g.ow = parseFloat(r.getAttribute("width"));
    g.onclick = function () { zoom(g); };
    g.onmouseover = function () { document.getElementById("info").textContent = g.querySelector("title").textContent; };
  });
  place(10, W - 20, 0);
}
function place(x0, span, d0) {
  var k = (W - 20) / span;
  frames.forEach(function (g) {
    var r = g.querySelector("rect"), t = g.querySelector("text");
    var d = parseInt(g.getAttribute("data-d"));
    var x = 10 + (g.ox - x0) * k, w = g.ow * k;
    var on = d >= d0 ? (g.ox + 1e-6 >= x0 && g.ox + g.ow <= x0 + span + 1e-6) : true;
    g.style.display = on && w > 0.1 ? "" : "none";
    r.setAttribute("x", x); r.setAttribute("width", w); t.setAttribute("x", x + 3);
    var name = g.querySelector("title").textContent.replace(/ \\(\\d+ samples.*$/, "");
    var fit = Math.floor((w - 6) / 7);
    t.textContent = fit < 3 ? "" : (name.length <= fit ? name : name.slice(0, fit - 2) + "..");
  });
}
function zoom(g) { place(g.ox, g.ow, parseInt(g.getAttribute("data-d"))); }
function reset() { place(10, W - 20, 0); }
function search() {
  var re = prompt("Search frames (regular expression):");
  if (re === null) return;
  var rx = new RegExp(re), n = 0;
  frames.forEach(function (g) {
    var hit = re !== "" && rx.test(g.querySelector("title").textContent.replace(/ \\(\\d+ samples.*$/, ""));
    g.classList.toggle("hl", hit); if (hit) n++;
  });
  document.getElementById("info").textContent = n + " frames match " + re;
}
]]></script>
</svg>
"""
