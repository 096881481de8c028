"""Named objectives and the ranked list of a search space, paged without sorting the space.

Every objective scores one dimension of a layer with integer terms (lower is better);
a layer's score is the sum over its dimensions. Integer scores make ties exact, so the
order is a documented total order:

    (score, then the per-dimension parameters (kernel_size, stride, dilation, padding,
    output_padding) compared dimension by dimension, smallest first)

Pages come from score histograms: the histogram of a cross product is the convolution of
its factors' histograms, so the rank of the first layer with score ``T`` is a prefix sum,
and a page at any offset is reached by skipping whole blocks, never by enumerating them.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice

from service.solver.enumeration import DimParams, SearchSpace

Terms = dict[str, int]


@dataclass(frozen=True, slots=True)
class Objective:
    """A named ranking: ``dim_terms`` scores one dimension; lower totals rank first."""

    name: str
    description: str
    dim_terms: Callable[[DimParams, int, int], Terms]

    def dim_score(self, params: DimParams, input_size: int, output_size: int) -> int:
        return sum(self.dim_terms(params, input_size, output_size).values())


def overlap_is_uneven(kernel_size: int, stride: int, dilation: int) -> bool:
    """Whether the interior of an all-ones transposed convolution is not constant.

    Interior output position y receives one contribution per tap t with
    t·dilation ≡ y (mod stride). With g = gcd(stride, dilation) > 1 the residues not
    divisible by g receive none (holes); with g = 1 the taps spread evenly over the
    residues exactly when stride divides kernel_size (Odena et al., 2016).

    >>> overlap_is_uneven(3, 2, 1), overlap_is_uneven(4, 2, 1), overlap_is_uneven(2, 2, 2)
    (True, False, True)
    """
    if stride == 1:
        return False
    return math.gcd(stride, dilation) > 1 or kernel_size % stride != 0


# Weights: an artifact outweighs any sum of the mild terms a realistic layer can reach,
# so a layer with one never ranks above a layer without.
ARTIFACT_WEIGHT = 100_000


def _balanced_terms(params: DimParams, input_size: int, output_size: int) -> Terms:
    k, s, d, p, op = params
    # Half-pixels between the kernel's centre and the input pixel's centre after cropping.
    misalignment = abs(d * (k - 1) + 1 - s - 2 * p)
    return {
        "uneven_overlap": ARTIFACT_WEIGHT if overlap_is_uneven(k, s, d) else 0,
        # Positions past the last input's reach receive nothing but the bias.
        "uncovered_border": ARTIFACT_WEIGHT if op > p else 0,
        "output_padding": 10 * op,
        "misalignment": 10 * misalignment,
        "kernel_size": 2 * k,
        "dilation": 40 * (d - 1),
    }


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
                "Default. No layer with uneven overlap (checkerboard or interior holes) or an "
                "uncovered border (output_padding > padding) ranks above one without; then "
                "output_padding 0, centred cropping, a small kernel, dilation 1."
            ),
            dim_terms=_balanced_terms,
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


def _convolve(a: Histogram, b: Histogram) -> Histogram:
    out: defaultdict[int, int] = defaultdict(int)
    for key_a, count_a in a.items():
        for key_b, count_b in b.items():
            out[key_a + key_b] += count_a * count_b
    return dict(out)


class _Leaf:
    """One dimension's options, in tie-break order, bucketed by score."""

    __slots__ = ("by_score", "hist", "items")

    def __init__(self, items: Sequence[tuple[int, DimParams]]) -> None:
        self.items = sorted(items, key=lambda item: item[1])
        self.by_score: dict[int, list[DimParams]] = defaultdict(list)
        for score, params in self.items:
            self.by_score[score].append(params)
        self.hist: Histogram = {score: len(group) for score, group in self.by_score.items()}

    def layers_with(self, score: int, skip: int) -> Iterator[Layer]:
        for params in self.by_score.get(score, ())[skip:]:
            yield (params,)


class _Product:
    """Cross product of per-dimension leaves, ordered dimension by dimension."""

    __slots__ = ("first", "hist", "rest")

    def __init__(self, leaves: Sequence[_Leaf]) -> None:
        self.first = leaves[0]
        self.rest: _Leaf | _Product | None = None
        self.hist = self.first.hist
        if len(leaves) > 1:
            self.rest = leaves[1] if len(leaves) == 2 else _Product(leaves[1:])
            self.hist = _convolve(self.first.hist, self.rest.hist)

    def layers_with(self, score: int, skip: int) -> Iterator[Layer]:
        if self.rest is None:
            yield from self.first.layers_with(score, skip)
            return
        rest = self.rest
        for head_score, head in self.first.items:
            count = rest.hist.get(score - head_score, 0)
            if count <= skip:
                skip -= count
                continue
            for tail in rest.layers_with(score - head_score, skip):
                yield (head, *tail)
            skip = 0


class _Union:
    """Disjoint groups (one per tied kernel, stride, dilation), in tie-break order."""

    __slots__ = ("groups", "hist")

    def __init__(self, groups: Sequence[_Product]) -> None:
        self.groups = groups
        hist: defaultdict[int, int] = defaultdict(int)
        for group in groups:
            for score, count in group.hist.items():
                hist[score] += count
        self.hist = dict(hist)

    def layers_with(self, score: int, skip: int) -> Iterator[Layer]:
        for group in self.groups:
            count = group.hist.get(score, 0)
            if count <= skip:
                skip -= count
                continue
            yield from group.layers_with(score, skip)
            skip = 0


@dataclass(frozen=True, slots=True)
class RankedCandidate:
    rank: int
    score: int
    layer: Layer
    terms: Terms


class RankedSpace:
    """A search space in objective order; ``page`` costs O(limit + groups), not O(space)."""

    def __init__(self, space: SearchSpace, objective: Objective, *, sort_below: int = 256) -> None:
        self.space = space
        self.objective = objective
        self.total = space.total
        # Square sizes share options across dimensions: score each distinct option once.
        self._terms: dict[tuple[DimParams, int, int], Terms] = {}
        self._scores: dict[tuple[DimParams, int, int], int] = {}
        score = self._dim_score

        sizes = list(zip(space.input_size, space.output_size, strict=True))
        self._sorted: list[tuple[int, Layer]] | None = None
        self._root: _Union | _Product | None = None
        if self.total <= sort_below:
            # Small spaces (the common case) are cheaper to sort than to bucket.
            self._sorted = sorted(
                (sum(score(p, i, o) for p, (i, o) in zip(layer, sizes, strict=True)), layer)
                for per_dim in space.groups
                for layer in itertools.product(*per_dim)
            )
            return
        products = [
            _Product(
                [
                    _Leaf([(score(p, i, o), p) for p in options])
                    for options, (i, o) in zip(per_dim, sizes, strict=True)
                ]
            )
            for per_dim in space.groups
        ]
        self._root = products[0] if len(products) == 1 else _Union(products)

    def page(self, *, offset: int = 0, limit: int = 10) -> list[RankedCandidate]:
        if self._sorted is not None:
            return [
                RankedCandidate(offset + n + 1, score, layer, self.terms(layer))
                for n, (score, layer) in enumerate(self._sorted[offset : offset + limit])
            ]
        if self._root is None or limit <= 0:
            return []
        root = self._root
        found: list[RankedCandidate] = []
        rank = 0
        for score in sorted(root.hist):
            count = root.hist[score]
            if rank + count <= offset:
                rank += count
                continue
            skip = max(0, offset - rank)
            for layer in islice(root.layers_with(score, skip), limit - len(found)):
                found.append(RankedCandidate(rank + skip + 1, score, layer, self.terms(layer)))
                skip += 1
            if len(found) == limit:
                break
            rank += count
        return found

    def _dim_terms(self, params: DimParams, i: int, o: int) -> Terms:
        key = (params, i, o)
        terms = self._terms.get(key)
        if terms is None:
            terms = self._terms[key] = self.objective.dim_terms(params, i, o)
        return terms

    def _dim_score(self, params: DimParams, i: int, o: int) -> int:
        key = (params, i, o)
        score = self._scores.get(key)
        if score is None:
            score = self._scores[key] = sum(self._dim_terms(params, i, o).values())
        return score

    def terms(self, layer: Layer) -> Terms:
        """The objective's named terms of one layer, summed over its dimensions."""
        total: defaultdict[str, int] = defaultdict(int)
        for params, i, o in zip(layer, self.space.input_size, self.space.output_size, strict=True):
            for name, value in self._dim_terms(params, i, o).items():
                total[name] += value
        return dict(total)


def rank_space(
    space: SearchSpace, objective: str | Objective = "balanced", *, sort_below: int = 256
) -> RankedSpace:
    """Rank a space; spaces of at most ``sort_below`` layers are sorted outright."""
    chosen = OBJECTIVES[objective] if isinstance(objective, str) else objective
    return RankedSpace(space, chosen, sort_below=sort_below)
