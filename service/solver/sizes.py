"""Sizes as tuples, int-to-tuple broadcasting, and the forward size of a transposed convolution."""

from __future__ import annotations

import functools
import operator
from collections.abc import Collection, Mapping, Sequence
from itertools import repeat
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt
import orjson

from service.solver import limits
from service.solver.limits import MAX_SPATIAL_DIMS as MAX_DIMS

Dims = tuple[int, ...]


def broadcast(value: int | Sequence[int], ndim: int, *, name: str) -> Dims:
    """Return ``value`` as a tuple of ``ndim`` ints, repeating a bare int.

    Raises ValueError naming ``name`` when a sequence has the wrong length.

    >>> broadcast(3, 2, name="kernel_size")
    (3, 3)
    >>> broadcast([3, 5], 2, name="kernel_size")
    (3, 5)
    """
    if isinstance(value, int):
        return (value,) * ndim
    dims = tuple(value)
    if len(dims) != ndim:
        raise ValueError(f"{name} has {len(dims)} entries but the layer is {ndim}-D")
    return dims


def forward_size(
    input_size: int, *, kernel_size: int, stride: int, padding: int, output_padding: int, dilation: int
) -> int:
    """Output length of ConvTranspose along one dimension (the ``Shape:`` formula of torch.nn).

    out = (in - 1) * stride - 2 * padding + dilation * (kernel_size - 1) + output_padding + 1

    The result may be < 1; whether torch accepts the layer is ``rules.check_layer``'s job.

    >>> forward_size(7, kernel_size=4, stride=2, padding=1, output_padding=0, dilation=1)
    14
    """
    return (input_size - 1) * stride - 2 * padding + dilation * (kernel_size - 1) + output_padding + 1


def derivation(
    input_size: int, *, kernel_size: int, stride: int, padding: int, output_padding: int, dilation: int
) -> str:
    """The forward formula with this dimension's numbers filled in, as the seed article writes it.

    >>> derivation(7, kernel_size=4, stride=2, padding=1, output_padding=0, dilation=1)
    '(7-1)·2 − 2·1 + 1·(4−1) + 0 + 1 = 14'
    """
    return formula(input_size, kernel_size, stride, padding, output_padding, dilation)


def formula(i: int, k: int, s: int, p: int, op: int, d: int) -> str:
    """``derivation`` with positional arguments: it runs for every dimension of every answer.

    >>> formula(7, 4, 2, 1, 0, 1)
    '(7-1)·2 − 2·1 + 1·(4−1) + 0 + 1 = 14'
    """
    return f"({i}-1)·{s} − 2·{p} + {d}·({k}−1) + {op} + 1 = {(i - 1) * s - 2 * p + d * (k - 1) + op + 1}"


def resolve_ndim(**sizes: int | Sequence[int]) -> int:
    """Spatial dimensions of a request: its array-valued sizes' length, else 2 (a bare int is 2-D).

    Raises ValueError naming the fields when two arrays disagree.

    >>> resolve_ndim(input_size=7, output_size=[14, 14, 14])
    3
    >>> resolve_ndim(input_size=7, output_size=14)
    2
    """
    lengths = {name: len(value) for name, value in sizes.items() if not isinstance(value, int)}
    if len(set(lengths.values())) > 1:
        shown = ", ".join(f"{name} has {n}" for name, n in lengths.items())
        raise ValueError(f"sizes disagree on the number of dimensions: {shown}")
    return next(iter(lengths.values()), 2)


# A layer's per-dimension fields, in torch's order, with the defaults of ConvTranspose.
LAYER_FIELDS = ("kernel_size", "stride", "padding", "output_padding", "dilation")
SPATIAL_DEFAULTS: dict[str, int | None] = {
    "input_size": None,
    "kernel_size": None,
    "stride": 1,
    "padding": 0,
    "output_padding": 0,
    "dilation": 1,
}


def normalise(fields: Mapping[str, int | Sequence[int]]) -> dict[str, Dims]:
    """Every field as a tuple of the request's dimensionality: the one normalisation of sizes and
    layer fields, for every endpoint (``resolve_ndim``, then ``broadcast``).

    Raises ValueError naming the fields when arrays disagree.

    >>> normalise({"input_size": 7, "kernel_size": [3]})
    {'input_size': (7,), 'kernel_size': (3,)}
    """
    ndim = resolve_ndim(**fields)
    return {name: broadcast(value, ndim, name=name) for name, value in fields.items()}


# The documented range of each spatial field (the wire schema's; tests/api/test_fast_paths.py holds
# the two in agreement).
FIELD_BOUNDS = {
    "input_size": (1, limits.MAX_SIZE),
    "kernel_size": (1, limits.MAX_KERNEL_SIZE),
    "stride": (1, limits.MAX_STRIDE),
    "padding": (0, limits.MAX_PADDING),
    "output_padding": (0, limits.MAX_OUTPUT_PADDING),
    "dilation": (1, limits.MAX_DILATION),
}
_NEUTRAL = {"input_size": 1, "kernel_size": 1, "stride": 1, "padding": 0, "output_padding": 0, "dilation": 1}
# JSON Schema counts 452.0 as an integer (issue 14); a double holds every integer up to 2**53.
_EXACT = 2**53
# Past every field's range, yet safe in int64 arithmetic: what an integer past int64 is read as.
_HUGE = 2**62


class Column(NamedTuple):
    """One field of many items, read as numbers.

    ``values`` has shape (n, MAX_SPATIAL_DIMS): a bare int repeated along its row, an array
    padded with the field's neutral value. ``length`` is an array's length (0 for a bare int).
    ``malformed`` marks the values that are not an int, or an array of 1 to MAX_SPATIAL_DIMS
    ints, within the field's range; their rows hold the neutral value.
    """

    values: npt.NDArray[np.int64]
    length: npt.NDArray[np.int64]
    malformed: npt.NDArray[np.bool_]


def whole_number(value: Any) -> int | None:
    """An int, or a whole-number float exact in a double, as an int; None for anything else.

    >>> whole_number(452.0), whole_number(2.5), whole_number(True), whole_number(1e300)
    (452, None, None, None)
    """
    if type(value) is int:
        return value
    if type(value) is float and value.is_integer() and abs(value) <= _EXACT:
        return int(value)
    return None


def _int64(values: list[int]) -> npt.NDArray[np.int64]:
    try:
        return np.array(values, dtype=np.int64)
    except OverflowError:  # only needs to read as out of range
        return np.array([max(-_HUGE, min(_HUGE, value)) for value in values], dtype=np.int64)


def read_column(values: Sequence[Any], *, neutral: int, lo: int, hi: int, arrays: bool = True) -> Column:
    """Many items' values of one field at once: each an int, a whole-number float (read as the
    int), or, where ``arrays``, an array of 1 to MAX_SPATIAL_DIMS of them, within ``lo..hi``.

    A batch carries 10,000 items, so a field is read for all of them at once: a column of bare
    ints by numpy; one with arrays as its JSON text (``_read_text``), which costs a few passes of
    numpy over bytes instead of a dozen passes of Python over 10,000 objects. Values that are
    neither an int nor an array of ints (floats, bools, strings...) are rare and read one by one.

    >>> column = read_column([7, [2, 3.0], "7", [], 0, [4, 5]], neutral=1, lo=1, hi=9)
    >>> column.values.tolist()
    [[7, 7, 7], [2, 3, 1], [1, 1, 1], [1, 1, 1], [1, 1, 1], [4, 5, 1]]
    >>> column.length.tolist(), column.malformed.tolist()
    ([0, 2, 0, 0, 0, 2], [False, False, True, True, True, False])
    """
    count = len(values)
    kinds = set(map(type, values))
    if kinds <= {int}:
        scalars = _int64(list(values))
        out = np.repeat(scalars[:, None], MAX_DIMS, axis=1)
        length = np.zeros(count, dtype=np.int64)
        malformed = (scalars < lo) | (scalars > hi)
    else:
        plain: set[type] = {int, list} if arrays else {int}
        odd = [] if kinds <= plain else _rows_of_other_types(values, plain)
        text = _plain_text(list(values), odd)
        weird: list[int] = []
        if text is None:  # an int past 64 bits: every value read one by one
            odd = list(range(count))
            out = np.full((count, MAX_DIMS), neutral, dtype=np.int64)
            length = np.zeros(count, dtype=np.int64)
        else:
            read = _read_text(text, count, neutral)
            if read is None:  # nested arrays or brackets in strings: every value read one by one
                odd = list(range(count))
                out = np.full((count, MAX_DIMS), neutral, dtype=np.int64)
                length = np.zeros(count, dtype=np.int64)
            else:
                out, length, weird = read
        malformed = np.zeros(count, dtype=np.bool_)
        for n in odd + weird:
            malformed[n] = not _read_value(
                values[n], out[n], length[n : n + 1], arrays=arrays, neutral=neutral
            )
        malformed |= any_dim((out < lo) | (out > hi))
    out[malformed] = neutral
    return Column(values=out, length=length, malformed=malformed)


def any_dim(mask: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
    """Each row's any() of an (n, dims) mask, dims at most MAX_SPATIAL_DIMS: ``mask.any(axis=1)``
    reduces along the short axis and took ten times as long."""
    assert mask.ndim == 2, mask.shape  # a 1-D mask would reduce to a scalar
    rows: npt.NDArray[np.bool_] = functools.reduce(operator.or_, mask.T)
    return rows


def _rows_of_other_types(values: Sequence[Any], plain: set[type]) -> list[int]:
    # map over the set's __contains__ runs no bytecode per value.
    is_plain = np.fromiter(map(plain.__contains__, map(type, values)), dtype=np.bool_, count=len(values))
    rows: list[int] = np.flatnonzero(~is_plain).tolist()
    return rows


def _plain_text(values: list[Any], odd: list[int]) -> bytes | None:
    """The JSON text of ``values`` with the ``odd`` values replaced by 0 (they are read one by one
    instead); None when an int is past 64 bits (orjson refuses it)."""
    for n in odd:
        values[n] = 0
    try:
        return orjson.dumps(values)
    except orjson.JSONEncodeError:
        return None


_POWERS = 10 ** np.arange(19, dtype=np.int64)


def _read_text(
    text: bytes, count: int, neutral: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], list[int]] | None:
    """The numbers of ``count`` values from their compact JSON text (orjson's: no spaces), each an
    int or an array, as ``read_column``'s values and lengths; also the values whose text holds
    anything but ints and arrays of ints (floats, true, null, strings), to be read one by one.
    None when arrays nest or a string holds brackets that split values: then nothing is read.

    The brackets give each byte its depth, a comma at depth 0 ends a value, one at depth 1 an
    array's entry, and digits are summed into numbers by their powers of ten: a few numpy passes
    over the bytes.

    >>> values, length, weird = _read_text(b"[7,[12,-3],[],[1,2.5],[1,2,3,4],9]", 6, 1)
    >>> values[[0, 1, 5]].tolist(), length[[0, 1, 5]].tolist(), weird
    ([[7, 7, 7], [12, -3, 1], [9, 9, 9]], [0, 2, 0], [2, 3, 4])
    """
    body = np.frombuffer(text, dtype=np.uint8)[1:-1]
    depth = np.cumsum((body == ord("[")).view(np.int8) - (body == ord("]")).view(np.int8), dtype=np.int32)
    if len(body) and (depth.max() > 1 or depth.min() < 0):
        return None
    comma = body == ord(",")
    between = comma & (depth == 0)  # the commas between values
    row = np.cumsum(between, dtype=np.int32)
    if count and row[-1] != count - 1:
        return None
    starts = np.concatenate(([0], np.flatnonzero(between) + 1)) if count else np.zeros(0, np.intp)
    digit = (body - np.uint8(ord("0"))) < 10
    before = np.concatenate(([False], digit[:-1]))
    first = np.flatnonzero(digit & ~before)
    last = np.flatnonzero(digit & ~np.concatenate((digit[1:], [False])))
    places = np.flatnonzero(digit)
    digits = last - first + 1
    # Each digit times its power of ten, summed per number; past 18 digits a number only needs to
    # read as out of range.
    power = np.repeat(last, digits) - places
    terms = (body[places] - ord("0")).astype(np.int64) * _POWERS[np.minimum(power, 18)]
    numbers = np.add.reduceat(terms, np.cumsum(digits) - digits) if len(first) else terms
    numbers[digits > 18] = _HUGE
    negative = (first > 0) & (body[np.maximum(first - 1, 0)] == ord("-"))
    numbers = np.where(negative, -numbers, numbers)
    owner = row[first]
    in_array = depth[first] == 1
    inner = np.cumsum(comma & (depth == 1), dtype=np.int32)
    position = inner[first] - inner[starts[owner]]
    length = np.bincount(owner[in_array], minlength=count).astype(np.int64)
    out = np.full((count, MAX_DIMS), neutral, dtype=np.int64)
    # A bare number fills its whole row, as ``broadcast`` repeats it; an entry fills its place.
    flat = out.reshape(-1)
    bare = owner[~in_array] * MAX_DIMS
    for dim in range(MAX_DIMS):
        flat[bare + dim] = numbers[~in_array]
    kept = in_array & (position < MAX_DIMS)
    flat[owner[kept] * MAX_DIMS + position[kept]] = numbers[kept]
    known = digit | comma | (body == ord("-")) | (body == ord("[")) | (body == ord("]"))
    weird = np.zeros(count, dtype=np.bool_)
    weird[row[~known]] = True
    if count:
        weird |= (length == 0) & (body[starts] == ord("["))
    weird |= length > MAX_DIMS
    return out, length, np.flatnonzero(weird).tolist()


def _read_value(
    value: Any, row: npt.NDArray[np.int64], length: npt.NDArray[np.int64], *, arrays: bool, neutral: int
) -> bool:
    """One value that ``_read_text`` could not read, into its ``row`` and ``length``; False when it
    is not an int or an array of 1 to MAX_SPATIAL_DIMS ints."""
    number = whole_number(value)
    if number is not None:
        row[:] = max(-_HUGE, min(_HUGE, number))
        length[0] = 0
        return True
    if not arrays or type(value) is not list or not 1 <= len(value) <= MAX_DIMS:
        return False
    entries = [whole_number(entry) for entry in value]
    if None in entries:
        return False
    row[:] = neutral
    row[: len(entries)] = [max(-_HUGE, min(_HUGE, entry)) for entry in entries if entry is not None]
    length[0] = len(entries)
    return True


def field_values(items: Sequence[Mapping[str, Any]], name: str, default: Any) -> list[Any]:
    """Every item's value of ``name`` (``default`` where absent). The items are dicts (parsed
    JSON objects): ``map`` over ``dict.get`` runs no bytecode per item, unlike a comprehension."""
    return list(map(dict.get, items, repeat(name), repeat(default)))  # type: ignore[arg-type]


def _constant(count: int, value: int) -> Column:
    return Column(
        values=np.full((count, MAX_DIMS), value, dtype=np.int64),
        length=np.zeros(count, dtype=np.int64),
        malformed=np.zeros(count, dtype=np.bool_),
    )


def _as_read(column: Column, n: int) -> int | list[int]:
    """Item ``n``'s value as ``read_column`` read it: an int, or a list of ints."""
    length = int(column.length[n])
    return column.values[n, :length].tolist() if length else int(column.values[n, 0])


class LayerStack(NamedTuple):
    """Many (input size, layer) items as arrays of shape (n, MAX_SPATIAL_DIMS), each row padded past
    its own dimensionality with neutral values (size 1, kernel 1, stride 1, padding
    0, output_padding 0, dilation 1), so one array expression judges them all."""

    ndim: list[int]
    fields: dict[str, npt.NDArray[np.int64]]
    errors: dict[int, str]  # item -> why its fields cannot be normalised (its row is neutral)
    malformed: npt.NDArray[np.bool_]  # items with a value that is not a size (their row is neutral)


def stack_layers(items: Sequence[Mapping[str, Any]], given: Collection[str] | None = None) -> LayerStack:
    """``normalise`` for many items at once, column by column (``read_column``): an item's
    dimensionality is the length of its arrays (2 when it has none), and arrays of different
    lengths are refused with ``resolve_ndim``'s message (tests/unit/solver/test_layer_stack.py
    holds the two equal). A missing input or kernel size, or a value ``read_column`` cannot
    read, marks the item ``malformed``; it gets no ``errors`` entry.

    >>> stack = stack_layers([{"input_size": 7, "kernel_size": 3}, {"input_size": [5], "kernel_size": 2.0}])
    >>> stack.ndim, stack.fields["input_size"].tolist(), stack.fields["kernel_size"].tolist()
    ([2, 1], [[7, 7, 1], [5, 1, 1]], [[3, 3, 1], [2, 1, 1]])
    """
    if given is None:  # the fields any item gives (the caller may know them already)
        given = set().union(*items)
    columns = {
        name: read_column(field_values(items, name, default), neutral=_NEUTRAL[name], lo=lo, hi=hi)
        if name in given or default is None
        else _constant(len(items), default)
        for (name, default), (lo, hi) in zip(SPATIAL_DEFAULTS.items(), FIELD_BOUNDS.values(), strict=True)
    }
    # Reductions across the columns, never along a row's few entries (see ``any_dim``).
    lengths = [column.length for column in columns.values()]
    malformed = functools.reduce(operator.or_, [column.malformed for column in columns.values()])
    ndim = functools.reduce(np.maximum, lengths)
    ndim[ndim == 0] = 2
    differ = [(length != 0) & (length != ndim) for length in lengths]
    refused = functools.reduce(operator.or_, differ) & ~malformed
    errors: dict[int, str] = {}
    for n in np.flatnonzero(refused).tolist():
        try:
            resolve_ndim(**{name: _as_read(column, n) for name, column in columns.items()})
        except ValueError as exc:
            errors[n] = str(exc)
    beyond = np.arange(MAX_DIMS)[None, :] >= ndim[:, None]
    neutralised = beyond | (refused | malformed)[:, None]
    arrays: dict[str, npt.NDArray[np.int64]] = {}
    for name, column in columns.items():
        column.values[neutralised] = _NEUTRAL[name]
        arrays[name] = column.values
    return LayerStack(ndim=ndim.tolist(), fields=arrays, errors=errors, malformed=malformed)
