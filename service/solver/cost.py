"""Parameter count and multiply-accumulates of a ConvTranspose layer, as torch counts them.

Every input element meets every tap of its group's filters once, so
``MACs = batch · in_channels · (out_channels / groups) · ∏ kernel_size · ∏ input_size``;
``torch.utils.flop_counter.FlopCounterMode`` reports 2 × that (it does not count the bias),
checked in tests/differential. Stride, padding and dilation change where products land, not
how many there are.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple


class LayerCost(NamedTuple):
    parameters: int
    macs: int


def layer_cost(
    input_size: Sequence[int],
    kernel_size: Sequence[int],
    *,
    in_channels: int = 1,
    out_channels: int = 1,
    groups: int = 1,
    batch_size: int = 1,
    bias: bool = True,
) -> LayerCost:
    """Parameters and MACs of one layer for its channel context (see the module docstring).

    >>> layer_cost((7, 7), (4, 4), in_channels=64, out_channels=32)
    LayerCost(parameters=32800, macs=1605632)
    """
    taps = math.prod(kernel_size)
    weights = in_channels * (out_channels // groups) * taps
    return LayerCost(
        parameters=weights + (out_channels if bias else 0),
        macs=batch_size * in_channels * (out_channels // groups) * taps * math.prod(input_size),
    )
