"""--time/--cpu/--pid/--tid parsing (engine/filters.py), with perf's errors and statuses."""

from __future__ import annotations

import pytest

from scripthost.engine.filters import (
    CPU_ERROR_STATUS, TIME_ERROR_STATUS, DropAll, check_cpus, parse_filters,
)
from scripthost.errors import ScripthostError

NS = 1_000_000_000


def test_nothing_asked_is_no_filter() -> None:
    assert parse_filters() is None
    assert parse_filters(time="", cpu=None) is None


@pytest.mark.parametrize("text, ranges", [
    ("10.5,11", [(10 * NS + 500_000_000, 11 * NS)]),
    ("10,", [(10 * NS, 0)]),
    (",3.000000001", [(0, 3 * NS + 1)]),
    ("1,2 5,6", [(1 * NS, 2 * NS), (5 * NS, 6 * NS)]),
])
def test_absolute_times(text: str, ranges: list) -> None:
    flt = parse_filters(time=text)
    assert flt is not None and flt.times == ranges and flt.ranges(0, 100) == ranges


@pytest.mark.parametrize("text, spans", [
    ("10%/2", [(1000, 2000)]),  # the second tenth
    ("0%-50%", [(0, 5000)]),
    ("25%", [(0, 2500)]),
    ("10%/1,90%-100%", [(0, 1000), (9000, 10000)]),
])
def test_fractions_of_the_sample_span(text: str, spans: list) -> None:
    flt = parse_filters(time=text)
    assert flt is not None and flt.ranges(0, 10000) == spans


@pytest.mark.parametrize("text", ["abc", "2,1", "1", "120%", "50%/3", "60%-40%"])
def test_bad_times(text: str) -> None:
    with pytest.raises(ScripthostError) as info:
        parse_filters(time=text)
    assert str(info.value) == "Invalid time string" and info.value.exit_code == TIME_ERROR_STATUS


def test_cpus_pids_tids() -> None:
    flt = parse_filters(cpu="0-2,5", pid="1, 2", tid="7")
    assert flt is not None and (flt.cpus, flt.pids, flt.tids) == ([0, 1, 2, 5], [1, 2], [7])


def test_bad_lists() -> None:
    with pytest.raises(DropAll, match="problems parsing pid list"):
        parse_filters(pid="x")
    with pytest.raises(DropAll, match="problems parsing tid list"):
        parse_filters(tid=",")
    with pytest.raises(ScripthostError) as info:
        parse_filters(cpu="a")
    assert info.value.exit_code == CPU_ERROR_STATUS


def test_cpus_beyond_the_recording() -> None:
    check_cpus([0, 1], 2)
    with pytest.raises(ScripthostError) as info:
        check_cpus([0, 3], 2)
    assert info.value.exit_code == CPU_ERROR_STATUS
