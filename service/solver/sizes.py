"""Sizes as tuples, int-to-tuple broadcasting, and the forward size of a transposed convolution."""

from __future__ import annotations

from collections.abc import Sequence

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
