"""Sizes as tuples, int-to-tuple broadcasting, and the forward size of a transposed convolution."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

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


class LayerStack(NamedTuple):
    """Many (input size, layer) items as arrays of shape (n, MAX_SPATIAL_DIMS), each row padded past
    its own dimensionality with neutral values (size 1, kernel 1, stride 1, padding
    0, output_padding 0, dilation 1), so one array expression judges them all."""

    ndim: list[int]
    fields: dict[str, npt.NDArray[np.int64]]
    errors: dict[int, str]  # item -> why its fields cannot be normalised (its row is neutral)


_NEUTRAL = {"input_size": 1, "kernel_size": 1, "stride": 1, "padding": 0, "output_padding": 0, "dilation": 1}


def stack_layers(items: Sequence[Mapping[str, Any]]) -> LayerStack:
    """``normalise`` for many items at once, column by column: an item's dimensionality is the
    length of its arrays (2 when it has none), and arrays of different lengths are refused with
    ``resolve_ndim``'s message (tests/unit/solver/test_layer_stack.py holds the two equal).

    >>> stack = stack_layers([{"input_size": 7, "kernel_size": 3}, {"input_size": [5], "kernel_size": 2}])
    >>> stack.ndim, stack.fields["input_size"].tolist()
    ([2, 1], [[7, 7, 1], [5, 1, 1]])
    """
    count = len(items)
    columns = {
        name: [item.get(name, default) for item in items] for name, default in SPATIAL_DEFAULTS.items()
    }
    lengths = np.zeros((count, len(columns)), dtype=np.int64)
    for index, column in enumerate(columns.values()):
        if set(map(type, column)) != {int}:
            lengths[:, index] = [0 if type(value) is int else len(value) for value in column]
    ndim = lengths.max(axis=1)
    ndim[ndim == 0] = 2
    refused = ((lengths != 0) & (lengths != ndim[:, None])).any(axis=1)
    beyond = np.arange(MAX_DIMS)[None, :] >= ndim[:, None]
    arrays: dict[str, npt.NDArray[np.int64]] = {}
    for name, column in columns.items():
        neutral = _NEUTRAL[name]
        if set(map(type, column)) <= {int}:  # every value a bare int (or no items at all)
            block = np.repeat(np.array(column, dtype=np.int64).reshape(count, 1), MAX_DIMS, axis=1)
        else:
            pad = [[neutral] * n for n in range(MAX_DIMS + 1)]
            block = np.array(
                [
                    [value] * MAX_DIMS if type(value) is int else [*value, *pad[MAX_DIMS - len(value)]]
                    for value in column
                ],
                dtype=np.int64,
            )
        block[beyond | refused[:, None]] = neutral
        arrays[name] = block
    errors: dict[int, str] = {}
    for n in np.flatnonzero(refused).tolist():
        try:
            resolve_ndim(**{name: column[n] for name, column in columns.items()})
        except ValueError as exc:
            errors[n] = str(exc)
    return LayerStack(ndim=ndim.tolist(), fields=arrays, errors=errors)
