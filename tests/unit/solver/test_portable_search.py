"""``portable_to`` keeps exactly the layers every named target ports (portability.verdict), in
search and in plans, and counts them exactly: brute force over small spaces.

The verdicts themselves are held to onnxruntime, jax and keras in
tests/differential/test_portability_vs_runtimes.py; here the filtered enumeration is held to them.
"""

from __future__ import annotations

import itertools
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.solver.enumeration import Bound, DimParams, SearchBounds
from service.solver.errors import SolverError
from service.solver.plans import PlanOptions, plan, plan_untied
from service.solver.portability import ALL_EXACT, TARGETS, portability, verdict
from service.solver.ranking import steady_dim_score
from service.solver.search import search
from service.solver.sizes import forward_size

TARGET_SETS = [("onnx",), ("keras",), ("jax",), ("onnx", "keras"), ("keras", "jax")]


def brute_force(
    input_size: tuple[int, ...], output_size: tuple[int, ...], bounds: SearchBounds, *, tie_dims: bool
) -> set[tuple[DimParams, ...]]:
    options = [
        DimParams(k, s, d, p, op)
        for k in bounds.kernel_size
        for s in bounds.stride
        for d in bounds.dilation
        for p in range(d * (k - 1) + 1)
        for op in range(max(s, d))
    ]
    found = set()
    for layer in itertools.product(options, repeat=len(input_size)):
        if tie_dims and len({(p.kernel_size, p.stride, p.dilation) for p in layer}) > 1:
            continue
        sizes = tuple(
            forward_size(
                i,
                kernel_size=p.kernel_size,
                stride=p.stride,
                padding=p.padding,
                output_padding=p.output_padding,
                dilation=p.dilation,
            )
            for i, p in zip(input_size, layer, strict=True)
        )
        if sizes == output_size and all(verdict(t, layer).status == "exact" for t in bounds.portable_to):
            found.add(layer)
    return found


@settings(max_examples=40)
@given(
    ndim=st.integers(1, 2),
    sizes=st.lists(st.tuples(st.integers(1, 5), st.integers(1, 14)), min_size=2, max_size=2),
    targets=st.sampled_from(TARGET_SETS),
    tie_dims=st.booleans(),
    dilations=st.sampled_from([(1,), (1, 2), (1, 2, 3)]),
)
def test_search_total_is_the_brute_force_count(
    ndim: int,
    sizes: list[tuple[int, int]],
    targets: tuple[str, ...],
    tie_dims: bool,
    dilations: tuple[int, ...],
) -> None:
    input_size = tuple(i for i, _ in sizes[:ndim])
    output_size = tuple(o for _, o in sizes[:ndim])
    bounds = SearchBounds(
        kernel_size=Bound(1, 4), stride=Bound(1, 3), dilation=Bound.of_values(dilations), portable_to=targets
    )
    expected = brute_force(input_size, output_size, bounds, tie_dims=tie_dims)
    result = search(input_size, output_size, bounds=bounds, tie_dims=tie_dims, limit=1000)
    assert result.total == len(expected)
    assert {tuple(c.layer) for c in result.candidates} <= expected
    assert [c.rank for c in result.candidates] == list(range(1, min(len(expected), 1000) + 1))
    if len(expected) <= 1000:  # the whole list on one page
        assert {tuple(c.layer) for c in result.candidates} == expected


def test_huge_untied_keras_space_pages_exactly() -> None:
    # Over 256 layers: ranked by histograms over the disjoint Keras groups, not sorted outright.
    bounds = SearchBounds(
        kernel_size=Bound(1, 6), stride=Bound(1, 3), dilation=Bound(1, 3), portable_to=("keras",)
    )
    args = {"bounds": bounds, "tie_dims": False}
    whole = search((4, 4), (9, 9), limit=1000, **args)  # type: ignore[arg-type]
    assert whole.total > 256
    assert whole.total == len(brute_force((4, 4), (9, 9), bounds, tie_dims=False))
    layers = [tuple(c.layer) for c in whole.candidates]
    assert len(set(layers)) == whole.total
    assert [c.score for c in whole.candidates] == sorted(c.score for c in whole.candidates)
    page = search((4, 4), (9, 9), offset=100, limit=50, **args)  # type: ignore[arg-type]
    assert [c.score for c in page.candidates] == [c.score for c in whole.candidates[100:150]]


def test_empty_after_filtering_says_which_rule() -> None:
    # 5 -> 6 with kernel 1, stride 1, dilation 2: only output_padding 1 (>= stride) with padding 0.
    bounds = SearchBounds(
        kernel_size=Bound(1, 1), stride=Bound(1, 1), dilation=Bound(2, 2), portable_to=("keras",)
    )
    result = search((5,), (6,), bounds=bounds)
    assert result.total == 0
    assert result.reason is not None
    assert "none exports exactly to keras" in result.reason
    assert "output_padding 1 − padding 0 = 1 must be < stride 1" in result.reason
    assert search((5,), (6,), bounds=replace(bounds, portable_to=("onnx",))).total == 0
    assert search((5,), (6,), bounds=replace(bounds, portable_to=("jax",))).total == 1


def _plan_layers_port(steps: tuple[tuple[DimParams, ...], ...], targets: tuple[str, ...]) -> bool:
    return all(verdict(t, step).status == "exact" for step in steps for t in targets)


@settings(max_examples=25)
@given(
    start=st.integers(1, 4),
    goal=st.integers(4, 24),
    targets=st.sampled_from(TARGET_SETS),
    same_layer=st.booleans(),
)
def test_plan_total_counts_the_portable_plans(
    start: int, goal: int, targets: tuple[str, ...], same_layer: bool
) -> None:
    bounds = SearchBounds(kernel_size=Bound(1, 3), stride=Bound(1, 2), dilation=Bound(1, 2))
    options = PlanOptions(min_layers=1, max_layers=2, monotonic=True, same_layer=same_layer)

    def score(n: int, params: DimParams) -> int:
        return steady_dim_score("balanced", params)

    everything = plan((start,), (goal,), bounds, options, step_score=score, limit=1000)
    assert everything.total <= 1000
    portable = [p for p in everything.plans if _plan_layers_port(p.steps, targets)]
    kept = plan(
        (start,), (goal,), replace(bounds, portable_to=targets), options, step_score=score, limit=1000
    )
    assert kept.total == len(portable)
    assert [(p.score, p.steps) for p in kept.plans] == [(p.score, p.steps) for p in portable]


def test_untied_keras_plans_are_refused() -> None:
    bounds = SearchBounds(portable_to=("keras",))
    with pytest.raises(SolverError, match="tie_dims"):
        plan_untied((4, 4), (8, 8), bounds, PlanOptions(1, 1), step_score=lambda p: 0)


@settings(max_examples=200)
@given(
    dims=st.lists(
        st.tuples(
            st.integers(1, 4), st.integers(1, 3), st.integers(1, 3), st.integers(0, 4), st.integers(0, 2)
        ),
        min_size=1,
        max_size=3,
    ),
    groups=st.sampled_from([1, 2]),
)
def test_portability_shortcut_is_the_verdicts(dims: list[tuple[int, ...]], groups: int) -> None:
    layer = [DimParams(*d) for d in dims]
    verdicts = portability(layer, groups)
    assert dict(verdicts) == {t: verdict(t, layer, groups) for t in TARGETS}
    assert (verdicts is ALL_EXACT) == all(v.status == "exact" for v in verdicts.values())


def test_nearest_sizes_of_a_filtered_search_port() -> None:
    # 5 -> 40 is out of reach; the nearest size offered must be the nearest that ports to Keras.
    bounds = SearchBounds(
        kernel_size=Bound(1, 4), stride=Bound(1, 3), dilation=Bound(1, 2), portable_to=("keras",)
    )
    result = search((5,), (40,), bounds=bounds)
    assert result.total == 0
    [below] = result.nearest
    assert verdict("keras", below.example.layer).status == "exact"
    # PyTorch's own nearest (stride 3 with dilation 2) is further out than Keras goes; nothing
    # between the two ports.
    [plain] = search((5,), (40,), bounds=replace(bounds, portable_to=())).nearest
    assert plain.output_size[0] > below.output_size[0]
    for size in range(below.output_size[0] + 1, plain.output_size[0] + 1):
        assert search((5,), (size,), bounds=bounds).total == 0
