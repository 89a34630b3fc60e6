"""tracefs `format` files: an event's name, id, fields and print_fmt.

Field flags follow libtraceevent: ARRAY when the name has ``[N]`` or the type
is ``__data_loc``/``__rel_loc ... []``; STRING when an array's type mentions
char, u8 or s8; DYNAMIC / RELATIVE for ``__data_loc`` / ``__rel_loc``.  The
blank line in the format separates the common fields from the event's own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field as dc_field
from typing import Optional

from scripthost.errors import CorruptInput

__all__ = ["Field", "EventFormat", "parse_format", "payload_need"]

_FIELD_RE = re.compile(
    r"^\s*field:(?P<decl>[^;]*);\s*offset:(?P<off>\d+);\s*size:(?P<size>\d+);(?:\s*signed:(?P<signed>-?\d+);)?")
_NAME_RE = re.compile(r"(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s*(?P<dims>(?:\[[^\]]*\])*)\s*$")
_ELEM_SIZES = {"char": 1, "u8": 1, "s8": 1, "__u8": 1, "bool": 1, "u16": 2, "s16": 2, "__u16": 2,
               "short": 2, "u32": 4, "s32": 4, "__u32": 4, "int": 4, "pid_t": 4, "u64": 8, "s64": 8,
               "__u64": 8, "long": 8, "dma_addr_t": 8, "size_t": 8}


@dataclass(slots=True)
class Field:
    """One field of a tracepoint record."""

    name: str
    type: str
    offset: int
    size: int
    signed: bool
    is_array: bool = False
    is_string: bool = False
    is_dynamic: bool = False
    is_relative: bool = False
    is_long: bool = False
    is_pointer: bool = False
    count: int = 1
    elem_size: int = 0


@dataclass
class EventFormat:
    """A tracepoint's format: identity, fields and print_fmt."""

    system: str
    name: str
    id: int
    common_fields: list[Field] = dc_field(default_factory=list)
    fields: list[Field] = dc_field(default_factory=list)
    print_fmt: str = ""

    @property
    def full_name(self) -> str:
        return f"{self.system}:{self.name}"

    def field(self, name: str) -> Optional[Field]:
        for f in self.common_fields:
            if f.name == name:
                return f
        for f in self.fields:
            if f.name == name:
                return f
        return None


def payload_need(fields: list[Field]) -> int:
    """The bytes of payload a record needs for ``fields`` to lie in it, as a script gets
    them: the common fields' 8, a fixed field whole, a dynamic one's 4-byte locator (its
    data is cut at the payload's end), nothing for a field of an odd size (it reads 0)."""
    need = 8
    for f in fields:
        if f.is_dynamic or f.is_relative:
            need = max(need, f.offset + 4)
        elif f.is_array or f.size in (1, 2, 4, 8):
            need = max(need, f.offset + f.size)
    return need


def _parse_field(line: str) -> Optional[Field]:
    m = _FIELD_RE.match(line)
    if m is None:
        return None
    decl = m.group("decl").strip()
    off, size = int(m.group("off")), int(m.group("size"))
    signed = m.group("signed") not in (None, "0")
    nm = _NAME_RE.search(decl)
    if nm is None:
        return None
    name = nm.group("name")
    dims = nm.group("dims")
    ftype = decl[:nm.start()].strip()
    dynamic = ftype.startswith("__data_loc")
    relative = ftype.startswith("__rel_loc")
    is_array = bool(dims) or ((dynamic or relative) and "[]" in ftype)
    count = 1
    if dims:
        inner = dims[1:dims.index("]")].strip()
        count = int(inner) if inner.isdigit() else 0
        if dynamic or relative:
            count = 0
    base = ftype
    for prefix in ("__data_loc", "__rel_loc"):
        if base.startswith(prefix):
            base = base[len(prefix):].strip()
    words = re.findall(r"[A-Za-z_][A-Za-z0-9_]*", base)
    is_string = is_array and any(w in ("char", "u8", "s8") for w in words)
    if dynamic or relative:
        count = 0
    if is_array and count:
        elem = size // count if count else size
    elif is_array:
        elem = next((_ELEM_SIZES[w] for w in reversed(words) if w in _ELEM_SIZES), 1)
    else:
        elem = size
    full_type = ftype + (dims if dims else "")
    return Field(name=name, type=full_type, offset=off, size=size, signed=signed,
                 is_array=is_array, is_string=is_string, is_dynamic=dynamic, is_relative=relative,
                 is_long="long" in words, is_pointer="*" in base, count=count if is_array else 1,
                 elem_size=elem)


def parse_format(text: str | bytes, system: str) -> EventFormat:
    """Parse one tracefs format file; raises CorruptInput on malformed text."""
    if isinstance(text, (bytes, bytearray, memoryview)):
        text = bytes(text).decode("utf-8", "replace")
    name = None
    ev_id = None
    common: list[Field] = []
    fields: list[Field] = []
    print_fmt = ""
    in_format = False
    seen_blank = False
    for line in text.split("\n"):
        if line.startswith("name:"):
            name = line[5:].strip()
        elif line.startswith("ID:"):
            try:
                ev_id = int(line[3:].strip())
            except ValueError:
                raise CorruptInput(f"corrupt event format: bad ID line {line[:60]!r}") from None
        elif line.startswith("format:"):
            in_format = True
        elif line.startswith("print fmt:"):
            print_fmt = line[len("print fmt:"):].strip()
            in_format = False
        elif in_format:
            if not line.strip():
                if common:
                    seen_blank = True
                continue
            f = _parse_field(line)
            if f is None:
                raise CorruptInput(f"corrupt event format for {name}: {line.strip()[:80]!r}")
            (fields if seen_blank else common).append(f)
    if name is None or ev_id is None:
        raise CorruptInput(f"corrupt event format in system {system!r}: no name or ID")
    return EventFormat(system=system, name=name, id=ev_id, common_fields=common, fields=fields,
                       print_fmt=print_fmt)
