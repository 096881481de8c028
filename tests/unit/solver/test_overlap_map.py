"""The position-by-position counts agree with the statistics the answers report (two walks, one truth)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from service.solver.overlap import dim_overlap
from service.solver.overlap_map import dim_counts, spread
from service.solver.sizes import forward_size


@st.composite
def dims(draw: st.DrawFn) -> dict[str, int]:
    kernel_size, stride, dilation = draw(st.integers(1, 7)), draw(st.integers(1, 6)), draw(st.integers(1, 3))
    padding = draw(st.integers(0, dilation * (kernel_size - 1)))
    output_padding = draw(st.integers(0, max(stride, dilation) - 1))
    layer = {
        "kernel_size": kernel_size,
        "stride": stride,
        "dilation": dilation,
        "padding": padding,
        "output_padding": output_padding,
    }
    input_size = draw(st.integers(1, 30))
    return {"input_size": input_size, **layer}


@settings(max_examples=300)
@given(layer=dims())
def test_counts_match_the_reported_statistics(layer: dict[str, int]) -> None:
    input_size = layer.pop("input_size")
    size = forward_size(input_size, **layer)
    if size < 1:
        return
    counts = dim_counts(input_size, **layer)
    stats = dim_overlap(input_size, **layer)
    assert len(counts) == size == stats.output_size
    assert (min(counts), max(counts)) == (stats.min_count, stats.max_count)
    assert counts.count(0) == stats.holes
    interior = counts[stats.interior_start : stats.interior_stop]
    assert tuple(sorted(set(interior))) == stats.interior_counts


def test_spread_places_every_tap_of_every_input_pixel() -> None:
    layer = spread(4, kernel_size=3, stride=2, dilation=2, padding=1, output_padding=1)
    assert layer.taps == ((0, 2, 4), (2, 4, 6), (4, 6, 8), (6, 8, 10))
    assert layer.full_size == 11  # the last tap's position + 1
    assert layer.output_size == 11 - 2 * 1 + 1
