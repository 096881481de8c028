"""One search from start to finish: space, ranked page, and, when nothing fits, why and what is near."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import NamedTuple

from service.solver.cancel import checkpoint
from service.solver.enumeration import Bound, SearchBounds, SearchSpace, build_space, is_square
from service.solver.errors import SolverError
from service.solver.memo import Memo
from service.solver.portability import verdict
from service.solver.ranking import Objective, RankedCandidate, RankedSpace, rank_spaces
from service.solver.reachable import Reach, reach_any_each, reach_each
from service.solver.sizes import Dims


@dataclass(frozen=True, slots=True)
class Budget:
    """How much work one search may do (see build_space)."""

    max_triples: int = 100_000
    max_options: int = 100_000
    max_work: int | None = None  # overlap_work units of ranking; None: unchecked


class BatchWork:
    """The ranking work a whole batch may do, in overlap_work units (``SearchSpace.work``): its
    items share one request's budget, charged before each part of the batch is ranked."""

    __slots__ = ("limit", "spent")

    def __init__(self, limit: int | None) -> None:
        self.limit, self.spent = limit, 0

    def charge(self, work: int) -> None:
        self.spent += work
        if self.limit is not None and self.spent > self.limit:
            raise SolverError(
                "batch_too_large",
                f"ranking the batch's searches would take at least {self.spent:,} units of work (each valid "
                f"option weighs 12 + kernel_size + 2·stride); the budget per batch is {self.limit:,}: split "
                "the batch, or narrow kernel_size and stride",
                field="queries",
            )


# Named tuples, not frozen dataclasses: a batch makes one result per query and a nearest size per
# empty one, and a frozen dataclass's __init__ costs three times as much.
class NearestSize(NamedTuple):
    """A reachable output size next to an unreachable request, with its best layer."""

    direction: str
    output_size: Dims
    example: RankedCandidate


class SearchResult(NamedTuple):
    ranked: RankedSpace
    candidates: list[RankedCandidate]
    reason: str | None = None
    nearest: tuple[NearestSize, ...] = ()

    @property
    def total(self) -> int:
        return self.ranked.total


@functools.lru_cache(maxsize=1 << 8)
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


Query = tuple[Dims, Dims]
# Queries between two cancellation checks: a check costs one context lookup, a query microseconds.
CHECK_EVERY = 64


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
    """Rank every valid layer mapping ``input_size`` to ``output_size`` and return one page: a
    batch of one (``search_many``).

    Raises SolverError ``space_too_large`` when the bounds exceed the budget.

    >>> result = search((7, 7), (14, 14), bounds=SearchBounds(), limit=1)
    >>> result.total, result.candidates[0].layer[0]
    (15, DimParams(kernel_size=2, stride=2, dilation=1, padding=0, output_padding=0))
    """
    (found,) = search_many(
        [(input_size, output_size)],
        bounds=bounds,
        tie_dims=tie_dims,
        objective=objective,
        offset=offset,
        limit=limit,
        budget=budget,
    )
    if isinstance(found, SolverError):
        raise found
    return found


def search_many(
    queries: Sequence[Query],
    *,
    bounds: SearchBounds,
    tie_dims: bool = True,
    objective: str | Objective = "balanced",
    offset: int = 0,
    limit: int = 10,
    budget: Budget = Budget(),
    batch_work: BatchWork | None = None,
) -> list[SearchResult | SolverError]:
    """Every (input_size, output_size) query searched as ``search`` would, in order; a query over
    its own budget gets its SolverError in its place, and identical queries are solved once.

    The queries share each phase: every space is built (closed form, memoised tables), then the
    small ones are ranked together (``rank_spaces``), then the empty ones are explained and their
    nearest sizes' examples searched as one more batch. ``batch_work`` is charged the summed
    ranking work of the queries (``SearchSpace.work``) once every space is built and before any is
    ranked, and the work of the spaces the explanations rank (examples not kept yet) before they
    are ranked: over its limit, SolverError ``batch_too_large``. Raises ``CancelledError`` between
    queries once the caller has gone.
    """
    distinct = list(dict.fromkeys(queries))
    ranked = _ranked_many(distinct, bounds, tie_dims, objective, budget, batch_work)
    results: dict[Query, SearchResult | SolverError] = {}
    empty: list[Query] = []
    for query, space in ranked.items():
        if isinstance(space, SolverError):
            results[query] = space
        elif space.total:
            results[query] = SearchResult(space, space.page(offset=offset, limit=limit))
        else:
            empty.append(query)
    if empty:
        results.update(_explain_many(empty, ranked, bounds, tie_dims, objective, budget, batch_work))
    return [results[query] for query in queries]


def _explain_many(
    empty: list[Query],
    ranked: dict[Query, RankedSpace | SolverError],
    bounds: SearchBounds,
    tie_dims: bool,
    objective: str | Objective,
    budget: Budget,
    batch_work: BatchWork | None,
) -> dict[Query, SearchResult | SolverError]:
    """Why each empty query is empty, and the reachable sizes next to it with their best layers.
    The spaces ranked for that (unfiltered counts, nearest sizes' examples) are charged to
    ``batch_work`` too, before they are ranked."""
    results: dict[Query, SearchResult | SolverError] = {}
    pending = empty
    if bounds.portable_to:
        unfiltered = _ranked_many(
            empty, replace(bounds, portable_to=()), tie_dims, objective, budget, batch_work
        )
        pending = []
        for query in empty:
            wide = unfiltered[query]
            if isinstance(wide, SolverError):
                results[query] = wide
                continue
            if not wide.total:  # nothing maps it even unfiltered: explained as any empty search
                pending.append(query)
                continue
            input_size, output_size = query
            best = wide.page(limit=1)[0].layer
            refusals = [
                f"{target}: {v.reason}"
                for target in bounds.portable_to
                if (v := verdict(target, best)).reason is not None
            ]
            reason = (
                f"{wide.total} layers map {list(input_size)} to {list(output_size)} within the bounds, "
                f"but none exports exactly to {', '.join(bounds.portable_to)}; the best of them: "
                + "; ".join(refusals)
            )
            results[query] = SearchResult(_space(ranked[query]), [], reason)
    explained = _explain_empty(pending, bounds, tie_dims=tie_dims)
    examples = _best_many(
        [(query[0], size) for query, (_, sizes) in explained.items() for _, size in sizes],
        bounds,
        tie_dims,
        objective,
        budget,
        batch_work,
    )
    for query, (reason, sizes) in explained.items():
        input_size = query[0]
        nearest: list[NearestSize] = []
        failed: SolverError | None = None
        for direction, size in sizes:
            example = examples[input_size, size]
            if example is None and is_square(size):
                # portable_to: the nearest size PyTorch reaches may port nowhere; the nearest portable
                # one lies further out (its layers are a subset). Square sizes step outwards.
                step = -1 if direction == "below" else 1
                for value in range(size[0] + step, max(size[0] + step * NEAREST_PORTABLE_STEPS, 0), step):
                    size = (value,) * len(size)
                    example = _best_many(
                        [(input_size, size)], bounds, tie_dims, objective, budget, batch_work
                    )[input_size, size]
                    if example is not None:
                        break
            if isinstance(example, SolverError):
                failed = example
                break
            if example is not None:  # else no portable size within reach: none offered
                nearest.append(NearestSize(direction, size, example))
        results[query] = (
            failed if failed is not None else SearchResult(_space(ranked[query]), [], reason, tuple(nearest))
        )
    return results


def _space(found: RankedSpace | SolverError) -> RankedSpace:
    assert isinstance(found, RankedSpace)
    return found


# The first layer of a nearest size's ranked space (or None: none), kept: a pure function of the
# sizes, bounds and objective, and neighbouring requests (one input size, many unreachable outputs)
# share their nearest sizes. One memo per search settings (bounds, tie_dims, objective, budget),
# keyed by the size pair alone: a batch looks its settings up once, then each pair by a plain
# tuple's hash.
_BEST: Memo[Memo[tuple[RankedCandidate | None]]] = Memo(max_entries=4, max_item=1)


def _best_memo(settings: tuple[object, ...]) -> Memo[tuple[RankedCandidate | None]]:
    memo = _BEST.get(settings)
    if memo is None:
        memo = _BEST.put(settings, Memo(max_entries=1 << 12, max_item=1), 1)
    return memo


def _best_many(
    pairs: list[Query],
    bounds: SearchBounds,
    tie_dims: bool,
    objective: str | Objective,
    budget: Budget,
    batch_work: BatchWork | None = None,
) -> dict[Query, RankedCandidate | SolverError | None]:
    """Each pair's best layer (nearest sizes' examples); the pairs not kept yet are ranked as one batch."""
    found: dict[Query, RankedCandidate | SolverError | None] = {}
    missing: list[Query] = []
    memo = _best_memo((bounds, tie_dims, objective, budget))
    for pair in dict.fromkeys(pairs):
        kept = memo.get(pair)
        if kept is None:
            missing.append(pair)
        else:
            found[pair] = kept[0]
    if missing:
        for pair, space in _ranked_many(missing, bounds, tie_dims, objective, budget, batch_work).items():
            if isinstance(space, SolverError):
                found[pair] = space
                continue
            page = space.page(limit=1)
            best = page[0] if page else None
            if best is not None:
                _ = best.terms  # worked out now, so the memo keeps the candidate, not its ranked space
            found[pair] = memo.put(pair, (best,), 1)[0]
    return found


def _ranked_many(
    queries: list[Query],
    bounds: SearchBounds,
    tie_dims: bool,
    objective: str | Objective,
    budget: Budget,
    batch_work: BatchWork | None = None,
) -> dict[Query, RankedSpace | SolverError]:
    """The ranked spaces alone: what a search's own fallbacks (the unfiltered count, the nearest
    sizes' examples) need, without explaining an empty one in turn."""
    built: dict[Query, SearchSpace] = {}
    failed: dict[Query, RankedSpace | SolverError] = {}
    for n, (input_size, output_size) in enumerate(queries):
        if n % CHECK_EVERY == 0:
            checkpoint()
        try:
            built[input_size, output_size] = build_space(
                input_size,
                output_size,
                bounds,
                tie_dims=tie_dims,
                max_triples=budget.max_triples,
                max_options=budget.max_options,
                max_work=budget.max_work,
            )
        except SolverError as exc:
            failed[input_size, output_size] = exc
    if batch_work is not None:
        batch_work.charge(sum(space.work for space in built.values()))
    checkpoint()
    return {**dict(zip(built, rank_spaces(list(built.values()), objective), strict=True)), **failed}


NEAREST_PORTABLE_STEPS = 64


# One dimension's text, kept: most empty queries are square, so their dimensions share it.
@functools.lru_cache(maxsize=1 << 14)
def _blocked(dim: int, within: str, input_size: int, output_size: int) -> str:
    return (
        f"dim {dim}: no layer with {within} and the padding/output_padding bounds maps {input_size} "
        f"to {output_size}"
    )


def _square(query: Query) -> bool:
    return is_square(query[0]) and is_square(query[1])


def _explain_empty(
    queries: list[Query], bounds: SearchBounds, *, tie_dims: bool
) -> dict[Query, tuple[str, list[tuple[str, Dims]]]]:
    """Per empty query: name the blocking dimension or the tie, and the nearest reachable sizes
    below and above. Square queries are answered together from their families' runs."""
    within = _describe(bounds)
    explained: dict[Query, tuple[str, list[tuple[str, Dims]]]] = {}
    square = [query for query in queries if _square(query)]
    # A square request that no triple reaches: every option is (v, ..., v), so the nearest
    # sizes are the largest "below" and the smallest "above" over the triples.
    families = reach_any_each([(query[0][0], query[1][0]) for query in square], bounds) if square else []
    for (input_size, output_size), family in zip(square, families, strict=True):
        if family.exact:
            continue
        ndim = len(input_size)
        reason = "; ".join([_blocked(dim, within, input_size[0], output_size[0]) for dim in range(ndim)])
        near = [("below", family.below), ("above", family.above)]
        explained[input_size, output_size] = (
            reason,
            [(direction, (v,) * ndim) for direction, v in near if v is not None],
        )
    for n, query in enumerate(queries):
        if query not in explained:
            if n % CHECK_EVERY == 0:
                checkpoint()
            explained[query] = _explain_by_triple(*query, bounds, tie_dims=tie_dims, within=within)
    return explained


def _explain_by_triple(
    input_size: Dims, output_size: Dims, bounds: SearchBounds, *, tie_dims: bool, within: str
) -> tuple[str, list[tuple[str, Dims]]]:
    # Each distinct (input, output) pair is analysed once per triple, all in one fold.
    pairs = list(zip(input_size, output_size, strict=True))
    distinct = list(dict.fromkeys(pairs))
    triples = list(bounds.triples())
    solved = reach_each([(i, o, k, s, d) for k, s, d in triples for i, o in distinct], bounds)
    reaches: dict[tuple[int, int, int], list[Reach]] = {}
    for t, triple in enumerate(triples):
        row = dict(zip(distinct, solved[t * len(distinct) : (t + 1) * len(distinct)], strict=True))
        reaches[triple] = [row[pair] for pair in pairs]
    blocked = [
        dim for dim in range(len(input_size)) if not any(per_dim[dim].exact for per_dim in reaches.values())
    ]
    if blocked:
        reason = "; ".join([_blocked(dim, within, input_size[dim], output_size[dim]) for dim in blocked])
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
