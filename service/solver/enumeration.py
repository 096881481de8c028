"""Closed-form inverse of the forward size: every (k, s, d, p, op) per dimension that gives the target.

For an input length i and target length o, the forward formula rearranges to

    2·p − op = (i − 1)·s + d·(k − 1) + 1 − o  =: base

so for each (kernel k, stride s, dilation d) the legal ``0 <= op < max(s, d)`` pins
p to the integer interval ``[ceil(base / 2), floor((base + max(s, d) − 1) / 2)]`` and op to
``2·p − base``: no loop over padding or output_padding, no trial instantiation.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from service.solver.cancel import checkpoint
from service.solver.errors import SolverError
from service.solver.memo import Memo
from service.solver.params import DimParams as DimParams  # re-exported: its home before params.py
from service.solver.portability import option_filter
from service.solver.sizes import Dims


@dataclass(frozen=True, slots=True)
class Bound:
    """An inclusive integer interval ``lo..hi``, optionally restricted to explicit ``values``.

    >>> list(Bound(1, 3))
    [1, 2, 3]
    >>> Bound.of_values([4, 2, 2]).values
    (2, 4)
    """

    lo: int
    hi: int
    values: tuple[int, ...] | None = None

    @classmethod
    def of_values(cls, values: Sequence[int]) -> Bound:
        ordered = tuple(sorted(set(values)))
        return cls(ordered[0], ordered[-1], ordered)

    def __iter__(self) -> Iterator[int]:
        return iter(self.values) if self.values is not None else iter(range(self.lo, self.hi + 1))

    def __len__(self) -> int:
        return len(self.values) if self.values is not None else max(0, self.hi - self.lo + 1)

    def within(self, lo: int, hi: int) -> Sequence[int]:
        """Members in ``lo..hi``, in ascending order, without walking the whole bound."""
        lo, hi = max(lo, self.lo), min(hi, self.hi)
        if lo > hi:
            return ()
        if self.values is None:
            return range(lo, hi + 1)
        return self.values[bisect.bisect_left(self.values, lo) : bisect.bisect_right(self.values, hi)]

    def __contains__(self, value: object) -> bool:
        if not isinstance(value, int) or not self.lo <= value <= self.hi:
            return False
        return self.values is None or bool(self.within(value, value))


def _ceil_half(n: int) -> int:
    return -((-n) // 2)


def solve_dim(
    input_size: int,
    output_size: int,
    *,
    kernel_size: int,
    stride: int,
    dilation: int,
    padding: Bound | None = None,
    output_padding: Bound | None = None,
) -> Sequence[int]:
    """Every padding that, with its forced output_padding, maps ``input_size`` to ``output_size``.

    ``padding`` None means the contract's default ``0..dilation·(kernel_size−1)``;
    ``output_padding`` None means the whole legal range ``0..max(stride, dilation)−1``.
    The output_padding of padding p is ``2·p − base`` (see the module docstring).

    >>> list(solve_dim(7, 14, kernel_size=4, stride=2, dilation=1))
    [1]
    >>> list(solve_dim(7, 14, kernel_size=3, stride=2, dilation=1))  # p=1, op=1
    [1]
    """
    base = (input_size - 1) * stride + dilation * (kernel_size - 1) + 1 - output_size
    op_lo, op_hi = 0, max(stride, dilation) - 1
    if output_padding is not None:
        op_lo, op_hi = max(op_lo, output_padding.lo), min(op_hi, output_padding.hi)
    p_lo = max(_ceil_half(base + op_lo), 0)
    p_hi = (base + op_hi) // 2
    if padding is None:  # the default 0..d·(k−1), without building a Bound (this runs per triple)
        paddings: Sequence[int] = range(p_lo, min(p_hi, dilation * (kernel_size - 1)) + 1)
    else:
        paddings = padding.within(p_lo, p_hi)
    if output_padding is None or output_padding.values is None or not paddings:
        return paddings
    allowed = output_padding.values
    if len(allowed) < len(paddings):
        # Few explicit output_padding values: each gives at most one padding.
        members = {(base + v) // 2 for v in allowed if (base + v) % 2 == 0}
        return [p for p in sorted(members) if p in paddings]
    wanted = set(allowed)
    return [p for p in paddings if 2 * p - base in wanted]


def _bound_key(bound: Bound | None) -> tuple[int, int, tuple[int, ...] | None] | None:
    return None if bound is None else (bound.lo, bound.hi, bound.values)


@dataclass(frozen=True, slots=True, eq=False)
class SearchBounds:
    """The search space's bounds; ``None`` for padding/output_padding means the contract's default.

    Compared and hashed by ``_key``, a tuple of plain values built once: the solver's memos look
    bounds up several times per search.
    """

    kernel_size: Bound = field(default_factory=lambda: Bound(1, 8))
    stride: Bound = field(default_factory=lambda: Bound(1, 8))
    dilation: Bound = field(default_factory=lambda: Bound(1, 1))
    padding: Bound | None = None
    output_padding: Bound | None = None
    # Keep only layers that export exactly to these targets (solver.portability).
    portable_to: tuple[str, ...] = ()
    _key: tuple[object, ...] = field(init=False, repr=False, default=())
    _hash: int = field(init=False, repr=False, default=0)
    # Counted once: every search checks it against its budget, a batch once per item.
    triple_count: int = field(init=False, repr=False, default=0, compare=False)

    def __post_init__(self) -> None:
        key = (
            *map(
                _bound_key, (self.kernel_size, self.stride, self.dilation, self.padding, self.output_padding)
            ),
            self.portable_to,
        )
        object.__setattr__(self, "_key", key)
        object.__setattr__(self, "_hash", hash(key))
        object.__setattr__(
            self, "triple_count", len(self.kernel_size) * len(self.stride) * len(self.dilation)
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SearchBounds):
            return NotImplemented
        return self._key == other._key

    def __hash__(self) -> int:
        return self._hash

    def triples(self) -> Iterator[tuple[int, int, int]]:
        for k in self.kernel_size:
            for s in self.stride:
                for d in self.dilation:
                    yield k, s, d


@dataclass(frozen=True, slots=True)
class SearchSpace:
    """Every valid layer for one search, per dimension, not yet crossed.

    Tied: ``groups`` holds, per (kernel, stride, dilation) valid in every dimension,
    one tuple of DimParams per dimension. Untied: ``groups`` holds a single entry whose
    per-dimension tuples list every valid DimParams of that dimension.
    """

    input_size: Dims
    output_size: Dims
    tie_dims: bool
    groups: tuple[tuple[tuple[DimParams, ...], ...], ...]
    # Ranking's cost in overlap_work units, as build_space estimates it: a batch sums its items'.
    work: int = 0
    # The exact number of valid layers, counted once without materialising the cross product.
    total: int = field(init=False, default=0)
    # What ranking has worked out about this space, kept with it (a tied square space is kept with
    # its table, and its sizes recur): see ranking._square_layout. Never part of its value.
    ranking_cache: dict[object, object] = field(
        init=False, default_factory=dict, compare=False, hash=False, repr=False
    )

    def __post_init__(self) -> None:
        total = 0
        for per_dim in self.groups:
            count = 1
            for options in per_dim:
                count *= len(options)
            total += count
        object.__setattr__(self, "total", total)


def stride_window(
    input_size: int, output_size: int, *, kernel_size: int, dilation: int, padding_max: int
) -> tuple[int, int] | None:
    """A superset of the strides that can map ``input_size`` to ``output_size`` for (k, d).

    ``base = 2·p − op`` grows by ``input_size − 1`` per unit of stride and must lie in
    ``[−(max(s, d) − 1), 2·padding_max]``; with ``max(s, d) <= s + d − 1`` that bounds s on both
    sides, so a search visits a few strides per (kernel, dilation) instead of all of them.
    None means every stride (``input_size`` 1: the stride does not move the output).

    >>> stride_window(7, 14, kernel_size=4, dilation=1, padding_max=3)
    (2, 2)
    """
    if input_size == 1:
        return None
    reach = dilation * (kernel_size - 1)
    low = -(-(output_size - reach - dilation + 1) // input_size)
    high = (2 * padding_max - reach - 1 + output_size) // (input_size - 1)
    return max(low, 1), high


def triple_budget_error(bounds: SearchBounds, ndim: int, max_triples: int) -> SolverError | None:
    """The ``space_too_large`` error when the bounds exceed the triple budget, else None."""
    triple_count = bounds.triple_count
    work = triple_count * ndim
    if work <= max_triples:
        return None
    return SolverError(
        "space_too_large",
        f"the bounds hold {len(bounds.kernel_size)} kernel_size × {len(bounds.stride)} stride × "
        f"{len(bounds.dilation)} dilation = {triple_count:,} combinations over {ndim} dimensions "
        f"({work:,}); the budget is {max_triples:,}: narrow kernel_size, stride or dilation",
    )


def build_space(
    input_size: Dims,
    output_size: Dims,
    bounds: SearchBounds,
    *,
    tie_dims: bool = True,
    max_triples: int,
    max_options: int,
    max_work: int | None = None,
) -> SearchSpace:
    """Solve every dimension in closed form and group the answers for ranking.

    Raises SolverError ``space_too_large`` (before doing the work) when the bounds
    hold more than ``max_triples`` (kernel, stride, dilation) triples over all dimensions,
    or, after solving, more than ``max_options`` valid per-dimension options, or options whose
    ranking (each one's overlap) would cost more than ``max_work`` (``overlap_work`` units).
    """
    over = triple_budget_error(bounds, len(input_size), max_triples)
    if over is not None:
        raise over
    accept = option_filter(bounds.portable_to, tie_dims=tie_dims)
    if tie_dims and accept is None and is_square(input_size) and is_square(output_size):
        # Tied and square, the common case: the space is the table's own, kept with it. Unfiltered,
        # one pair's table alone over a budget is the space over it: solving stops there instead
        # of listing every option first (issue 14: refuse before the work, not after it).
        one = _solve_pair(input_size[0], output_size[0], bounds, max_options, max_work)
        _check_options(one.options, one.work, max_options, max_work)
        return one.tied(input_size, output_size)
    # Solve each distinct (input, output) pair once.
    pairs = list(dict.fromkeys(zip(input_size, output_size, strict=True)))
    limits = (max_options, max_work) if accept is None else (None, None)
    found = [_solve_pair(*pair, bounds, *limits) for pair in pairs]
    if accept is not None:
        # The rules are per option (or per triple), so filtering options keeps every count exact.
        found = [
            _Solved.of(
                {
                    triple: kept
                    for triple, options in table.items()
                    if (kept := tuple(filter(accept, options)))
                }
            )
            for table, *_ in found
        ]
    solved = {pair: one.table for pair, one in zip(pairs, found, strict=True)}
    work = sum(one.work for one in found)
    _check_options(sum(one.options for one in found), work, max_options, max_work)
    per_pair = [solved[pair] for pair in zip(input_size, output_size, strict=True)]
    if not tie_dims:
        per_dim = [
            tuple(option for triple in sorted(table) for option in table[triple]) for table in per_pair
        ]
        if "keras" in bounds.portable_to:
            return SearchSpace(input_size, output_size, tie_dims, _stride_or_dilation_groups(per_dim), work)
        groups = [tuple(per_dim)] if all(per_dim) else []
        return SearchSpace(input_size, output_size, tie_dims, tuple(groups), work)
    shared = set(per_pair[0]).intersection(*per_pair[1:])
    tied = tuple(tuple(table[triple] for table in per_pair) for triple in sorted(shared))
    return SearchSpace(input_size, output_size, tie_dims, tied, work)


def is_square(size: Dims) -> bool:
    """Every dimension the same (most requests): such a pair of sizes is one table's."""
    return size.count(size[0]) == len(size)


def _check_options(
    option_count: int, work: int, max_options: int | None, max_work: int | None, *, so_far: bool = False
) -> None:
    """The option and ranking-work budgets, the one rule for a whole space and for a table being
    listed (``so_far``: listing stops at the first option past a budget, so the counts are only
    lower bounds and the message says "more than")."""
    if max_options is not None and option_count > max_options:
        if so_far:
            counted = f"more than {max_options:,} valid per-dimension options (the budget)"
        else:
            counted = f"{option_count:,} valid per-dimension options exceed the budget of {max_options:,}"
        raise SolverError(
            "space_too_large", f"{counted}; narrow kernel_size, stride, dilation, padding or output_padding"
        )
    if max_work is not None and work > max_work:
        if so_far:
            cost = f"ranking these options would take more than the budget of {max_work:,} units of work"
        else:
            cost = f"ranking these {option_count:,} options would take {work:,} units of work"
        budget = ":" if so_far else f"; the budget is {max_work:,}:"
        raise SolverError(
            "space_too_large",
            f"{cost} (large strides and kernels cost more){budget} narrow stride or kernel_size",
        )


Table = dict[tuple[int, int, int], tuple[DimParams, ...]]


def _ranking_work(kernel_size: int, stride: int, options: int) -> int:
    """What ranking ``options`` layers of one (kernel, stride) costs (``overlap_work`` units)."""
    from service.solver.overlap import overlap_work  # overlap.py imports this module

    return options * overlap_work(kernel_size, stride)


class _Solved(NamedTuple):
    """A table with its option count and its ranking work (``overlap_work`` units), counted once,
    and its tied square spaces per dimensionality, built once when first asked for."""

    table: Table
    options: int
    work: int
    square: dict[int, SearchSpace]

    @classmethod
    def of(cls, table: Table) -> _Solved:
        return cls(
            table,
            sum(map(len, table.values())),
            sum(_ranking_work(k, s, len(options)) for (k, s, _), options in table.items()),
            {},
        )

    def tied(self, input_size: Dims, output_size: Dims) -> SearchSpace:
        """The tied space of square sizes whose every dimension is this table's pair, kept (the same
        sizes recur across requests, and a nearest size serves many): its value never changes, only
        what ranking keeps with it (``ranking_cache``)."""
        ndim = len(input_size)
        space = self.square.get(ndim)
        if space is None:
            groups = tuple((self.table[triple],) * ndim for triple in sorted(self.table))
            space = self.square[ndim] = SearchSpace(input_size, output_size, True, groups, self.work)
        return space


# Tables are pure functions of (input, output, bounds) and small ones recur (an input size meets
# many outputs, a nearest size many requests): kept, up to 64 options each. Callers never mutate
# one; ranking adds to a kept square space's ranking_cache, so a table grows with the
# dimensionalities and objectives it serves: ~32 KB for a 50-option table serving all 3 and 4
# (~14 KB bare), so at most ~260 MB in all, within the API container's 512 MiB limit (a process
# starts near 80 MB); ~27 MB on a realistic mix. 4,096 entries were tried: a mix of varied single
# searches (bench `throughput`) then evicted a 1,000-search batch's tables, doubling its time.
_TABLES: Memo[_Solved] = Memo(max_entries=1 << 13, max_item=64)


def _solve_pair(
    input_size: int,
    output_size: int,
    bounds: SearchBounds,
    max_options: int | None = None,
    max_work: int | None = None,
) -> _Solved:
    """Every (kernel, stride, dilation) that reaches ``output_size``, with its per-dimension options.

    Raises SolverError ``space_too_large`` as soon as the table passes ``max_options`` options or
    ``max_work`` ranking work, before listing the rest.
    """
    key = (input_size, output_size, bounds)
    solved = _TABLES.get(key)
    if solved is None:
        solved = _Solved.of(_solve_pair_uncached(input_size, output_size, bounds, max_options, max_work))
        _TABLES.put(key, solved, solved.options)
    return solved


def _solve_pair_uncached(
    input_size: int, output_size: int, bounds: SearchBounds, max_options: int | None, max_work: int | None
) -> Table:
    table: Table = {}
    options = work = 0
    for k in bounds.kernel_size:
        checkpoint()  # up to the triple budget of closed forms: it stops once the caller has gone
        for d in bounds.dilation:
            padding_max = bounds.padding.hi if bounds.padding is not None else d * (k - 1)
            window = stride_window(
                input_size, output_size, kernel_size=k, dilation=d, padding_max=padding_max
            )
            strides = bounds.stride if window is None else bounds.stride.within(*window)
            reach = d * (k - 1) + 1 - output_size
            for s in strides:
                pads = solve_dim(
                    input_size,
                    output_size,
                    kernel_size=k,
                    stride=s,
                    dilation=d,
                    padding=bounds.padding,
                    output_padding=bounds.output_padding,
                )
                if pads:
                    options += len(pads)
                    work += _ranking_work(k, s, len(pads))
                    _check_options(options, work, max_options, max_work, so_far=True)
                    base = (input_size - 1) * s + reach
                    table[k, s, d] = tuple(DimParams(k, s, d, p, 2 * p - base) for p in pads)
    return table


def _stride_or_dilation_groups(
    per_dim: list[tuple[DimParams, ...]],
) -> tuple[tuple[tuple[DimParams, ...], ...], ...]:
    """Untied layers that Keras accepts (``portability.layer_refusal``: no stride > 1 in any
    dimension together with a dilation > 1 in any), as disjoint products: every dilation 1; or
    every stride 1 with the first dilation > 1 in dimension j (before it dilation 1, after it any).
    """
    undilated = [tuple(p for p in options if p.dilation == 1) for options in per_dim]
    unstrided = [tuple(p for p in options if p.stride == 1) for options in per_dim]
    groups = [tuple(undilated)]
    for j in range(len(per_dim)):
        groups.append(
            (
                *(tuple(p for p in options if p.dilation == 1) for options in unstrided[:j]),
                tuple(p for p in unstrided[j] if p.dilation > 1),
                *unstrided[j + 1 :],
            )
        )
    return tuple(group for group in groups if all(group))
