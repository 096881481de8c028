"""solve_dim against a plain loop over every padding and output_padding (no torch needed)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.solver.enumeration import Bound, SearchBounds, _solve_pair_uncached, _Solved, solve_dim
from service.solver.errors import SolverError
from service.solver.sizes import forward_size

bounds = st.one_of(
    st.none(),
    st.tuples(st.integers(0, 6), st.integers(0, 6)).map(lambda t: Bound(min(t), max(t))),
    st.lists(st.integers(0, 8), min_size=1, max_size=5).map(Bound.of_values),
)


@settings(max_examples=400)
@given(
    i=st.integers(1, 12),
    o=st.integers(1, 40),
    k=st.integers(1, 6),
    s=st.integers(1, 5),
    d=st.integers(1, 4),
    padding=bounds,
    output_padding=bounds,
)
def test_solve_dim_equals_the_loop(
    i: int, o: int, k: int, s: int, d: int, padding: Bound | None, output_padding: Bound | None
) -> None:
    pads = padding if padding is not None else Bound(0, d * (k - 1))
    ops = output_padding if output_padding is not None else Bound(0, max(s, d) - 1)
    expected = [
        p
        for p in pads
        for op in ops
        if op < max(s, d)
        and forward_size(i, kernel_size=k, stride=s, padding=p, output_padding=op, dilation=d) == o
    ]
    got = list(
        solve_dim(i, o, kernel_size=k, stride=s, dilation=d, padding=padding, output_padding=output_padding)
    )
    assert got == expected


def test_bound_membership_and_slices() -> None:
    values = Bound.of_values([9, 1, 5, 5])
    assert list(values) == [1, 5, 9]
    assert len(values) == 3
    assert list(values.within(2, 9)) == [5, 9]
    assert 5 in values
    assert 4 not in values
    assert list(Bound(2, 4).within(0, 3)) == [2, 3]


@settings(max_examples=60, deadline=None)
@given(
    input_size=st.integers(1, 40),
    output_size=st.integers(1, 120),
    kernel=st.integers(1, 40),
    stride=st.integers(1, 40),
    max_work=st.integers(0, 60_000),
    max_options=st.integers(0, 3_000),
)
def test_a_refusal_while_solving_is_the_refusal_of_the_whole_table(
    input_size: int, output_size: int, kernel: int, stride: int, max_work: int, max_options: int
) -> None:
    """Solving stops at the budget (issue 14), with the verdict the whole table would get."""

    bounds = SearchBounds(kernel_size=Bound(1, kernel), stride=Bound(1, stride), dilation=Bound(1, 2))
    whole = _Solved.of(_solve_pair_uncached(input_size, output_size, bounds, None, None))
    over = whole.options > max_options or whole.work > max_work
    if over:
        with pytest.raises(SolverError) as refused:
            _solve_pair_uncached(input_size, output_size, bounds, max_options, max_work)
        assert refused.value.code == "space_too_large"
    else:
        assert _solve_pair_uncached(input_size, output_size, bounds, max_options, max_work) == whole.table
