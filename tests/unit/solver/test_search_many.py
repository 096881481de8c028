"""The batched search core: a batch answers each query as that query alone, ranks by brute force's
order, folds nearest sizes as a loop over every layer would, caps its summed work and stops when
its caller has gone."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.solver import cancel
from service.solver.enumeration import Bound, SearchBounds, build_space
from service.solver.errors import SolverError
from service.solver.ranking import OBJECTIVES, rank_space, rank_spaces
from service.solver.reachable import reach, reach_each
from service.solver.search import BatchWork, Budget, SearchResult, search, search_many
from service.solver.sizes import forward_size
from tests.unit.solver.test_ranking import fully_sorted

_BOUNDS = st.sampled_from(
    [
        SearchBounds(),
        SearchBounds(kernel_size=Bound(1, 5), stride=Bound(1, 4), dilation=Bound(1, 2)),
        SearchBounds(kernel_size=Bound.of_values([2, 4, 7]), output_padding=Bound(0, 0)),
        SearchBounds(kernel_size=Bound(1, 4), stride=Bound(1, 3), padding=Bound.of_values([0, 2])),
        SearchBounds(kernel_size=Bound(1, 6), stride=Bound(1, 4), portable_to=("onnx",)),
        SearchBounds(
            kernel_size=Bound(1, 5), stride=Bound(1, 3), dilation=Bound(1, 2), portable_to=("keras",)
        ),
    ]
)


@st.composite
def _queries(draw: st.DrawFn) -> list[tuple[tuple[int, ...], tuple[int, ...]]]:
    ndim = draw(st.integers(1, 3))
    size = st.integers(1, 40)
    square = draw(st.booleans())
    queries = []
    for _ in range(draw(st.integers(1, 12))):
        if square:
            i, o = draw(size), draw(st.integers(1, 120))
            queries.append(((i,) * ndim, (o,) * ndim))
        else:
            queries.append(
                (
                    tuple(draw(size) for _ in range(ndim)),
                    tuple(draw(st.integers(1, 120)) for _ in range(ndim)),
                )
            )
    # Repeats: a batch answers identical queries once, and each of them alike.
    return queries + draw(st.lists(st.sampled_from(queries), max_size=3))


def _plain(result: SearchResult | SolverError) -> object:
    """A result as comparable values (a SolverError by its code and message)."""
    if isinstance(result, SolverError):
        return (result.code, result.message)
    return (
        result.total,
        [(c.rank, c.score, c.layer, c.terms) for c in result.candidates],
        result.reason,
        [(n.direction, n.output_size, n.example.score, n.example.layer) for n in result.nearest],
    )


@settings(max_examples=60, deadline=None)
@given(
    queries=_queries(),
    bounds=_BOUNDS,
    tie_dims=st.booleans(),
    objective=st.sampled_from(sorted(OBJECTIVES)),
    offset=st.integers(0, 30),
    limit=st.integers(1, 12),
)
def test_a_batch_answers_each_query_as_it_is_answered_alone(
    queries: list[tuple[tuple[int, ...], tuple[int, ...]]],
    bounds: SearchBounds,
    tie_dims: bool,
    objective: str,
    offset: int,
    limit: int,
) -> None:
    budget = Budget(max_options=2_000)  # some queries over it: their errors stay in their places
    options = {
        "bounds": bounds,
        "tie_dims": tie_dims,
        "objective": objective,
        "offset": offset,
        "limit": limit,
    }
    batch = search_many(queries, budget=budget, **options)  # type: ignore[arg-type]
    assert len(batch) == len(queries)
    for query, found in zip(queries, batch, strict=True):
        try:
            alone: SearchResult | SolverError = search(*query, budget=budget, **options)  # type: ignore[arg-type]
        except SolverError as exc:
            alone = exc
        assert _plain(found) == _plain(alone)


@settings(max_examples=60, deadline=None)
@given(
    sizes=st.lists(
        st.tuples(st.integers(1, 3), st.integers(1, 9), st.integers(1, 4), st.integers(-3, 3), st.booleans()),
        min_size=1,
        max_size=8,
    ),
    objective=st.sampled_from(sorted(OBJECTIVES)),
    portable=st.sampled_from([(), ("keras",), ("onnx",)]),
)
def test_spaces_ranked_together_are_each_in_brute_force_order(
    sizes: list[tuple[int, int, int, int, bool]], objective: str, portable: tuple[str, ...]
) -> None:
    bounds = SearchBounds(
        kernel_size=Bound(1, 5), stride=Bound(1, 3), dilation=Bound(1, 2), portable_to=portable
    )
    spaces = [
        build_space(
            (i,) * ndim,
            (max(1, i * scale + delta),) + (i * scale,) * (ndim - 1),
            bounds,
            tie_dims=tie,
            max_triples=10**6,
            max_options=10**6,
        )
        for ndim, i, scale, delta, tie in sizes
    ]
    # Every space is sorted outright here (the histogram path of large spaces has its own tests).
    for space, ranked in zip(spaces, rank_spaces(spaces, objective, sort_below=10**6), strict=True):
        reference = fully_sorted(space, OBJECTIVES[objective])
        assert ranked.total == len(reference)
        assert [(c.score, c.layer) for c in ranked.page(limit=len(reference) + 1)] == reference
        alone = rank_space(space, objective, sort_below=10**6).page(offset=2, limit=5)
        assert [(c.rank, c.score, c.layer) for c in alone] == [
            (n + 3, score, layer) for n, (score, layer) in enumerate(reference[2:7])
        ]


@settings(max_examples=200)
@given(
    cases=st.lists(
        st.tuples(
            st.integers(1, 12), st.integers(1, 120), st.integers(1, 6), st.integers(1, 5), st.integers(1, 3)
        ),
        min_size=1,
        max_size=10,
    ),
    padding=st.one_of(st.none(), st.lists(st.integers(0, 6), min_size=1, max_size=3).map(Bound.of_values)),
    output_padding=st.one_of(st.none(), st.tuples(st.integers(0, 3), st.integers(0, 3)).map(sorted)),
)
def test_reach_each_agrees_with_a_loop_over_every_layer(
    cases: list[tuple[int, int, int, int, int]], padding: Bound | None, output_padding: list[int] | None
) -> None:
    ops = None if output_padding is None else Bound(*output_padding)
    bounds = SearchBounds(padding=padding, output_padding=ops)
    for (i, target, k, s, d), found in zip(cases, reach_each(cases, bounds), strict=True):
        reachable = set()
        for p in padding or Bound(0, d * (k - 1)):
            for op in ops or Bound(0, 1023):
                if op < max(s, d):
                    out = forward_size(i, kernel_size=k, stride=s, padding=p, output_padding=op, dilation=d)
                    if out >= 1:
                        reachable.add(out)
        assert found.exact == (target in reachable)
        assert found.below == max((v for v in reachable if v < target), default=None)
        assert found.above == min((v for v in reachable if v > target), default=None)
        assert found == reach(i, target, k=k, s=s, d=d, bounds=bounds)


def test_the_batch_ranking_budget_is_checked_before_ranking_and_names_itself() -> None:
    queries = [((n,), (2 * n,)) for n in range(2, 40)]
    spent = BatchWork(None)
    search_many(queries, bounds=SearchBounds(), batch_work=spent)
    assert spent.spent > 0
    with pytest.raises(SolverError) as refused:
        search_many(queries, bounds=SearchBounds(), batch_work=BatchWork(spent.spent - 1))
    assert refused.value.code == "batch_too_large"
    assert f"{spent.spent - 1:,}" in refused.value.message
    assert "split the batch" in refused.value.message
    # At the budget exactly, the batch is answered.
    assert all(
        not isinstance(r, SolverError)
        for r in search_many(queries, bounds=SearchBounds(), batch_work=BatchWork(spent.spent))
    )


def test_a_batch_stops_when_its_caller_has_gone() -> None:
    token = cancel.Cancellation()
    token.cancel()
    reset = cancel.bind(token)
    try:
        with pytest.raises(cancel.CancelledError):
            search_many([((7,), (14,)), ((7,), (15,))], bounds=SearchBounds())
        with pytest.raises(cancel.CancelledError):
            reach_each([(7, 15, 3, 2, 1)], SearchBounds())
    finally:
        cancel.unbind(reset)
    assert search_many([((7,), (14,))], bounds=SearchBounds())[0].total  # type: ignore[union-attr]


def test_ranking_a_large_space_stops_when_its_caller_has_gone() -> None:
    bounds = SearchBounds(kernel_size=Bound(1, 16), stride=Bound(1, 8), dilation=Bound(1, 3))
    space = build_space((16,) * 3, (32,) * 3, bounds, tie_dims=False, max_triples=10**6, max_options=10**6)
    ranked = rank_space(space, sort_below=0)
    token = cancel.Cancellation()
    token.cancel()
    reset = cancel.bind(token)
    try:
        with pytest.raises(cancel.CancelledError):
            rank_space(space, sort_below=0)
        with pytest.raises(cancel.CancelledError):
            ranked.page(offset=1000, limit=10)  # its histogram is built on demand
    finally:
        cancel.unbind(reset)
    assert len(ranked.page(offset=1000, limit=10)) == 10


def test_the_nearest_sizes_examples_count_against_the_batch_ranking_budget() -> None:
    from service.solver import search as search_module

    search_module._BEST.clear()  # examples kept from other tests would cost this batch nothing
    unreachable = [((3,), (150,)), ((4,), (300,))]  # empty spaces: their own ranking costs nothing
    spent = BatchWork(None)
    found = search_many(unreachable, bounds=SearchBounds(), batch_work=spent)
    assert all(isinstance(r, SearchResult) and r.nearest for r in found)
    assert spent.spent > 0
    search_module._BEST.clear()
    with pytest.raises(SolverError) as refused:
        search_many(unreachable, bounds=SearchBounds(), batch_work=BatchWork(spent.spent - 1))
    assert refused.value.code == "batch_too_large"


def test_a_kept_square_space_is_ranked_again_by_each_objective_as_a_fresh_one() -> None:
    """Tied square spaces are kept with their tables, and ranking keeps each objective's layout
    of them: ranking one again, under any objective in any order, pages as a fresh copy does."""
    from service.solver.enumeration import SearchSpace

    bounds = SearchBounds(kernel_size=Bound(1, 6), stride=Bound(1, 4), dilation=Bound(1, 2))
    kept = build_space((5, 5), (11, 11), bounds, max_triples=10**6, max_options=10**6)
    assert kept is build_space((5, 5), (11, 11), bounds, max_triples=10**6, max_options=10**6)
    for objective in ["balanced", "cost", "quality", "balanced", "conventional", "cost"]:
        fresh = SearchSpace(kept.input_size, kept.output_size, True, kept.groups, kept.work)
        page = rank_spaces([kept], objective)[0].page(offset=3, limit=40)
        alone = rank_space(fresh, objective).page(offset=3, limit=40)
        assert [(c.rank, c.score, c.layer) for c in page] == [(c.rank, c.score, c.layer) for c in alone]
        reference = fully_sorted(kept, OBJECTIVES[objective])[3:43]
        assert [(c.score, c.layer) for c in page] == reference
    with pytest.raises(SolverError, match="exceed the budget"):  # kept, the budget still applies
        build_space((5, 5), (11, 11), bounds, max_triples=10**6, max_options=kept.total // 2)
