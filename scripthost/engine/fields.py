"""perf script's -F/--fields as data: the field names perf 6.1 accepts, its output
types and their default fields, and the parsing of a -F value into the fields each
event type prints (perf's rules: `type:list` sets one type, a bare list sets every
type, `+f`/`-f` add to or remove from the defaults)."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Optional, TextIO

from scripthost.errors import ScripthostError, UsageError
from scripthost.engine.layouts import SampleType

__all__ = ["FIELD_NAMES", "FieldSelection", "parse_fields", "sampled_fields"]

# every name perf 6.1's -F accepts, in its help text's order
FIELD_NAMES: tuple[str, ...] = (
    "comm", "tid", "pid", "time", "cpu", "event", "trace", "ip", "sym", "dso", "addr", "symoff",
    "srcline", "period", "iregs", "uregs", "brstack", "brstacksym", "flags", "data_src", "weight",
    "bpf-output", "brstackinsn", "brstackinsnlen", "brstackoff", "callindent", "insn", "insnlen",
    "synth", "phys_addr", "metric", "misc", "srccode", "ipc", "tod", "data_page_size",
    "code_page_size", "ins_lat")
# perf's output slots, in its table's order: (type prefix or None, name in its warnings,
# attr.type values it covers, fields invalid there)
_SLOTS: tuple[tuple[Optional[str], str, tuple[int, ...], frozenset], ...] = (
    ("hw", "hardware", (0,), frozenset(("trace", "bpf-output"))),
    ("sw", "software", (1,), frozenset(("trace", "bpf-output"))),
    ("trace", "tracepoint", (2,), frozenset(("bpf-output",))),
    (None, "hardware-cache", (3,), frozenset(("trace", "bpf-output"))),
    ("raw", "unknown", (4,), frozenset(("trace",))),
    (None, "unknown", (5,), frozenset(("trace", "bpf-output"))),
    ("synth", "unknown", (6,), frozenset(("trace", "bpf-output"))),
    (None, "unknown", (), frozenset(("trace", "bpf-output"))),
)
_SAMPLED = frozenset(("comm", "tid", "time", "event", "ip", "sym", "symoff", "dso", "period"))
_DEFAULTS: dict[int, frozenset] = {0: _SAMPLED, 1: _SAMPLED, 3: _SAMPLED, 5: _SAMPLED,
                                   2: frozenset(("comm", "tid", "time", "cpu", "event", "trace"))}
# the sample_type bit a field needs, and its name in perf's error
_NEEDS = {"tid": (SampleType.TID, "TID"), "pid": (SampleType.TID, "TID"),
          "time": (SampleType.TIME, "TIME"), "cpu": (SampleType.CPU, "CPU"),
          "ip": (SampleType.IP, "IP"), "addr": (SampleType.ADDR, "ADDR"),
          "period": (SampleType.PERIOD, "PERIOD")}


@dataclass
class FieldSelection:
    """What -F asked for, by attr.type: the fields each type prints (types -F left alone
    are absent and print perf's default output), the names the user gave for it (perf
    checks those against the samples) and whether the list replaced the defaults."""

    fields: dict[int, frozenset]
    named: dict[int, frozenset]
    user_set: dict[int, bool]

    def of(self, attr_type: int) -> Optional[frozenset]:
        return self.fields.get(attr_type)


def _names(text: str) -> list[str]:
    names = [n for n in text.split(",") if n]
    for n in names:
        if n.lstrip("+-") not in FIELD_NAMES:
            raise UsageError("Invalid field requested.")
    return names


def _signed(names: list[str]) -> bool:
    """Whether ``names`` are +/- edits of the defaults (perf refuses a mix)."""
    signed = sum(n[0] in "+-" for n in names)
    if signed and signed != len(names):
        raise UsageError("Cannot mix +-field with overridden fields")
    return bool(signed)


def parse_fields(spec: str, warn: TextIO = sys.stderr) -> FieldSelection:
    """The -F value ``spec`` as perf 6.1 reads it; perf's words (and its exit status
    129) for an unknown field or type and for a mix of +/- with a plain list."""
    prefix, sep, rest = spec.partition(":")
    if sep:
        slots = [s for s in _SLOTS if s[0] == prefix]
        if not slots:
            raise UsageError("Invalid event type in field string.")
        names = _names(rest)
    else:
        slots, names = list(_SLOTS), _names(spec)
    signed = _signed(names)
    sel = FieldSelection({}, {}, {})
    for _prefix, label, types, invalid in slots:
        bad = [n.lstrip("+-") for n in names if n.lstrip("+-") in invalid]
        if bad and sep:
            raise UsageError(f"'{bad[0]}' not valid for {label} events.")
        for n in bad:
            warn.write(f"'{n}' not valid for {label} events. Ignoring.\n")
        for t in types:
            if signed:
                add = frozenset(n[1:] for n in names if n[0] == "+") - invalid
                chosen = (_DEFAULTS.get(t, _SAMPLED) | add) - frozenset(n[1:] for n in names if n[0] == "-")
                named = add
            else:
                chosen = named = frozenset(names) - invalid
            sel.fields[t], sel.named[t], sel.user_set[t] = chosen, named, not signed
    return sel


def sampled_fields(sel: FieldSelection, attr_type: int, sample_type: int, event: str) -> Optional[frozenset]:
    """The fields an event prints under -F (None: perf's default output), after perf's
    check: a field the user named that its samples cannot supply is an error (exit
    255); a default field they lack is dropped, and an unset list shows the cpu."""
    chosen = sel.of(attr_type)
    if chosen is None:
        return None
    named = sel.named[attr_type]
    for name in FIELD_NAMES:
        need = _NEEDS.get(name)
        if name not in chosen or need is None or sample_type & need[0] or name == "period":
            continue  # without PERIOD sampled perf prints the attr's fixed period
        if name in named:
            raise ScripthostError(f"Samples for '{event}' event do not have {need[1]} attribute set. "
                                  f"Cannot print '{name}' field.", exit_code=255)
        chosen = chosen - {name}
    if not sel.user_set[attr_type] and sample_type & SampleType.CPU:
        chosen = chosen | {"cpu"}
    return chosen
