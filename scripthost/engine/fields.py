"""perf script's -F/--fields as data: the field names perf 6.1 accepts, its output
types and their default fields, and the parsing of a -F value into the fields each
event type prints (perf's rules: `type:list` sets one type, a bare list sets every
type, `+f`/`-f` add to or remove from the defaults), and perf's check of those fields
against the samples each type's first event carries."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Optional, TextIO

from scripthost.errors import ScripthostError, UsageError
from scripthost.engine.layouts import DUMMY_CONFIG, AttrType, SampleType

__all__ = ["FIELD_NAMES", "FieldSelection", "parse_fields", "sampled_fields", "pipe_fields"]

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
# perf's defaults; its check drops those the samples lack (cpu, mostly)
_SAMPLED = frozenset(("comm", "tid", "cpu", "time", "event", "ip", "sym", "symoff", "dso", "period"))
_DEFAULTS: dict[int, frozenset] = {0: _SAMPLED, 1: _SAMPLED, 3: _SAMPLED, 5: _SAMPLED,
                                   2: frozenset(("comm", "tid", "time", "cpu", "event", "trace"))}
# the sample_type bits a field needs (any of them), and their name in perf's error
_NEEDS = {"tid": (SampleType.TID, "TID"), "pid": (SampleType.TID, "TID"),
          "time": (SampleType.TIME, "TIME"), "cpu": (SampleType.CPU, "CPU"),
          "ip": (SampleType.IP, "IP"), "addr": (SampleType.ADDR, "ADDR"),
          "period": (SampleType.PERIOD, "PERIOD"),
          "weight": (SampleType.WEIGHT | SampleType.WEIGHT_STRUCT, "WEIGHT"),
          "phys_addr": (SampleType.PHYS_ADDR, "PHYS_ADDR"), "data_src": (SampleType.DATA_SRC, "DATA_SRC"),
          "iregs": (SampleType.REGS_INTR, "IREGS"), "uregs": (SampleType.REGS_USER, "UREGS"),
          "data_page_size": (SampleType.DATA_PAGE_SIZE, "DATA_PAGE_SIZE"),
          "code_page_size": (SampleType.CODE_PAGE_SIZE, "CODE_PAGE_SIZE"),
          "ins_lat": (SampleType.WEIGHT_STRUCT, "WEIGHT_STRUCT")}
# fields that need another field beside them, and perf's error without it
_NEEDS_FIELD = (("symoff", "sym", "Display of offsets requested but symbol is notselected."),
                ("srcline", "ip", "Display of source line number requested but sample IP is not\n"
                 "selected. Hence, no address to lookup the source line number."),
                ("srccode", "ip", "Display of source line number requested but sample IP is not\n"
                 "selected. Hence, no address to lookup the source line number."))
_NO_BRANCHES = ("Display of branch stack assembler requested, but non all-branch filter set\n"
                "Hint: run 'perf record -b ...'")
# fields perf fills from the binaries themselves (addr2line on their debug info, their
# instruction bytes decoded), which scripthost does not do: refused, not printed wrong
_NOT_RENDERED = ("srcline", "srccode", "insn", "insnlen")
_NO_CLOCK = "Can't provide 'tod' time, missing clock data. Please record with -k/--clockid option."
# perf's exit status for a field the samples lack: file mode, pipe mode (-EINVAL from
# the HEADER_ATTR record's handler)
_CHECK_EXIT = {False: 255, True: 234}
# attr.type/config of the dummy side-band event, whose samples perf never checks
DUMMY = (AttrType.SOFTWARE, DUMMY_CONFIG)


@dataclass
class FieldSelection:
    """What -F asked for, by attr.type: the fields each type prints (types -F left alone
    are absent and print perf's default output), the names a bare (untyped) list gave for
    it (perf checks those against the samples; a `type:` list's fields are dropped
    silently where the samples lack them) and those a bare list removed with `-f`."""

    fields: dict[int, frozenset]
    named: dict[int, frozenset]
    unset: dict[int, frozenset]

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
            removed = frozenset(n[1:] for n in names if n[0] == "-") if not sep else frozenset()
            sel.fields[t], sel.unset[t] = chosen, removed
            sel.named[t] = frozenset() if sep else named
    return sel


def sampled_fields(sel: FieldSelection, attr_type: int, sample_type: int, event: str, *,
                   pipe: bool = False, clock_data: bool = True) -> Optional[frozenset]:
    """The fields an event prints under -F (None: perf's default output), after perf's
    check: a field the user named that its samples cannot supply is an error (exit
    255, from a pipe 234); a default field they lack is dropped.  ``clock_data``: whether the recording has perf's CLOCK_DATA (tod)."""
    chosen = sel.of(attr_type)
    if chosen is None:
        return None
    named = sel.named[attr_type]
    status = _CHECK_EXIT[pipe]
    for name in FIELD_NAMES:
        need = _NEEDS.get(name)
        if name not in chosen or need is None or sample_type & need[0] or name == "period":
            continue  # without PERIOD sampled perf prints the attr's fixed period
        if name in named:
            raise ScripthostError(f"Samples for '{event}' event do not have {need[1]} attribute set. "
                                  f"Cannot print '{name}' field.", exit_code=status)
        chosen = chosen - {name}
    for name, other, message in _NEEDS_FIELD:
        if name in chosen and other not in chosen:
            raise ScripthostError(message, exit_code=status)
    if chosen & {"brstackinsn", "brstackinsnlen"}:
        raise ScripthostError(_NO_BRANCHES, exit_code=status)
    if "tod" in chosen and not clock_data:
        raise ScripthostError(_NO_CLOCK, exit_code=status)
    for name in _NOT_RENDERED:
        if name in chosen:
            raise ScripthostError(f"-F {name} is not implemented by scripthost (perf reads it from the "
                                  f"binaries' debug info or code); drop it from -F or use perf script")
    return chosen


def pipe_fields(sel: FieldSelection, evsels: list, event: str, callchains: bool) -> Optional[frozenset]:
    """The fields of the type of ``evsels[-1]``, the event whose attr has just arrived
    in a pipe, as perf sets them then (None: perf's default output, or not the first
    event of its type, which keeps the first one's).  perf checks the first event of
    each type (the dummy event unchecked) and, when ``callchains`` are shown and an
    event so far samples them, adds ip and sym to the type's fields unless a bare list
    removed them."""
    ev = evsels[-1]
    if sel.of(ev.type) is None or any(e.type == ev.type for e in evsels[:-1]):
        return None
    if (ev.type, ev.config) == DUMMY:
        chosen = sel.fields[ev.type]
    else:
        chosen = sampled_fields(sel, ev.type, ev.sample_type, event, pipe=True)
    if callchains and any(e.sample_type & SampleType.CALLCHAIN for e in evsels):
        chosen = chosen | ({"ip", "sym"} - sel.unset[ev.type])
    return chosen
