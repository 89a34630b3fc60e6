"""The error classes: one ScripthostError base the CLI catches, the input faults as kinds
of StreamError that keep their offset and exit status."""

from __future__ import annotations

import struct

import pytest

from scripthost.engine.layouts import PERF_MAGIC, RecordType
from scripthost.engine.reader import open_recording
from scripthost.engine.session import Consumer, Session
from scripthost.errors import (
    CorruptInput, EmptyInput, ScriptError, ScripthostError, StreamError, TruncatedInput,
    UnsupportedInput, UsageError,
)


def test_one_base() -> None:
    for cls in (StreamError, TruncatedInput, CorruptInput, UnsupportedInput, EmptyInput, ScriptError,
                UsageError):
        assert issubclass(cls, ScripthostError)
    assert ScriptError("x", 255).exit_code == 255 and ScriptError("x").exit_code == 1
    assert UsageError("x").exit_code == 129


def test_offset_kept_and_said() -> None:
    e = CorruptInput("corrupt record: type 9 claims size 4", 0x40)
    assert (str(e), e.offset, e.exit_code) == ("corrupt record: type 9 claims size 4 at offset 0x40", 0x40, 2)
    assert str(CorruptInput("no offset")) == "no offset"


def test_empty_input() -> None:
    with pytest.raises(EmptyInput) as info:
        open_recording(b"")
    assert isinstance(info.value, TruncatedInput) and info.value.offset == 0 and info.value.exit_code == 255  # as perf script's for an empty file or pipe


def test_not_perf_data_is_unsupported_with_perfs_status() -> None:
    with pytest.raises(UnsupportedInput) as info:
        open_recording(b"not a perf recording at all")
    assert info.value.exit_code == 255 and info.value.offset == 0
    assert str(info.value).startswith("incompatible file format: not a perf recording, bad magic")


def test_big_endian_is_unsupported() -> None:
    with pytest.raises(UnsupportedInput, match="big-endian"):
        open_recording(b"2ELIFREP" + struct.pack("<Q", 16))


def test_a_record_cut_short_is_truncated() -> None:
    pipe = PERF_MAGIC + struct.pack("<Q", 16) + struct.pack("<IHH", RecordType.FINISHED_ROUND, 0, 64)
    with pytest.raises(TruncatedInput) as info:
        Session(pipe).run(Consumer())
    assert info.value.offset == 16 and str(info.value).startswith("truncated input:")


def test_a_record_of_impossible_size_is_corrupt() -> None:
    pipe = PERF_MAGIC + struct.pack("<Q", 16) + struct.pack("<IHH", RecordType.FINISHED_ROUND, 0, 4)
    with pytest.raises(CorruptInput) as info:
        Session(pipe).run(Consumer())
    assert info.value.offset == 16 and "claims size 4" in str(info.value)
