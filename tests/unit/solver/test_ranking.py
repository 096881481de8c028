"""Pages of the ranked list equal slices of the fully sorted space, at any offset, tied and untied."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.solver.enumeration import Bound, SearchBounds, build_space
from service.solver.ranking import OBJECTIVES, overlap_is_uneven, rank_space


def fully_sorted(space, objective):  # type: ignore[no-untyped-def]
    """The reference order, by brute force: materialise and sort the whole cross product."""
    layers = []
    for per_dim in space.groups:
        layers.extend(itertools.product(*per_dim))
    scored = [
        (
            sum(
                objective.dim_score(p, i, o)
                for p, i, o in zip(layer, space.input_size, space.output_size, strict=True)
            ),
            layer,
        )
        for layer in layers
    ]
    return sorted(scored)


@settings(max_examples=120)
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
) -> None:
    output = max(1, input_size * scale + delta)
    bounds = SearchBounds(kernel_size=Bound(1, 5), stride=Bound(1, 4), dilation=Bound(1, 2))
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
    for candidate in page:
        assert sum(candidate.terms.values()) == candidate.score


def test_balanced_puts_artifact_free_layers_first_for_7_to_14() -> None:
    ranked = rank_space(build_space((7, 7), (14, 14), SearchBounds(), max_triples=10**6, max_options=10**6))
    top = ranked.page(limit=5)
    for candidate in top:
        k, s, d, p, op = candidate.layer[0]
        assert not overlap_is_uneven(k, s, d)
        assert op <= p
    assert top[0].layer[0] == (2, 2, 1, 0, 0)
    assert top[1].layer[0] == (4, 2, 1, 1, 0)


@pytest.mark.parametrize(
    ("kernel_size", "stride", "dilation", "uneven"),
    [(4, 2, 1, False), (3, 2, 1, True), (1, 2, 1, True), (3, 1, 2, False), (4, 2, 3, False), (4, 2, 2, True)],
)
def test_overlap_is_uneven_matches_the_all_ones_interior(
    kernel_size: int, stride: int, dilation: int, uneven: bool
) -> None:
    # Count contributions to interior positions of a long all-ones input directly.
    length = 64
    counts = [0] * ((length - 1) * stride + dilation * (kernel_size - 1) + 1)
    for j in range(length):
        for t in range(kernel_size):
            counts[j * stride + t * dilation] += 1
    interior = counts[dilation * (kernel_size - 1) : (length - 1) * stride + 1]
    assert (len(set(interior)) > 1) == uneven
    assert overlap_is_uneven(kernel_size, stride, dilation) == uneven
