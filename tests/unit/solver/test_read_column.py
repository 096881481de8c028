"""``read_column`` reads a batch's values in bulk (bare ints by numpy, anything else from its JSON
text) and the rest, and a short column's, one by one (``_read_value``): a value reads the same in
either way, wherever it lies in a column and whatever lies beside it."""

from __future__ import annotations

import enum
from typing import Any

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from service.solver.limits import MAX_SPATIAL_DIMS
from service.solver.sizes import BULK_FROM, _read_value, read_column

_NEUTRAL, _LO, _HI = 1, 1, 9
_ODD = [
    True,
    False,
    3.0,
    -0.0,
    2.5,
    1e400,
    float("nan"),
    2.0**53,
    2**53 + 1,
    2**62,
    2**63,
    2**64,
    -(2**63),
    -(2**63) - 1,
    10**30,
    "3",
    "[3],[4",
    None,
    {},
    [],
    [[2]],
    [[2], 3],
    [2, [3]],
    [-5, 3],
    "[3],[4",
    'a"b]',
    "a\\b,[",
    "é[",
    {"a": [1, 2]},
    {"a": "b,c"},
    [{"a": 1}],
    ["3", 4],
]
# Any JSON value, as a request may hold it (strings with brackets, commas and escapes among them).
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=4),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=3), inner, max_size=2),
    max_leaves=6,
)
_SCALAR = st.one_of(st.integers(-2, 12), st.sampled_from(_ODD))
_VALUE = st.one_of(
    st.integers(-2, 12),
    st.lists(st.integers(-2, 12), min_size=1, max_size=MAX_SPATIAL_DIMS),
    st.lists(_SCALAR, max_size=MAX_SPATIAL_DIMS + 1),
    st.sampled_from(_ODD),
    _JSON,
)


def _alone(value: Any, *, arrays: bool) -> tuple[list[int], int, bool]:
    """The value read by itself, by ``_read_value``, with the column's range check."""
    row = np.full(MAX_SPATIAL_DIMS, _NEUTRAL, dtype=np.int64)
    length = np.zeros(1, dtype=np.int64)
    read = _read_value(value, row, length, arrays=arrays, neutral=_NEUTRAL)
    malformed = not read or bool(((row < _LO) | (row > _HI)).any())
    if malformed:
        row[:] = _NEUTRAL
    return row.tolist(), int(length[0]) if read else 0, malformed


@given(st.lists(_VALUE, max_size=20), st.booleans())
@example([[1, 2], 2**64, [3, 2**63]], True)
@example([[1, 2], [3.0, 4], [True], [[5]], [], [1, 2, 3, 4], ["7"], [None]], True)
@example([3, [2, 2]], False)
@example([[1, 2], '"[', 4, ["]", 5], {"k": [6, 7]}, [8]], True)
def test_a_value_reads_the_same_in_bulk_as_alone(values: list[Any], arrays: bool) -> None:
    # As long as a batch's column, so that it is read in bulk: each value then recurs at several
    # places, beside other values each time.
    values = values * -(-BULK_FROM // len(values)) if values else values
    column = read_column(values, neutral=_NEUTRAL, lo=_LO, hi=_HI, arrays=arrays)
    for n, value in enumerate(values):
        row, length, malformed = _alone(value, arrays=arrays)
        got = (column.values[n].tolist(), int(column.length[n]), bool(column.malformed[n]))
        assert got[2] == malformed, value
        if malformed:
            assert got[:2] == ([_NEUTRAL] * MAX_SPATIAL_DIMS, 0), value
        else:
            assert got == (row, length, malformed), value


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (7, ([7, 7, 7], 0)),
        ([2, 3], ([2, 3, 1], 2)),
        ([4, 5, 6], ([4, 5, 6], 3)),
        (3.0, ([3, 3, 3], 0)),
        ([2.0, 3], ([2, 3, 1], 2)),
        ([-0.0, 2], None),  # -0.0 reads as 0, below the range
        (True, None),
        ([True], None),
        (2.5, None),
        (1e400, None),
        (2**63, None),
        ([2**64], None),
        ([-(2**63)], None),
        ("3", None),
        (["3"], None),
        (None, None),
        ([], None),
        ([1, 2, 3, 4], None),
        ([[2]], None),
        ({}, None),
    ],
)
def test_odd_values_beside_plain_ones(value: Any, expected: tuple[list[int], int] | None) -> None:
    for filler in (0, BULK_FROM):  # alone, and in a batch's column (read in bulk)
        column = read_column([[1, 2], value, 5, *[[3]] * filler], neutral=_NEUTRAL, lo=_LO, hi=_HI)
        assert column.values[[0, 2]].tolist() == [[1, 2, 1], [5, 5, 5]]
        assert column.malformed.tolist() == [False, expected is None, False, *[False] * filler]
        if expected is not None:
            assert (column.values[1].tolist(), int(column.length[1])) == expected


def test_without_arrays_an_array_is_malformed() -> None:
    for filler in (0, BULK_FROM):
        column = read_column([3, [3], 4.0, *[5] * filler], neutral=1, lo=1, hi=9, arrays=False)
        assert column.malformed.tolist() == [False, True, False, *[False] * filler]
        assert column.values[:, 0].tolist() == [3, 1, 4, *[5] * filler]


class _Three(enum.IntEnum):
    THREE = 3


@pytest.mark.parametrize("value", [(2, 3), _Three.THREE])
def test_values_not_from_json_read_as_alone(value: Any) -> None:
    """orjson writes a tuple as an array and an IntEnum as an int; alone, neither is a size."""
    for filler in (0, BULK_FROM):
        column = read_column([value, *[[3]] * filler], neutral=_NEUTRAL, lo=_LO, hi=_HI)
        assert column.malformed.tolist() == [True, *[False] * filler]
