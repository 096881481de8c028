"""The all-ones experiment position by position, for pictures: one dimension's count at every output pixel.

``overlap.dim_overlap`` answers the statistics (min, max, holes, interior) without walking the
output; a picture needs every position, so this walks it, O(input_size · kernel_size). The n-D
map is the outer product of the per-dimension counts (see ``overlap.combine``), so these vectors
are all a picture needs. ``spread`` is the same walk kept apart, per input pixel, for the diagram
of how a dimension is built.
"""

from __future__ import annotations

from typing import NamedTuple

from service.solver.sizes import forward_size


class Spread(NamedTuple):
    """One dimension before cropping: where each input pixel's kernel taps land.

    ``taps[x]`` are the uncropped positions input pixel ``x`` reaches (``x·stride + t·dilation``);
    ``full_size`` is the length they span; the output keeps ``[padding, padding + output_size)``
    of it, the last ``output_padding`` positions of which lie past the full span (zeros, reached
    by nothing) when ``padding`` is smaller than ``output_padding``.
    """

    taps: tuple[tuple[int, ...], ...]
    full_size: int
    padding: int
    output_padding: int
    output_size: int


def spread(
    input_size: int, *, kernel_size: int, stride: int, dilation: int, padding: int, output_padding: int
) -> Spread:
    """Each input pixel's kernel footprint over the uncropped output.

    >>> s = spread(3, kernel_size=3, stride=2, dilation=1, padding=1, output_padding=1)
    >>> s.taps, s.full_size, s.output_size
    (((0, 1, 2), (2, 3, 4), (4, 5, 6)), 7, 6)
    """
    output_size = forward_size(
        input_size,
        kernel_size=kernel_size,
        stride=stride,
        padding=padding,
        output_padding=output_padding,
        dilation=dilation,
    )
    # The uncropped span is the output with neither padding cropped nor output_padding added.
    full_size = forward_size(
        input_size, kernel_size=kernel_size, stride=stride, padding=0, output_padding=0, dilation=dilation
    )
    taps = tuple(tuple(x * stride + t * dilation for t in range(kernel_size)) for x in range(input_size))
    return Spread(taps, full_size, padding, output_padding, output_size)


def dim_counts(
    input_size: int, *, kernel_size: int, stride: int, dilation: int, padding: int, output_padding: int
) -> tuple[int, ...]:
    """How many (input pixel, kernel tap) pairs reach each output position of one dimension.

    ``kernel 3, stride 2, padding 1, output_padding 1`` is the 1-2-1-2 checkerboard; ``kernel 4,
    stride 2, padding 1`` is even inside:

    >>> dim_counts(4, kernel_size=3, stride=2, dilation=1, padding=1, output_padding=1)
    (1, 2, 1, 2, 1, 2, 1, 1)
    >>> dim_counts(4, kernel_size=4, stride=2, dilation=1, padding=1, output_padding=0)
    (1, 2, 2, 2, 2, 2, 2, 1)
    """
    layer = spread(
        input_size,
        kernel_size=kernel_size,
        stride=stride,
        dilation=dilation,
        padding=padding,
        output_padding=output_padding,
    )
    counts = [0] * layer.output_size
    for footprint in layer.taps:
        for position in footprint:
            y = position - padding
            if 0 <= y < layer.output_size:
                counts[y] += 1
    return tuple(counts)
