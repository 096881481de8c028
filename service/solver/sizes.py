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
    ints, within the field's range; their rows hold the neutral value and their length is 0.
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


# From this many values on, a column other than bare ints is read from its JSON text.
BULK_FROM = 32
# What parsed JSON holds; a tuple or an int subclass (not from JSON) is read one by one, as alone.
_JSON_TYPES = {int, float, str, bool, type(None), list, dict}


def read_column(values: Sequence[Any], *, neutral: int, lo: int, hi: int, arrays: bool = True) -> Column:
    """Many items' values of one field at once: each an int, a whole-number float (read as the
    int), or, where ``arrays``, an array of 1 to MAX_SPATIAL_DIMS of them, within ``lo..hi``.

    A batch carries 10,000 items, so a field is read for all of them at once: a column of bare
    ints by numpy; any other column of ``BULK_FROM`` values or more from its JSON text
    (``_read_text``), which costs a few passes of numpy over bytes instead of a dozen passes of
    Python over 10,000 objects. The values that text does not show as an int or an array of ints
    (floats, bools, strings...) are rare and read one by one, as are the few values of a shorter
    column. ``values`` are parsed JSON; a column holding anything else (a tuple, an int subclass)
    is read one by one.

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
        try:
            # A few values (a single request's) are read one by one: the text's numpy passes cost a
            # few microseconds each, whatever the length.
            read = (
                _read_text(orjson.dumps(list(values)), count, neutral, arrays=arrays)
                if count >= BULK_FROM and kinds <= _JSON_TYPES
                else None
            )
        except orjson.JSONEncodeError:  # an int past 64 bits
            read = None
        if read is None:  # every value read one by one (see _read_text for when it reads none)
            out = np.full((count, MAX_DIMS), neutral, dtype=np.int64)
            length = np.zeros(count, dtype=np.int64)
            odd: Sequence[int] = range(count)
        else:
            out, length, odd = read
        malformed = np.zeros(count, dtype=np.bool_)
        for n in odd:
            malformed[n] = not _read_value(
                values[n], out[n], length[n : n + 1], arrays=arrays, neutral=neutral
            )
        malformed |= any_dim((out < lo) | (out > hi))
    out[malformed] = neutral
    length[malformed] = 0
    return Column(values=out, length=length, malformed=malformed)


def any_dim(mask: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
    """Each row's any() of an (n, dims) mask, dims at most MAX_SPATIAL_DIMS: ``mask.any(axis=1)``
    reduces along the short axis and took ten times as long."""
    assert mask.ndim == 2, mask.shape  # a 1-D mask would reduce to a scalar
    rows: npt.NDArray[np.bool_] = functools.reduce(operator.or_, mask.T)
    return rows


def _runs(bounds: npt.NDArray[np.intp], size: int) -> npt.NDArray[np.bool_]:
    """A mask of ``size`` bytes, True in [bounds[0], bounds[1]], [bounds[2], bounds[3]]... (pairs
    of sorted positions, both ends inside, such as a text's quotes; runs never overlap, so a sum
    of int8 steps holds)."""
    steps = np.zeros(size + 1, dtype=np.int8)
    steps[bounds[0::2]] = 1
    steps[bounds[1::2] + 1] = -1
    mask: npt.NDArray[np.bool_] = np.add.accumulate(steps[:-1], dtype=np.int8).view(np.bool_)
    return mask


def _read_text(
    text: bytes, count: int, neutral: int, *, arrays: bool = True
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], list[int]] | None:
    r"""The numbers of ``count`` values from their compact JSON text (orjson's), as
    ``read_column``'s values and lengths, and the values it does not show as an int or an array
    of ints (floats, literals, strings, objects, nested, empty or long arrays; with ``arrays``
    false, any array), to be read one by one. None, and nothing read, should the text not split
    into ``count`` values.

    Strings are blanked first (their escapes paired off as JSON reads them). Each byte's depth
    then comes from the brackets, a comma at depth 0 ends a value, and digit runs are numbers:
    whole-array passes of numpy over bytes, and a few more over the numbers.

    >>> text = orjson.dumps([7, [12, -3], [], [1, 2.5], [1, 2, 3, 4], '[9,\\"]', [[5]], {'a': [1]}, 9])
    >>> values, length, odd = _read_text(text, 9, 1)
    >>> values[[0, 1, 8]].tolist(), length[[0, 1, 8]].tolist(), odd
    ([[7, 7, 7], [12, -3, 1], [9, 9, 9]], [0, 2, 0], [2, 3, 4, 5, 6, 7])
    """
    body = np.frombuffer(text, dtype=np.uint8)[1:-1]
    size = len(body)
    out = np.full((count, MAX_DIMS), neutral, dtype=np.int64)
    if not count:
        return out, np.zeros(0, dtype=np.int64), []
    if b'"' in text:
        if b"\\" in text:
            # Escapes pair off from the left, as JSON reads them: escaped backslashes first, then
            # escaped quotes; every quote left opens or closes a string. The length stays the same.
            text = text.replace(b"\\\\", b"xx").replace(b'\\"', b"xx")
            body = np.frombuffer(text, dtype=np.uint8)[1:-1]
        quotes = np.flatnonzero(body == ord('"'))
        body = np.where(_runs(quotes, size), np.uint8(ord("x")), body)  # 'x' is no number
    opening = (body == ord("[")) | (body == ord("{"))
    closing = (body == ord("]")) | (body == ord("}"))
    # An opening bracket is inside what it opens, a closing one outside what it closes.
    depth = np.cumsum(opening.view(np.int8) - closing.view(np.int8), dtype=np.int16)
    comma = body == ord(",")
    ends = np.flatnonzero(comma & (depth == 0))  # the commas between values
    if len(ends) != count - 1:
        return None
    spans = np.diff(ends, prepend=-1, append=size - 1)
    row = np.repeat(np.arange(count, dtype=np.int32), spans)
    digit = (body - np.uint8(ord("0"))) < 10
    first = np.flatnonzero(digit & ~np.concatenate(([False], digit[:-1])))
    last = np.flatnonzero(digit & ~np.concatenate((digit[1:], [False])))
    digits = last - first + 1
    numbers = (body[first] - np.uint8(ord("0"))).astype(np.int64)
    # Place by place, for the numbers that long; past 18 digits a number only needs to read as out
    # of range.
    for at in range(1, min(int(digits.max(initial=0)), 18)):
        longer = np.flatnonzero(digits > at)
        numbers[longer] = numbers[longer] * 10 + (body[first[longer] + at] - np.uint8(ord("0")))
    numbers[digits > 18] = _HUGE
    negative = (first > 0) & (body[np.maximum(first - 1, 0)] == ord("-"))
    numbers[negative] *= -1
    owner = row[first]
    level = depth[first]
    in_array = level == 1
    # A bare number fills its whole row, as ``broadcast`` repeats it; an entry fills its place.
    bare = level == 0
    out[owner[bare]] = numbers[bare, None]
    entries = owner[in_array]
    length = np.bincount(entries, minlength=count).astype(np.int64)
    # An array's entries come one after another, so an entry's place is how many of the entries
    # just before it share its array: counted up to MAX_DIMS, where places stop being kept.
    place = np.zeros(len(entries), dtype=np.intp)
    for back in range(1, MAX_DIMS + 1):
        place[back:] += entries[back:] == entries[:-back]
    slots, entered = entries * MAX_DIMS + place, numbers[in_array]
    kept = place < MAX_DIMS
    if not kept.all():
        slots, entered = slots[kept], entered[kept]
    out.reshape(-1)[slots] = entered
    known = digit | comma | (body == ord("-")) | (body == ord("[")) | (body == ord("]"))
    odd = np.zeros(count, dtype=np.bool_)
    odd[row[~known]] = True
    odd[row[depth > 1]] = True  # a container in a container
    is_array = np.zeros(count, dtype=np.bool_)
    is_array[row[opening & (depth == 1)]] = True
    odd |= (length == 0) & is_array if arrays else is_array
    odd |= length > MAX_DIMS
    return out, length, np.flatnonzero(odd).tolist()


def _read_value(
    value: Any, row: npt.NDArray[np.int64], length: npt.NDArray[np.int64], *, arrays: bool, neutral: int
) -> bool:
    """One value that ``_read_text`` did not read, into its ``row`` and ``length``; False when it
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
