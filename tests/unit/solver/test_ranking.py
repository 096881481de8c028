"""Pages of the ranked list equal slices of the fully sorted space, at any offset, tied and untied."""

from __future__ import annotations

import functools
import itertools
import math

from hypothesis import given, settings
from hypothesis import strategies as st

from service.solver.enumeration import Bound, SearchBounds, build_space
from service.solver.overlap import overlap_of_layer
from service.solver.ranking import OBJECTIVES, Objective, rank_space


def fully_sorted(space, objective):  # type: ignore[no-untyped-def]
    """The reference order, by brute force: materialise and sort the whole cross product."""
    layers = []
    for per_dim in space.groups:
        layers.extend(itertools.product(*per_dim))
    reduce = math.prod if objective.combine == "product" else sum
    dim_score = functools.cache(objective.dim_score)
    scored = [
        (
            reduce(
                dim_score(p, i, o) for p, i, o in zip(layer, space.input_size, space.output_size, strict=True)
            ),
            layer,
        )
        for layer in layers
    ]
    return sorted(scored)


@settings(max_examples=150)
@given(
    ndim=st.integers(1, 3),
    tie_dims=st.booleans(),
    input_size=st.integers(1, 9),
    scale=st.integers(1, 4),
    delta=st.integers(-3, 3),
    objective=st.sampled_from(sorted(OBJECTIVES)),
    offset=st.integers(0, 400),
    limit=st.integers(1, 50),
    sort_below=st.sampled_from([0, 256]),
    portable_to=st.sampled_from([(), ("keras",), ("onnx",)]),
)
def test_pages_are_slices_of_the_sorted_space(
    ndim: int,
    tie_dims: bool,
    input_size: int,
    scale: int,
    delta: int,
    objective: str,
    offset: int,
    limit: int,
    sort_below: int,
    portable_to: tuple[str, ...],
) -> None:
    """Both paths (sorted, and the histogram of large spaces) against brute force, ties included:
    untied ``portable_to: keras`` spaces are a union of interleaved products."""
    output = max(1, input_size * scale + delta)
    bounds = SearchBounds(
        kernel_size=Bound(1, 5), stride=Bound(1, 4), dilation=Bound(1, 2), portable_to=portable_to
    )
    space = build_space(
        (input_size,) * ndim,
        (output,) + (input_size * scale,) * (ndim - 1),
        bounds,
        tie_dims=tie_dims,
        max_triples=10**6,
        max_options=10**6,
    )
    ranked = rank_space(space, objective, sort_below=sort_below)
    reference = fully_sorted(space, OBJECTIVES[objective])
    assert ranked.total == len(reference) == space.total
    page = ranked.page(offset=offset, limit=limit)
    expected = reference[offset : offset + limit]
    assert [(c.score, c.layer) for c in page] == expected
    assert [c.rank for c in page] == list(range(offset + 1, offset + 1 + len(expected)))
    reduce = math.prod if OBJECTIVES[objective].combine == "product" else sum
    for candidate in page:
        assert reduce(candidate.terms.values()) == candidate.score


@functools.cache
def has_artifact(layer, input_size) -> bool:  # type: ignore[no-untyped-def]
    """Holes or a checkerboard in some dimension's periodic pattern (taps counted per residue class
    of the stride), or, over a 1-pixel input, in the output itself."""
    for params, size in zip(layer, input_size, strict=True):
        if size == 1:
            own = overlap_of_layer((1,), [params])
            if own.holes > 0 or own.is_checkerboard:
                return True
            continue
        k, s, d = params.kernel_size, params.stride, params.dilation
        counts = [sum(1 for t in range(k) if t * d % s == r) for r in range(s)]
        if 0 in counts or len(set(counts)) > 1:
            return True
    return False


def test_artifacts_are_the_layers_not_the_small_inputs() -> None:
    # 4 -> 8: kernel 7, stride 2 is uneven over any long input; at 4 pixels it has no interior.
    ranked = rank_space(build_space((4, 4), (8, 8), SearchBounds(), max_triples=10**6, max_options=10**6))
    order = [(c.layer[0].kernel_size, c.layer[0].stride) for c in ranked.page(limit=ranked.total)]
    assert order.index((5, 1)) < order.index((7, 2))
    assert has_artifact(ranked.page(offset=order.index((7, 2)), limit=1)[0].layer, (4, 4))


def test_over_one_pixel_the_stride_one_form_ranks_first() -> None:
    # DCGAN's first layer: 1 -> 4 is kernel 4, stride 1, padding 0.
    ranked = rank_space(build_space((1, 1), (4, 4), SearchBounds(), max_triples=10**6, max_options=10**6))
    first = ranked.page(limit=1)[0].layer[0]
    assert (first.kernel_size, first.stride, first.padding, first.output_padding) == (4, 1, 0, 0)
    assert ranked.terms(ranked.page(limit=1)[0].layer)["unused_stride"] == 0


def test_balanced_puts_artifact_free_layers_first_for_7_to_14() -> None:
    ranked = rank_space(build_space((7, 7), (14, 14), SearchBounds(), max_triples=10**6, max_options=10**6))
    top = ranked.page(limit=5)
    assert not any(has_artifact(c.layer, (7, 7)) for c in top)
    assert top[0].layer[0] == (2, 2, 1, 0, 0)
    assert top[1].layer[0] == (4, 2, 1, 1, 0)


spaces = st.builds(
    lambda ndim, tie, i, scale, delta: (ndim, tie, i, max(1, i * scale + delta)),
    st.integers(1, 3),
    st.booleans(),
    st.integers(1, 7),
    st.integers(1, 3),
    st.integers(-2, 2),
)


def whole_list(space_args, objective: str | Objective, page_size: int):  # type: ignore[no-untyped-def]
    ndim, tie_dims, i, o = space_args
    bounds = SearchBounds(kernel_size=Bound(1, 5), stride=Bound(1, 3), dilation=Bound(1, 2))
    space = build_space(
        (i,) * ndim, (o,) * ndim, bounds, tie_dims=tie_dims, max_triples=10**6, max_options=10**6
    )
    ranked = rank_space(space, objective, sort_below=0)
    out = []
    while len(out) < ranked.total:
        out.extend(ranked.page(offset=len(out), limit=page_size))
    return (i,) * ndim, out


@settings(max_examples=30)
@given(space_args=spaces, objective=st.sampled_from(["quality", "balanced"]), page_size=st.integers(7, 60))
def test_no_artifact_ranks_above_a_clean_layer(space_args, objective: str, page_size: int) -> None:  # type: ignore[no-untyped-def]
    input_size, ranked = whole_list(space_args, objective, page_size)
    flags = [has_artifact(c.layer, input_size) for c in ranked]
    # Once an artifact appears, no clean layer follows.
    assert flags == sorted(flags)


@settings(max_examples=30)
@given(space_args=spaces, page_size=st.integers(7, 60))
def test_cost_never_decreases_down_the_list(space_args, page_size: int) -> None:  # type: ignore[no-untyped-def]
    _input_size, ranked = whole_list(space_args, "cost", page_size)
    taps = [math.prod(p.kernel_size for p in c.layer) for c in ranked]
    assert taps == sorted(taps)
    assert [c.score for c in ranked] == taps


@settings(max_examples=30)
@given(space_args=spaces, objective=st.sampled_from(sorted(OBJECTIVES)), page_size=st.integers(7, 60))
def test_every_objective_is_a_total_order_stable_across_pages(  # type: ignore[no-untyped-def]
    space_args, objective: str, page_size: int
) -> None:
    _, paged = whole_list(space_args, objective, page_size)
    _, whole = whole_list(space_args, objective, 10**6)
    assert [c.layer for c in paged] == [c.layer for c in whole]
    assert len({c.layer for c in whole}) == len(whole)
    keys = [(c.score, c.layer) for c in whole]
    assert keys == sorted(keys)
    assert len(set(keys)) == len(keys)


def test_a_tied_space_of_many_small_groups_is_sorted_and_pages_as_the_histogram_does() -> None:
    """A 1-pixel input makes every stride a group: past 256 layers, such a space is still sorted
    (bucketing costs per group), up to 256 layers per group, 16 groups' worth at most."""
    space = build_space((1, 1), (2, 2), SearchBounds(), max_triples=10**6, max_options=10**6)
    assert 256 < space.total <= 256 * min(len(space.groups), 16)
    ranked = rank_space(space)
    assert ranked._sorted is not None
    assert ranked._root is None
    bucketed = rank_space(space, sort_below=0)
    assert bucketed._root is not None
    for offset in (0, 7, 250, 295):
        page = [(c.rank, c.score, c.layer) for c in ranked.page(offset=offset, limit=10)]
        assert page == [(c.rank, c.score, c.layer) for c in bucketed.page(offset=offset, limit=10)]
    assert rank_space(space, sort_below=space.total // 16 - 1)._root is not None  # the bound holds
