"""The arithmetic overlap counts equal a direct count of (input pixel, tap) pairs."""

from __future__ import annotations

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from service.solver.overlap import dim_overlap


def direct_counts(i: int, k: int, s: int, d: int, p: int, op: int) -> list[int]:
    size = (i - 1) * s + d * (k - 1) + 1 - 2 * p + op
    counts = [0] * size
    for x in range(i):
        for t in range(k):
            y = x * s + t * d - p
            if 0 <= y < size:
                counts[y] += 1
    return counts


@settings(max_examples=1500)
@given(
    i=st.integers(1, 60),
    k=st.integers(1, 9),
    s=st.integers(1, 7),
    d=st.integers(1, 5),
    p=st.integers(0, 40),
    op=st.integers(0, 6),
)
def test_counts_equal_the_direct_count(i: int, k: int, s: int, d: int, p: int, op: int) -> None:
    assume(op < max(s, d))
    assume((i - 1) * s + d * (k - 1) + 1 - 2 * p + op >= 1)
    counts = direct_counts(i, k, s, d, p, op)
    result = dim_overlap(i, kernel_size=k, stride=s, dilation=d, padding=p, output_padding=op)
    assert result.output_size == len(counts)
    assert (result.min_count, result.max_count, result.holes) == (min(counts), max(counts), counts.count(0))
    interior = counts[result.interior_start : result.interior_stop]
    assert result.interior_counts == tuple(sorted(set(interior)))
    # The interior is exactly where every tap lands from inside the input.
    for y in range(len(counts)):
        q = y + p
        assert (result.interior_start <= y < result.interior_stop) == (d * (k - 1) <= q <= (i - 1) * s)
