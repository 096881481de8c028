"""One search from start to finish: space, ranked page, and, when nothing fits, why and what is near."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field, replace

from service.solver.enumeration import Bound, SearchBounds, build_space
from service.solver.portability import verdict
from service.solver.ranking import Objective, RankedCandidate, RankedSpace, rank_space
from service.solver.reachable import Reach, reach, reach_any
from service.solver.sizes import Dims


@dataclass(frozen=True, slots=True)
class Budget:
    """How much work one search may do (see build_space)."""

    max_triples: int = 100_000
    max_options: int = 100_000
    max_work: int | None = None  # overlap_work units of ranking; None: unchecked


@dataclass(frozen=True, slots=True)
class NearestSize:
    """A reachable output size next to an unreachable request, with its best layer."""

    direction: str
    output_size: Dims
    example: RankedCandidate


@dataclass(frozen=True, slots=True)
class SearchResult:
    ranked: RankedSpace
    candidates: list[RankedCandidate]
    reason: str | None = None
    nearest: list[NearestSize] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.ranked.total


def _describe(bounds: SearchBounds) -> str:
    def show(name: str, bound: Bound) -> str:
        if bound.values is not None and len(bound.values) > 1:
            return f"{name} in {list(bound.values)}"
        return f"{name} {bound.lo}" if bound.lo == bound.hi else f"{name} {bound.lo}..{bound.hi}"

    return ", ".join(
        [
            show("kernel_size", bounds.kernel_size),
            show("stride", bounds.stride),
            show("dilation", bounds.dilation),
        ]
    )


def search(
    input_size: Dims,
    output_size: Dims,
    *,
    bounds: SearchBounds,
    tie_dims: bool = True,
    objective: str | Objective = "balanced",
    offset: int = 0,
    limit: int = 10,
    budget: Budget = Budget(),
) -> SearchResult:
    """Rank every valid layer mapping ``input_size`` to ``output_size`` and return one page.

    Raises SolverError ``space_too_large`` when the bounds exceed the budget.

    >>> result = search((7, 7), (14, 14), bounds=SearchBounds(), limit=1)
    >>> result.total, result.candidates[0].layer[0]
    (15, DimParams(kernel_size=2, stride=2, dilation=1, padding=0, output_padding=0))
    """
    ranked = _ranked(input_size, output_size, bounds, tie_dims, objective, budget)
    if ranked.total:
        return SearchResult(ranked, ranked.page(offset=offset, limit=limit))
    if bounds.portable_to:
        unfiltered = _ranked(
            input_size, output_size, replace(bounds, portable_to=()), tie_dims, objective, budget
        )
        if unfiltered.total:
            best = unfiltered.page(limit=1)[0].layer
            refusals = [
                f"{target}: {v.reason}"
                for target in bounds.portable_to
                if (v := verdict(target, best)).reason is not None
            ]
            reason = (
                f"{unfiltered.total} layers map {list(input_size)} to {list(output_size)} within the bounds, "
                f"but none exports exactly to {', '.join(bounds.portable_to)}; the best of them: "
                + "; ".join(refusals)
            )
            return SearchResult(ranked, [], reason)
    reason, sizes = _explain_empty(input_size, output_size, bounds, tie_dims=tie_dims)
    nearest: list[NearestSize] = []
    for direction, size in sizes:
        example = _best(input_size, size, bounds, tie_dims, objective, budget)
        if example is None and len(set(size)) == 1:
            # portable_to: the nearest size PyTorch reaches may port nowhere; the nearest portable
            # one lies further out (its layers are a subset). Square sizes step outwards.
            step = -1 if direction == "below" else 1
            for value in range(size[0] + step, max(size[0] + step * NEAREST_PORTABLE_STEPS, 0), step):
                size = (value,) * len(size)
                example = _best(input_size, size, bounds, tie_dims, objective, budget)
                if example is not None:
                    break
        if example is not None:  # else no portable size within reach: none offered
            nearest.append(NearestSize(direction, size, example))
    return SearchResult(ranked, [], reason, nearest)


@functools.lru_cache(maxsize=1 << 12)
def _best(
    input_size: Dims,
    output_size: Dims,
    bounds: SearchBounds,
    tie_dims: bool,
    objective: str | Objective,
    budget: Budget,
) -> RankedCandidate | None:
    """The first layer of a ranked space, or None: a nearest size's example. A pure function of
    its arguments, cached: neighbouring requests (one input size, many unreachable outputs) share
    their nearest sizes."""
    page = _ranked(input_size, output_size, bounds, tie_dims, objective, budget).page(limit=1)
    if not page:
        return None
    _ = page[0].terms  # worked out now, so the cache keeps the candidate, not its ranked space
    return page[0]


def _ranked(
    input_size: Dims,
    output_size: Dims,
    bounds: SearchBounds,
    tie_dims: bool,
    objective: str | Objective,
    budget: Budget,
) -> RankedSpace:
    """The ranked space alone: what a search's own fallbacks (the unfiltered count, the nearest
    sizes' examples) need, without explaining an empty one in turn."""
    space = build_space(
        input_size,
        output_size,
        bounds,
        tie_dims=tie_dims,
        max_triples=budget.max_triples,
        max_options=budget.max_options,
        max_work=budget.max_work,
    )
    return rank_space(space, objective)


NEAREST_PORTABLE_STEPS = 64


def _explain_empty(
    input_size: Dims, output_size: Dims, bounds: SearchBounds, *, tie_dims: bool
) -> tuple[str, list[tuple[str, Dims]]]:
    """Name the blocking dimension or the tie, and the nearest reachable sizes below and above."""
    within = _describe(bounds)
    blocked_text = "dim {}: no layer with {} and the padding/output_padding bounds maps {} to {}"
    if len(set(zip(input_size, output_size, strict=True))) == 1:
        # A square request that no triple reaches: every option is (v, ..., v), so the nearest
        # sizes are the largest "below" and the smallest "above" over the triples.
        ndim = len(input_size)
        family = reach_any(input_size[0], output_size[0], bounds)
        if not family.exact:
            reason = "; ".join(
                blocked_text.format(dim, within, input_size[dim], output_size[dim]) for dim in range(ndim)
            )
            near = [("below", family.below), ("above", family.above)]
            return reason, [(direction, (v,) * ndim) for direction, v in near if v is not None]
    # Each distinct (input, output) pair is analysed once.
    pairs = list(zip(input_size, output_size, strict=True))
    distinct = list(dict.fromkeys(pairs))
    reaches: dict[tuple[int, int, int], list[Reach]] = {}
    for k, s, d in bounds.triples():
        solved = {(i, o): reach(i, o, k=k, s=s, d=d, bounds=bounds) for i, o in distinct}
        reaches[k, s, d] = [solved[pair] for pair in pairs]
    blocked = [
        dim for dim in range(len(input_size)) if not any(per_dim[dim].exact for per_dim in reaches.values())
    ]
    if blocked:
        reason = "; ".join(
            blocked_text.format(dim, within, input_size[dim], output_size[dim]) for dim in blocked
        )
    else:
        reason = (
            "every dimension is reachable on its own, but no single (kernel_size, stride, dilation) "
            "reaches all of them; set tie_dims to false to choose them per dimension"
        )
    sizes: list[tuple[str, Dims]] = []
    for direction in ("below", "above"):
        candidates = (
            [_combine(per_dim, output_size, direction) for per_dim in reaches.values()]
            if tie_dims
            else [_combine_untied(list(reaches.values()), output_size, direction)]
        )
        reachable = [size for size in candidates if size is not None and size != output_size]
        if reachable:
            best = min(reachable, key=lambda size: (_distance(size, output_size), size))
            sizes.append((direction, best))
    return reason, sizes


def _distance(size: Dims, target: Dims) -> int:
    return sum(abs(a - b) for a, b in zip(size, target, strict=True))


def _pick(r: Reach, target: int, direction: str) -> int | None:
    if r.exact:
        return target
    return r.below if direction == "below" else r.above


def _combine(per_dim: list[Reach], output_size: Dims, direction: str) -> Dims | None:
    picked = [_pick(r, t, direction) for r, t in zip(per_dim, output_size, strict=True)]
    return None if any(v is None for v in picked) else tuple(v for v in picked if v is not None)


def _combine_untied(all_reaches: list[list[Reach]], output_size: Dims, direction: str) -> Dims | None:
    picked: list[int] = []
    for dim, target in enumerate(output_size):
        options = [v for per_dim in all_reaches if (v := _pick(per_dim[dim], target, direction)) is not None]
        if not options:
            return None
        picked.append(max(options) if direction == "below" else min(options))
    return tuple(picked)
