"""The all-ones experiment made exact: how many (input pixel, kernel tap) pairs reach each output pixel.

Apply a transposed convolution to an all-ones input with all-ones weights and no bias; output
position y then holds the number of pairs (input x, tap t) with ``x·s + t·d = y + p`` (before
cropping, position q = y + p). Per dimension this count is computed arithmetically: tap t
reaches only the residue class ``q ≡ t·d (mod s)``, and within that class it covers a run of
``input_size`` consecutive positions. So each residue class is a sum of intervals, swept in
O(taps log taps), and a dimension costs O(stride + kernel_size·log kernel_size), never
O(output_size). The 2-D and 3-D maps are outer products of the per-dimension counts.

Terms:
- holes: output positions no input reaches (kernel taps that skip residues, e.g.
  kernel_size < stride or gcd(stride, dilation) > 1, or output_padding past the last reach);
- interior: positions every tap reaches from inside the input,
  ``(k−1)·d <= q <= (i−1)·s``; away from the borders the count depends only on ``q mod s``;
- checkerboard: the interior count is not constant (Odena et al., 2016, "Deconvolution and
  Checkerboard Artifacts"). Along any line of the n-D map the counts are one dimension's counts
  scaled, so an n-D layer has a checkerboard when any of its dimensions has one.
"""

from __future__ import annotations

import functools
import math
from collections import defaultdict
from collections.abc import Sequence
from typing import NamedTuple

from service.solver.enumeration import DimParams


class DimOverlap(NamedTuple):
    """One dimension's overlap counts over the output (after padding and output_padding)."""

    output_size: int
    min_count: int
    max_count: int
    holes: int
    interior_start: int
    interior_stop: int
    interior_counts: tuple[int, ...]

    @property
    def has_interior(self) -> bool:
        return self.interior_stop > self.interior_start

    @property
    def is_checkerboard(self) -> bool:
        return len(self.interior_counts) > 1

    @property
    def has_holes(self) -> bool:
        return self.holes > 0


def _stable_input_size(k: int, s: int, d: int, p: int, op: int) -> int:
    """The input size from which the output window's interior holds at least one whole period.

    From there on, one more input pixel inserts exactly one period (s positions) into the
    interior and changes nothing else, so statistics at larger sizes follow from this one.
    """
    reach = d * (k - 1)
    needed = max(p, reach) + s - 1  # the interior must reach this position ...
    # ... both before the right border ((i−1)·s) and before the window's end ((i−1)·s + reach − p + op).
    return 1 + max(0, -(-needed // s), -(-(needed - reach + p - op) // s))


def overlap_work(kernel_size: int, stride: int) -> int:
    """What one uncached ``dim_overlap`` costs, in units of about 1–2 µs here: the sweep visits each
    tap and each residue of the stride (kernel 4, stride 2: ~24 µs; stride 1024: ~3.5 ms). Budgets
    weigh layers by it. Additive in its two arguments (callers sum it in closed form).

    >>> overlap_work(4, 2), overlap_work(4, 0) + overlap_work(0, 2) - overlap_work(0, 0)
    (20, 20)
    """
    return 12 + kernel_size + 2 * stride


def dim_overlap(
    input_size: int, *, kernel_size: int, stride: int, dilation: int, padding: int, output_padding: int
) -> DimOverlap:
    """Exact overlap statistics of one dimension (see the module docstring).

    Computed once per layer for inputs past ``_stable_input_size`` (cached) and extended by whole
    periods: each period adds ``stride`` positions, of which the residues no tap reaches are holes.

    ``kernel 3, stride 2`` gives the classic 1-2-1-2 checkerboard; ``kernel 4, stride 2,
    padding 1`` is even inside and thins to 1 at the borders:

    >>> o = dim_overlap(4, kernel_size=3, stride=2, dilation=1, padding=1, output_padding=1)
    >>> o.min_count, o.max_count, o.holes, o.interior_counts, o.is_checkerboard
    (1, 2, 0, (1, 2), True)
    >>> o = dim_overlap(4, kernel_size=4, stride=2, dilation=1, padding=1, output_padding=0)
    >>> o.min_count, o.max_count, o.holes, o.interior_counts, o.is_checkerboard
    (1, 2, 0, (2,), False)
    """
    k, s, d, p, op = kernel_size, stride, dilation, padding, output_padding
    stable = _stable_input_size(k, s, d, p, op)
    if input_size <= stable:
        return _counted(input_size, k, s, d, p, op)
    base = _counted(stable, k, s, d, p, op)
    periods = input_size - stable
    # Taps reach min(k, s / gcd(s, d)) distinct residues; the other residues are interior holes.
    unreached = s - min(k, s // math.gcd(s, d))
    return DimOverlap(
        output_size=base.output_size + periods * s,
        min_count=base.min_count,
        max_count=base.max_count,
        holes=base.holes + periods * unreached,
        interior_start=base.interior_start,
        interior_stop=base.interior_stop + periods * s,
        interior_counts=base.interior_counts,
    )


@functools.lru_cache(maxsize=1 << 16)
def _counted(input_size: int, k: int, s: int, d: int, p: int, output_padding: int) -> DimOverlap:
    """The residue-class sweep itself (see the module docstring)."""
    full = (input_size - 1) * s + d * (k - 1) + 1
    size = full - 2 * p + output_padding
    first, last = p, p + size - 1  # the output window in uncropped coordinates
    offsets_by_residue: defaultdict[int, list[int]] = defaultdict(list)
    for t in range(k):
        offsets_by_residue[t * d % s].append(t * d)

    low, high, holes = math.inf, 0, 0
    for residue in range(s):
        # Positions q = residue + s·j of the window; tap offset o covers j in [(o − residue)/s, + i).
        j_first = -((residue - first) // s)
        j_last = (last - residue) // s
        if j_first > j_last:
            continue
        deltas: defaultdict[int, int] = defaultdict(int)
        for offset in offsets_by_residue.get(residue, ()):
            start = (offset - residue) // s
            deltas[start] += 1
            deltas[start + input_size] -= 1
        count = sum(1 for o in offsets_by_residue.get(residue, ()) if (o - residue) // s <= j_first)
        count -= sum(
            1 for o in offsets_by_residue.get(residue, ()) if (o - residue) // s + input_size <= j_first
        )
        position = j_first
        for point in sorted(j for j in deltas if j_first < j <= j_last):
            low, high = min(low, count), max(high, count)
            if count == 0:
                holes += point - position
            count += deltas[point]
            position = point
        low, high = min(low, count), max(high, count)
        if count == 0:
            holes += j_last + 1 - position

    interior_first = max(first, d * (k - 1))
    interior_last = min(last, (input_size - 1) * s)
    if interior_first > interior_last:
        counts: tuple[int, ...] = ()
    else:
        residues = (
            range(s)
            if interior_last - interior_first + 1 >= s
            else {q % s for q in range(interior_first, interior_last + 1)}
        )
        counts = tuple(sorted({len(offsets_by_residue.get(r, ())) for r in residues}))
    return DimOverlap(
        output_size=size,
        min_count=0 if low == math.inf else int(low),  # an empty window (padding past the output)
        max_count=high,
        holes=holes,
        interior_start=interior_first - p,
        interior_stop=max(interior_first, interior_last + 1) - p,
        interior_counts=counts,
    )


class PeriodicPattern(NamedTuple):
    """What a long input shows away from the borders: the overlap count of each residue class
    ``q mod stride`` (tap t reaches class ``t·dilation mod stride``). It depends on kernel_size,
    stride and dilation only, so it is the layer's own property, whatever the input size."""

    counts: tuple[int, ...]

    @property
    def has_holes(self) -> bool:
        return 0 in self.counts

    @property
    def is_checkerboard(self) -> bool:
        return len(set(self.counts)) > 1


@functools.lru_cache(maxsize=1 << 14)
def periodic_pattern(kernel_size: int, stride: int, dilation: int) -> PeriodicPattern:
    """The layer's periodic overlap pattern (see ``PeriodicPattern``).

    >>> periodic_pattern(3, 2, 1).counts, periodic_pattern(4, 2, 1).counts, periodic_pattern(1, 2, 1).counts
    ((2, 1), (2, 2), (1, 0))
    """
    counts = [0] * stride
    for tap in range(kernel_size):
        counts[tap * dilation % stride] += 1
    return PeriodicPattern(tuple(counts))


class Overlap(NamedTuple):
    """The n-D overlap map's statistics, from its per-dimension factors (see ``combine``)."""

    dims: tuple[DimOverlap, ...]
    min_count: int
    max_count: int
    holes: int
    is_checkerboard: bool
    uniform_interior: bool | None


def combine(dims: Sequence[DimOverlap]) -> Overlap:
    """The n-D map is the outer product of the per-dimension counts: its counts multiply, a
    position is a hole where any dimension has one, it is a checkerboard where any dimension is,
    and its interior is uniform when the products of the interior counts are one value (None when
    some dimension has no interior). One pass: this runs for every answer of a batch.
    """
    low = high = size = reached = 1
    counts = {1}
    checkerboard, has_interior = False, True
    for dim in dims:
        low *= dim.min_count
        high *= dim.max_count
        size *= dim.output_size
        reached *= dim.output_size - dim.holes
        checkerboard = checkerboard or len(dim.interior_counts) > 1
        has_interior = has_interior and dim.interior_stop > dim.interior_start
        counts = {v * c for v in counts for c in dim.interior_counts}
    return Overlap(
        tuple(dims), low, high, size - reached, checkerboard, len(counts) == 1 if has_interior else None
    )


def layer_overlap(
    input_size: Sequence[int],
    *,
    kernel_size: Sequence[int],
    stride: Sequence[int],
    dilation: Sequence[int],
    padding: Sequence[int],
    output_padding: Sequence[int],
) -> Overlap:
    """Overlap statistics of an n-D layer, dimension by dimension.

    >>> o = layer_overlap((7, 7), kernel_size=(3, 3), stride=(2, 2), dilation=(1, 1),
    ...                   padding=(1, 1), output_padding=(1, 1))
    >>> o.min_count, o.max_count, o.holes, o.is_checkerboard, o.uniform_interior
    (1, 4, 0, True, False)
    """
    return combine(
        tuple(
            dim_overlap(i, kernel_size=k, stride=s, dilation=d, padding=p, output_padding=op)
            for i, k, s, d, p, op in zip(
                input_size, kernel_size, stride, dilation, padding, output_padding, strict=True
            )
        )
    )


def overlap_of_layer(input_size: Sequence[int], layer: Sequence[DimParams]) -> Overlap:
    """``layer_overlap`` for a layer given as one DimParams per dimension."""
    return layer_overlap(
        input_size,
        kernel_size=[p.kernel_size for p in layer],
        stride=[p.stride for p in layer],
        dilation=[p.dilation for p in layer],
        padding=[p.padding for p in layer],
        output_padding=[p.output_padding for p in layer],
    )
