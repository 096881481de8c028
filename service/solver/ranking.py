"""Named objectives and the ranked list of a search space, paged without sorting the space.

Every objective scores one dimension of a layer with integer terms (lower is better);
a layer's score is the sum over its dimensions (the product, for ``cost``). Integer scores
make ties exact, so the order is a documented total order:

    (score, then the per-dimension parameters (kernel_size, stride, dilation, padding,
    output_padding) compared dimension by dimension, smallest first)

Pages come from score histograms: the histogram of a cross product is the (sum or product)
convolution of its factors' histograms, so the rank of the first layer with score ``T`` is a prefix sum,
and a page at any offset is reached by skipping whole blocks, never by enumerating them.
"""

from __future__ import annotations

import functools
import heapq
import math
import operator
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice, pairwise
from typing import Literal

import numpy as np

from service.solver.cancel import checkpoint
from service.solver.enumeration import DimParams, SearchSpace, is_square
from service.solver.memo import Memo
from service.solver.overlap import DimOverlap, dim_overlap, periodic_pattern

Terms = dict[str, int]
_first, _second = operator.itemgetter(0), operator.itemgetter(1)


@dataclass(frozen=True, slots=True, eq=False)
class Objective:
    """A named ranking: ``dim_terms`` scores one dimension; lower totals rank first.

    ``combine`` says how dimensions combine: ``"sum"`` adds the per-dimension scores,
    ``"product"`` multiplies them (for costs that scale with ∏ kernel_size; every
    per-dimension score of a product objective is then >= 1).

    Hashed and compared by identity (``eq=False``): objectives are constants, and every cached
    score look-up hashes one.
    """

    name: str
    description: str
    dim_terms: Callable[[DimParams, int, int], Terms]
    combine: Literal["sum", "product"] = "sum"

    def dim_score(self, params: DimParams, input_size: int, output_size: int) -> int:
        return sum(self.dim_terms(params, input_size, output_size).values())


def params_overlap(params: DimParams, input_size: int) -> DimOverlap:
    k, s, d, p, op = params
    return dim_overlap(input_size, kernel_size=k, stride=s, dilation=d, padding=p, output_padding=op)


# An artifact outweighs any sum of the mild terms a layer within the limits can reach
# (3 dimensions × at most ~10^8), so a layer with one never ranks above a layer without.
ARTIFACT_WEIGHT = 10**12


def artifacts(params: DimParams, input_size: int) -> tuple[bool, bool]:
    """(holes, checkerboard) as ranking judges them: from the layer's periodic pattern, not the
    request's input, since at a small input there is no interior and an uneven layer would pass for
    a clean one. Over a single pixel there is no period at all, and the output itself is judged
    (output_padding past the kernel's reach leaves holes).

    >>> artifacts(DimParams(7, 2, 1, 2, 1), 4), artifacts(DimParams(1, 4, 1, 0, 3), 1)
    ((False, True), (True, False))
    """
    if input_size == 1:
        overlap = params_overlap(params, 1)
        return overlap.has_holes, overlap.is_checkerboard
    pattern = periodic_pattern(params.kernel_size, params.stride, params.dilation)
    return pattern.has_holes, pattern.is_checkerboard


def _artifact_terms(params: DimParams, input_size: int) -> Terms:
    holes, checkerboard = artifacts(params, input_size)
    return {"holes": ARTIFACT_WEIGHT if holes else 0, "checkerboard": ARTIFACT_WEIGHT if checkerboard else 0}


# Over an input of size 1 the stride moves nothing (one pixel, one placement of the kernel): it
# only widens the legal output_padding. Such a dimension is scored as its stride-1 form, plus a flag
# above every sum of mild terms and below an artifact, so stride-1 forms rank first (DCGAN's
# 1 -> 4 is kernel 4, stride 1) and a redundant stride never outranks an artifact.
UNUSED_STRIDE_WEIGHT = 10**9


def _single_pixel(terms: Callable[[DimParams, int, int], Terms]) -> Callable[[DimParams, int, int], Terms]:
    """``terms`` with the single-pixel rule above (every dimension names the same terms)."""

    def scored(params: DimParams, input_size: int, output_size: int) -> Terms:
        if input_size != 1 or params.stride == 1:
            return {**terms(params, input_size, output_size), "unused_stride": 0}
        stride_one = params._replace(stride=1)
        return {**terms(stride_one, input_size, output_size), "unused_stride": UNUSED_STRIDE_WEIGHT}

    return scored


def _misalignment(params: DimParams) -> int:
    """Half-pixels between the kernel's centre and the input pixel's centre after cropping."""
    k, s, d, p, _ = params
    return abs(d * (k - 1) + 1 - s - 2 * p)


def _balanced_terms(params: DimParams, input_size: int, output_size: int) -> Terms:
    k, _, d, _, op = params
    return {
        **_artifact_terms(params, input_size),
        "output_padding": 10 * op,
        "misalignment": 10 * _misalignment(params),
        "kernel_size": 2 * k,
        "dilation": 40 * (d - 1),
    }


def _quality_terms(params: DimParams, input_size: int, output_size: int) -> Terms:
    overlap = params_overlap(params, input_size)
    k, _, d, _, op = params
    return {
        **_artifact_terms(params, input_size),
        # Border fall-off: how far the count drops from its peak, relative to the peak.
        "overlap_spread": 1000 * (overlap.max_count - overlap.min_count) // max(overlap.max_count, 1),
        "misalignment": 10 * _misalignment(params),
        "output_padding": 10 * op,
        "kernel_size": k,
        "dilation": 40 * (d - 1),
    }


def _cost_terms(params: DimParams, input_size: int, output_size: int) -> Terms:
    # MACs and parameters are both (channel factor) × ∏ kernel_size for a fixed input.
    return {"kernel_taps": params.kernel_size}


def _conventional_terms(params: DimParams, input_size: int, output_size: int) -> Terms:
    k, s, d, p, op = params
    return {
        "kernel_not_stride_multiple": 0 if k in (s, 2 * s) else 100 * min(abs(k - s), abs(k - 2 * s)),
        "padding_off_convention": 10 * abs(2 * p - (k - s)),
        "output_padding": 10 * op,
        "dilation": 100 * (d - 1),
    }


OBJECTIVES: dict[str, Objective] = {
    objective.name: objective
    for objective in (
        Objective(
            name="balanced",
            description=(
                "Default. No layer with holes (output pixels no input reaches) or a checkerboard "
                "(uneven overlap) in its periodic pattern, what a long input shows, ranks above one "
                "without; then output_padding 0, centred cropping, a small kernel, dilation 1. Over "
                "a 1-pixel input the stride-1 form of a layer ranks first."
            ),
            dim_terms=_single_pixel(_balanced_terms),
        ),
        Objective(
            name="quality",
            description=(
                "Overlap uniformity first: no holes, no checkerboard (in the periodic pattern), then "
                "the smallest fall-off of "
                "the overlap count at the borders ((max − min) / max), then centred cropping, "
                "output_padding 0, a small kernel, dilation 1."
            ),
            dim_terms=_single_pixel(_quality_terms),
        ),
        Objective(
            name="cost",
            description=(
                "Fewest multiply-accumulates, then fewest parameters: for a fixed input and channel "
                "context both are proportional to ∏ kernel_size, which is the score."
            ),
            dim_terms=_cost_terms,
            combine="product",
        ),
        Objective(
            name="conventional",
            description=(
                "Closest to the layers people use: kernel_size = stride or 2·stride, "
                "padding = (kernel_size − stride) / 2, output_padding 0, dilation 1."
            ),
            dim_terms=_conventional_terms,
        ),
    )
}

Layer = tuple[DimParams, ...]
Histogram = dict[int, int]


@dataclass(frozen=True, slots=True)
class _Combine:
    """How per-dimension scores make a layer's score: a sum, or a product of positive scores."""

    is_product: bool

    def join(self, a: int, b: int) -> int:
        return a * b if self.is_product else a + b

    def rest(self, score: int, head: int) -> int | None:
        """The score the remaining dimensions need so that ``join(head, rest) == score``."""
        if not self.is_product:
            return score - head
        return score // head if score % head == 0 else None

    def convolve(self, a: Histogram, b: Histogram, cap: int) -> Histogram:
        """The histogram of ``join(x, y)`` over both factors, exact for every key <= ``cap``.

        Scores are >= 0 (sum) or >= 1 (product), so a pair beyond ``cap`` only grows with the
        second key: the inner loop stops there. The hot loop of large spaces, so one specialised
        loop per operation and no call per pair.
        """
        out: defaultdict[int, int] = defaultdict(int)
        pairs = sorted(b.items())
        if self.is_product:
            for n, (key_a, count_a) in enumerate(a.items()):
                if not n & 63:  # a huge space's histogram is a long loop: it stops once the caller has gone
                    checkpoint()
                for key_b, count_b in pairs:
                    key = key_a * key_b
                    if key > cap:
                        break
                    out[key] += count_a * count_b
        else:
            for n, (key_a, count_a) in enumerate(a.items()):
                if not n & 63:
                    checkpoint()
                for key_b, count_b in pairs:
                    key = key_a + key_b
                    if key > cap:
                        break
                    out[key] += count_a * count_b
        return dict(out)


_SUM, _PRODUCT = _Combine(is_product=False), _Combine(is_product=True)


class _Leaf:
    """One dimension's options, in tie-break order, bucketed by score."""

    __slots__ = ("by_score", "high", "hist", "items", "low")

    def __init__(self, items: Sequence[tuple[int, DimParams]]) -> None:
        self.items = sorted(items, key=lambda item: item[1])
        self.by_score: dict[int, list[DimParams]] = defaultdict(list)
        for score, params in self.items:
            self.by_score[score].append(params)
        self.hist: Histogram = {score: len(group) for score, group in self.by_score.items()}
        self.low, self.high = min(self.hist), max(self.hist)

    def hist_upto(self, cap: int) -> Histogram:
        return self.hist

    def layers_with(self, score: int, skip: int) -> Iterator[Layer]:
        for params in self.by_score.get(score, ())[skip:]:
            yield (params,)


class _Product:
    """Cross product of per-dimension leaves, ordered dimension by dimension.

    Its histogram is built only up to the score a page needs (``hist_upto``): the first page of
    a space of millions convolves a few buckets, not every score.
    """

    __slots__ = ("_hists", "cap", "combine", "first", "high", "low", "rest")

    def __init__(self, leaves: Sequence[_Leaf], combine: _Combine) -> None:
        self.combine = combine
        self.first = leaves[0]
        self.rest: _Leaf | _Product | None = None
        self.low, self.high = self.first.low, self.first.high
        if len(leaves) > 1:
            self.rest = leaves[1] if len(leaves) == 2 else _Product(leaves[1:], combine)
            self.low = combine.join(self.low, self.rest.low)
            self.high = combine.join(self.high, self.rest.high)
        self.cap = self.high
        self._hists: dict[int, Histogram] = {}

    def hist_upto(self, cap: int) -> Histogram:
        """Exact counts of every score <= ``cap`` (and possibly some above)."""
        cap = min(cap, self.high)
        self.cap = cap
        if self.rest is None:
            return self.first.hist
        if cap not in self._hists:
            self._hists[cap] = self.combine.convolve(self.first.hist, self.rest.hist_upto(cap), cap)
        return self._hists[cap]

    def layers_with(self, score: int, skip: int) -> Iterator[Layer]:
        if self.rest is None:
            yield from self.first.layers_with(score, skip)
            return
        rest = self.rest
        rest_hist = rest.hist_upto(self.cap)
        for head_score, head in self.first.items:
            needed = self.combine.rest(score, head_score)
            count = 0 if needed is None else rest_hist.get(needed, 0)
            if needed is None or count <= skip:
                skip -= count
                continue
            for tail in rest.layers_with(needed, skip):
                yield (head, *tail)
            skip = 0


def _edges(node: _Leaf | _Product) -> tuple[Layer, Layer]:
    """A node's first and last layer in tie-break (parameter) order."""
    if isinstance(node, _Leaf):
        return (node.items[0][1],), (node.items[-1][1],)
    first, last = _edges(node.first)
    if node.rest is None:
        return first, last
    rest_first, rest_last = _edges(node.rest)
    return first + rest_first, last + rest_last


class _Union:
    """Disjoint groups (one per tied kernel, stride, dilation), in tie-break order.

    Tied groups cover disjoint runs of that order, one after another, so a score's layers are
    each group's in turn. Groups whose runs interleave (untied spaces with ``portable_to: keras``
    are the union of a stride-only and a dilation-only product) are merged layer by layer, so
    that equal scores come in the same order as a small space's sort gives them; there a page
    deep inside one score walks the layers before it (bounded by the offset cap), where disjoint
    groups skip whole groups by their counts.
    """

    __slots__ = ("_hists", "_interleaved", "cap", "groups", "high", "low")

    def __init__(self, groups: Sequence[_Product]) -> None:
        self.groups = groups
        self.low = min(group.low for group in groups)
        self.high = max(group.high for group in groups)
        self.cap = self.high
        self._hists: dict[int, Histogram] = {}
        edges = [_edges(group) for group in groups]
        self._interleaved = any(after[0] < before[1] for before, after in pairwise(edges))

    def hist_upto(self, cap: int) -> Histogram:
        cap = min(cap, self.high)
        self.cap = cap
        if cap not in self._hists:
            hist: defaultdict[int, int] = defaultdict(int)
            for group in self.groups:
                for score, count in group.hist_upto(cap).items():
                    hist[score] += count
            self._hists[cap] = dict(hist)
        return self._hists[cap]

    def layers_with(self, score: int, skip: int) -> Iterator[Layer]:
        if self._interleaved:
            streams = [
                group.layers_with(score, 0)
                for group in self.groups
                if group.hist_upto(self.cap).get(score, 0)
            ]
            yield from islice(heapq.merge(*streams), skip, None)
            return
        for group in self.groups:
            count = group.hist_upto(self.cap).get(score, 0)
            if count <= skip:
                skip -= count
                continue
            yield from group.layers_with(score, skip)
            skip = 0


class RankedCandidate:
    """One ranked layer. Its named ``terms`` are worked out when first read: a machine's basic
    answer reads rank, score and layer only."""

    __slots__ = ("_ranked", "_terms", "layer", "rank", "score")

    def __init__(self, rank: int, score: int, layer: Layer, ranked: RankedSpace) -> None:
        self.rank, self.score, self.layer = rank, score, layer
        self._ranked: RankedSpace | None = ranked
        self._terms: Terms | None = None

    @property
    def terms(self) -> Terms:
        if self._terms is None:
            assert self._ranked is not None
            self._terms, self._ranked = self._ranked.terms(self.layer), None
        return self._terms

    def __repr__(self) -> str:
        return f"RankedCandidate(rank={self.rank}, score={self.score}, layer={self.layer!r})"


class _Sorted:
    """One small space's layers in objective order, as rows of arrays (see ``_sort_small``):
    layer ``n`` is ``options[picks[j][n]]`` in each dimension ``j``, with score ``scores[n]``."""

    __slots__ = ("options", "picks", "scores")

    def __init__(self, scores: np.ndarray, picks: list[np.ndarray], options: list[DimParams]) -> None:
        self.scores, self.picks, self.options = scores, picks, options

    def slice(self, start: int, stop: int) -> list[tuple[int, Layer]]:
        options = self.options
        columns = [[options[n] for n in picks[start:stop].tolist()] for picks in self.picks]
        return list(zip(self.scores[start:stop].tolist(), zip(*columns, strict=True), strict=True))


_NOTHING = _Sorted(np.zeros(0, dtype=np.int64), [], [])


class RankedSpace:
    """A search space in objective order; ``page`` costs O(limit + groups), not O(space)."""

    def __init__(
        self,
        space: SearchSpace,
        objective: Objective,
        *,
        sort_below: int = 256,
        _sorted: _Sorted | None = None,
    ) -> None:
        self.space = space
        self.objective = objective
        self.total = space.total
        self._combine = _PRODUCT if objective.combine == "product" else _SUM
        self._sorted: _Sorted | None = None
        self._root: _Union | _Product | None = None
        if not self.total:
            self._sorted = _NOTHING
            return
        if _sorts(space, sort_below):
            # Small spaces (the common case) are cheaper to sort than to bucket.
            self._sorted = _sorted if _sorted is not None else _sort_small([space], objective)[0]
            return
        sizes = list(zip(space.input_size, space.output_size, strict=True))
        products = []
        for per_dim in space.groups:
            checkpoint()  # scoring a large space's options: up to the option budget of them
            leaves = [
                _Leaf([(_shared_dim_score(objective, p, i, o), p) for p in options])
                for options, (i, o) in zip(per_dim, sizes, strict=True)
            ]
            products.append(_Product(leaves, self._combine))
        self._root = products[0] if len(products) == 1 else _Union(products)

    def page(self, *, offset: int = 0, limit: int = 10) -> list[RankedCandidate]:
        if self._sorted is not None:
            stop = min(offset + limit, self.total)
            if offset >= stop:
                return []
            return [
                RankedCandidate(offset + n + 1, score, layer, self)
                for n, (score, layer) in enumerate(self._sorted.slice(offset, stop))
            ]
        if self._root is None or limit <= 0:
            return []
        root = self._root
        hist = self._hist_for(root, offset + limit)
        found: list[RankedCandidate] = []
        rank = 0
        for score in sorted(hist):
            if score > root.cap:
                break  # beyond the cap the counts are not complete; the page is full before it
            count = hist[score]
            if rank + count <= offset:
                rank += count
                continue
            skip = max(0, offset - rank)
            for layer in islice(root.layers_with(score, skip), limit - len(found)):
                found.append(RankedCandidate(rank + skip + 1, score, layer, self))
                skip += 1
            if len(found) == limit:
                break
            rank += count
        return found

    def _hist_for(self, root: _Union | _Product, needed: int) -> Histogram:
        """The root histogram up to a score cap that holds at least ``needed`` layers.

        The cap grows geometrically from the best score, so the first pages of a huge space build
        small histograms and a deep page builds the whole one.
        """
        step = 64 if not self._combine.is_product else max(root.low, 1)
        cap = root.low + step
        while True:
            hist = root.hist_upto(cap)
            if cap >= root.high or sum(c for key, c in hist.items() if key <= cap) >= needed:
                return hist
            step *= 8
            cap = root.low + step

    def terms(self, layer: Layer) -> Terms:
        """The objective's named terms of one layer, combined over its dimensions (an objective
        names the same terms in every dimension)."""
        per_dim = [
            _shared_dim_terms(self.objective, params, i, o)
            for params, i, o in zip(layer, self.space.input_size, self.space.output_size, strict=True)
        ]
        reduce = math.prod if self._combine.is_product else sum
        return {name: reduce([terms[name] for terms in per_dim]) for name in per_dim[0]}


@functools.lru_cache(maxsize=1 << 17)
def _shared_dim_terms(objective: Objective, params: DimParams, input_size: int, output_size: int) -> Terms:
    """An objective's terms for one dimension: a pure function, so shared across requests (the
    same layer options recur across sizes and queries). Callers never mutate the result."""
    return objective.dim_terms(params, input_size, output_size)


@functools.lru_cache(maxsize=1 << 17)
def _shared_dim_score(objective: Objective, params: DimParams, input_size: int, output_size: int) -> int:
    """The sum of ``_shared_dim_terms``: one cache look-up per option of every ranked space."""
    return sum(_shared_dim_terms(objective, params, input_size, output_size).values())


# Bucketing costs per group (each is a product with its own histograms): a tied space of many
# small groups (1-pixel inputs, where every stride is a group) sorts 20 times faster. Bounded, so a
# sorted space holds at most 16·sort_below layers.
_SORTED_GROUPS = 16


def _sorts(space: SearchSpace, sort_below: int) -> bool:
    """Whether ``space`` is sorted outright: up to ``sort_below`` layers per group (of at most 16)."""
    return space.total <= sort_below * min(len(space.groups), _SORTED_GROUPS)


def rank_space(
    space: SearchSpace, objective: str | Objective = "balanced", *, sort_below: int = 256
) -> RankedSpace:
    """Rank a space; small spaces (``_sorts``) are sorted outright."""
    return rank_spaces([space], objective, sort_below=sort_below)[0]


def rank_spaces(
    spaces: Sequence[SearchSpace], objective: str | Objective = "balanced", *, sort_below: int = 256
) -> list[RankedSpace]:
    """Rank many spaces (a search batch's): the small ones are sorted together, by one lexsort."""
    chosen = OBJECTIVES[objective] if isinstance(objective, str) else objective
    small = [space for space in spaces if space.total and _sorts(space, sort_below)]
    presorted = dict(zip(map(id, small), _sort_small(small, chosen), strict=True))
    return [
        RankedSpace(space, chosen, sort_below=sort_below, _sorted=presorted.get(id(space)))
        for space in spaces
    ]


def _sort_small(spaces: Sequence[SearchSpace], objective: Objective) -> list[_Sorted]:
    """Every layer of every space, in objective order per space, crossed and sorted as arrays.

    Each space's options are laid out in one store, group by group, each scored once (cached);
    a layer is a row of indices into it, one per dimension, found by index arithmetic over the
    groups' cross products (no tuple per layer). One lexsort keyed by space, score, then each
    dimension's option in parameter order puts every space in order at once; a page then builds
    only its own layers (``_Sorted.slice``). Spaces of one dimensionality are crossed together.
    """
    by_ndim: defaultdict[int, list[int]] = defaultdict(list)
    for n, space in enumerate(spaces):
        by_ndim[len(space.input_size)].append(n)
    sorted_of: dict[int, _Sorted] = {}
    for ndim, members in by_ndim.items():
        for n, found in zip(
            members, _sort_same_ndim([spaces[n] for n in members], ndim, objective), strict=True
        ):
            sorted_of[n] = found
    return [sorted_of[n] for n in range(len(spaces))]


def _sort_same_ndim(spaces: Sequence[SearchSpace], ndim: int, objective: Objective) -> list[_Sorted]:
    product = objective.combine == "product"
    # Every space's options are laid out in one store, each distinct tuple of a space once (tied
    # square spaces repeat one tuple in every dimension), in the order of the space's groups: so
    # within a space, a dimension's slots are in parameter order (groups come in (kernel, stride,
    # dilation) order, each group's options by padding) and a slot is the option's tie key.
    store: list[DimParams] = []
    store_scores: list[int] = []
    starts: list[list[int]] = [[] for _ in range(ndim)]  # per (cell, dimension): its tuple's slot
    counts: list[list[int]] = [[] for _ in range(ndim)]
    cell_space: list[int] = []
    overlapping: list[tuple[int, int]] = []  # (first slot, end) of spaces whose groups overlap

    for n, space in enumerate(spaces):
        sizes = list(zip(space.input_size, space.output_size, strict=True))
        first = len(store)
        slot: dict[int, int] = {}
        cell_space.extend([n] * len(space.groups))
        if space.tie_dims and is_square(space.input_size) and is_square(space.output_size):
            # Tied and square: every dimension holds the same tuple (build_space), placed once.
            options, scores, offsets, lengths = _square_layout(space, objective)
            base = len(store)
            placed = [base + offset for offset in offsets]
            store.extend(options)
            store_scores.extend(scores)
            for j in range(ndim):
                starts[j].extend(placed)
                counts[j].extend(lengths)
            continue
        for per_dim in space.groups:
            for j, (group, (i, o)) in enumerate(zip(per_dim, sizes, strict=True)):
                start = slot.get(id(group))
                if start is None:
                    start = slot[id(group)] = len(store)
                    store.extend(group)
                    store_scores.extend(_group_scores(objective, group, i, o))
                starts[j].append(start)
                counts[j].append(len(group))
        if not space.tie_dims and len(space.groups) > 1:
            overlapping.append((first, len(store)))
    if not cell_space:
        return [_Sorted(np.zeros(0, np.int64), [np.zeros(0, np.intp)] * ndim, store) for _ in spaces]
    all_scores = np.array(store_scores, dtype=np.int64)
    # A layer is a row: its cell and its index within the cell's cross product, whose mixed-radix
    # digits are its options' indices within their groups, one per dimension. Array methods, not
    # numpy's module functions: a batch of one (a single search) pays their per-call cost only.
    widths = [np.array(count, dtype=np.intp) for count in counts]
    size = widths[0]
    for width in widths[1:]:
        size = size * width
    ends = size.cumsum()
    cell_of = np.arange(len(cell_space)).repeat(size)
    rest = np.arange(int(ends[-1])) - (ends - size).repeat(size)
    held: list[np.ndarray] = [rest] * ndim  # per dimension: the option's slot in the store
    for j in reversed(range(ndim)):
        if j:
            width = widths[j][cell_of]
            within, rest = rest % width, rest // width
        else:
            within = rest
        held[j] = np.array(starts[j], dtype=np.intp)[cell_of] + within
    score = all_scores[held[0]]
    for h in held[1:]:
        score = score * all_scores[h] if product else score + all_scores[h]
    keys = held
    if overlapping:
        ranks = _overlapping_ranks(store, overlapping)
        keys = [ranks[h] for h in held]
    if len(spaces) == 1:
        order = np.lexsort((*reversed(keys), score))
        edges = [0, len(order)]
    else:
        space_of = np.array(cell_space, dtype=np.intp)[cell_of]
        order = np.lexsort((*reversed(keys), score, space_of))
        edges = space_of[order].searchsorted(np.arange(len(spaces) + 1)).tolist()
    score = score[order]
    held = [h[order] for h in held]
    return [_Sorted(score[a:b], [h[a:b] for h in held], store) for a, b in pairwise(edges)]


# One group's scores, kept: a pure function of the objective, the options and the sizes, and the
# same groups recur (tables are memoised per size pair, a nearest size serves many requests). One
# look-up per group instead of one per option.
# Tuples of ints: the collector stops tracking them, so a full memo costs its passes nothing.
# Groups of up to 64 options, 8,192 of them: at most ~20 MB.
_GROUP_SCORES: Memo[tuple[int, ...]] = Memo(max_entries=1 << 13, max_item=64)


def _group_scores(objective: Objective, group: tuple[DimParams, ...], i: int, o: int) -> tuple[int, ...]:
    key = (objective, group, i, o)
    scores = _GROUP_SCORES.get(key)
    if scores is None:
        scores = _GROUP_SCORES.put(
            key, tuple([_shared_dim_score(objective, p, i, o) for p in group]), len(group)
        )
    return scores


_Layout = tuple[tuple[DimParams, ...], tuple[int, ...], tuple[int, ...], tuple[int, ...]]


def _square_layout(space: SearchSpace, objective: Objective) -> _Layout:
    """A tied square space's options (one dimension's: all hold the same), group after group, with
    their scores and each group's offset and length: worked out once per objective and kept with
    the space, so that ranking it again walks none of its groups."""
    layout = space.ranking_cache.get(objective)
    if layout is None:
        i, o = space.input_size[0], space.output_size[0]
        options: list[DimParams] = []
        scores: list[int] = []
        offsets: list[int] = []
        for per_dim in space.groups:
            group = per_dim[0]
            offsets.append(len(options))
            options.extend(group)
            scores.extend(_group_scores(objective, group, i, o))
        lengths = tuple(len(per_dim[0]) for per_dim in space.groups)
        layout = space.ranking_cache[objective] = (tuple(options), tuple(scores), tuple(offsets), lengths)
    return layout  # type: ignore[return-value]


def _overlapping_ranks(store: list[DimParams], overlapping: list[tuple[int, int]]) -> np.ndarray:
    """The tie key of every slot: the slot itself, except in spaces whose groups overlap (untied
    Keras spaces), where an option recurs in several groups and their options are not in parameter
    order; there each slot's key is its option's rank in parameter order within its space."""
    keys = np.arange(len(store))
    for first, end in overlapping:
        mine = store[first:end]
        rank = {p: first + r for r, p in enumerate(sorted(set(mine)))}
        keys[first:end] = [rank[p] for p in mine]
    return keys


# Plans score layers apart from the sizes they meet (see solver.plans): as for a long input, where
# the overlap pattern no longer depends on the borders.
STEADY_INPUT_SIZE = 1 << 12


@functools.lru_cache(maxsize=1 << 16)
def steady_dim_score(objective: str, params: DimParams) -> int:
    """One dimension's score under ``objective`` for a long input (cached: it depends on nothing else).

    >>> steady_dim_score("balanced", DimParams(4, 2, 1, 1, 0))
    8
    """
    return OBJECTIVES[objective].dim_score(params, STEADY_INPUT_SIZE, 0)
