"""One dimension of a ConvTranspose layer: the unit the solver enumerates, ranks and exports."""

from __future__ import annotations

from typing import NamedTuple


class DimParams(NamedTuple):
    """One dimension of a layer. Field order is the documented tie-break order."""

    kernel_size: int
    stride: int
    dilation: int
    padding: int
    output_padding: int
