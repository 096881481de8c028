"""Nearest reachable sizes of an empty search, against a plain loop over every layer."""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

from service.solver.enumeration import Bound, SearchBounds
from service.solver.reachable import reach_any
from service.solver.search import search
from service.solver.sizes import forward_size

_PAD_OR_OP = st.one_of(
    st.none(),
    st.tuples(st.integers(0, 5), st.integers(0, 5)).map(lambda t: Bound(min(t), max(t))),
    st.lists(st.integers(0, 6), min_size=1, max_size=4).map(Bound.of_values),
)


def _reachable(i: int, bounds: SearchBounds) -> set[int]:
    found = set()
    for k, s, d in bounds.triples():
        pads = bounds.padding or Bound(0, d * (k - 1))
        ops = [op for op in (bounds.output_padding or Bound(0, 1023)) if op < max(s, d)]
        for p in pads:
            for op in ops:
                out = forward_size(i, kernel_size=k, stride=s, padding=p, output_padding=op, dilation=d)
                if out >= 1:
                    found.add(out)
    return found


@settings(max_examples=300)
@given(
    i=st.integers(1, 12),
    o=st.integers(1, 120),
    ndim=st.integers(1, 3),
    kernels=st.one_of(
        st.tuples(st.integers(1, 6), st.integers(1, 6)).map(lambda t: Bound(min(t), max(t))),
        st.lists(st.integers(1, 7), min_size=1, max_size=3).map(Bound.of_values),
    ),
    s=st.tuples(st.integers(1, 5), st.integers(1, 5)).map(sorted),
    dilations=st.lists(st.integers(1, 3), min_size=1, max_size=2),
    padding=_PAD_OR_OP,
    output_padding=_PAD_OR_OP,
    tie_dims=st.booleans(),
)
# Stride and dilation 1: only padding moves the output, in steps of 2, so 5 -> 5 is out of reach.
@example(
    i=5,
    o=5,
    ndim=2,
    kernels=Bound(2, 2),
    s=[1, 1],
    dilations=[1],
    padding=None,
    output_padding=None,
    tie_dims=True,
)
def test_nearest_sizes_of_a_square_request_are_the_closest_reachable_ones(
    i: int,
    o: int,
    ndim: int,
    kernels: Bound,
    s: list[int],
    dilations: list[int],
    padding: Bound | None,
    output_padding: Bound | None,
    tie_dims: bool,
) -> None:
    bounds = SearchBounds(
        kernel_size=kernels,
        stride=Bound(*s),
        dilation=Bound.of_values(dilations),
        padding=padding,
        output_padding=output_padding,
    )
    result = search((i,) * ndim, (o,) * ndim, bounds=bounds, tie_dims=tie_dims)
    reachable = _reachable(i, bounds)
    assert (result.total > 0) == (o in reachable)
    if result.total:
        return
    below = max((v for v in reachable if v < o), default=None)
    above = min((v for v in reachable if v > o), default=None)
    expected = [(name, (v,) * ndim) for name, v in (("below", below), ("above", above)) if v is not None]
    assert [(near.direction, near.output_size) for near in result.nearest] == expected
    for near in result.nearest:
        assert near.example.layer
        assert all(
            forward_size(i, **p._asdict()) == v
            for p, v in zip(near.example.layer, near.output_size, strict=True)
        )


@settings(max_examples=300)
@given(
    i=st.integers(1, 12),
    o=st.integers(1, 60),
    kernels=st.lists(st.integers(1, 7), min_size=1, max_size=3).map(Bound.of_values),
    strides=st.lists(st.integers(1, 3), min_size=1, max_size=2).map(Bound.of_values),
    dilations=st.lists(st.integers(1, 3), min_size=1, max_size=2).map(Bound.of_values),
)
# Kernels of both parities at stride and dilation 1: 6 is reached by kernel 2 alone.
@example(i=5, o=6, kernels=Bound.of_values([2, 3]), strides=Bound(1, 1), dilations=Bound(1, 1))
def test_reach_any_is_the_union_over_the_family(
    i: int, o: int, kernels: Bound, strides: Bound, dilations: Bound
) -> None:
    bounds = SearchBounds(kernel_size=kernels, stride=strides, dilation=dilations)
    reachable = _reachable(i, bounds)
    assert reach_any(i, o, bounds) == (
        o in reachable,
        max((v for v in reachable if v < o), default=None),
        min((v for v in reachable if v > o), default=None),
    )


def test_a_nearest_size_that_ports_nowhere_ends_the_search() -> None:
    # Keras ports no stride > 1 with dilation 2, and padding 4 leaves stride 1 far below 256: the
    # nearest sizes' own searches are empty too. They are not explained in turn (that recursed
    # without end, a RecursionError); the answer offers no nearest size.
    bounds = SearchBounds(dilation=Bound(2, 2), padding=Bound(4, 4), portable_to=("keras",))
    result = search((27, 27), (256, 256), bounds=bounds, objective="conventional")
    assert result.total == 0
    assert result.reason is not None
    assert result.nearest == ()
