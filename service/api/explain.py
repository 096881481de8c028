"""A layer's explanation as JSON-ready dicts: arrays, derivations, cost and the overlap analysis.

These parts are built for every /v1/shape answer (up to 10,000 per batch call) and every search
candidate, so they are plain dicts that pydantic-core serialises in one pass, not models that
would be built and then dumped. Their shapes are those of ``LayerOut``, ``CostOut`` and
``OverlapOut`` in schemas.py, which document them; tests/unit/api/test_explain.py validates the
dicts against those models.

The per-dimension overlap dicts are cached and shared between answers: they are a pure function
of one dimension's layer and input size, and nothing mutates an answer after it is built.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from typing import Any

from service.solver.enumeration import DimParams
from service.solver.overlap import DimOverlap, dim_overlap
from service.solver.sizes import Dims, formula

LAYER_FIELDS = ("kernel_size", "stride", "padding", "output_padding", "dilation")
DEFAULTS = {"stride": 1, "padding": 0, "output_padding": 0, "dilation": 1}

JSON = dict[str, Any]


def module_name(ndim: int) -> str:
    return f"ConvTranspose{ndim}d"


def layer_dict(layer: Sequence[DimParams]) -> JSON:
    return {
        "kernel_size": [p.kernel_size for p in layer],
        "stride": [p.stride for p in layer],
        "padding": [p.padding for p in layer],
        "output_padding": [p.output_padding for p in layer],
        "dilation": [p.dilation for p in layer],
    }


def derivation_text(i: int, p: DimParams) -> str:
    """``sizes.derivation`` for one dimension given as DimParams.

    >>> derivation_text(7, DimParams(4, 2, 1, 1, 0))
    '(7-1)·2 − 2·1 + 1·(4−1) + 0 + 1 = 14'
    """
    return formula(i, p.kernel_size, p.stride, p.padding, p.output_padding, p.dilation)


def cost_dict(
    input_size: Dims,
    kernel_size: Sequence[int],
    *,
    in_channels: int,
    out_channels: int,
    groups: int,
    batch_size: int,
    bias: bool,
) -> JSON:
    """``solver.cost.layer_cost`` as a dict (the same formula; see that module for why it holds)."""
    weights = in_channels * (out_channels // groups) * math.prod(kernel_size)
    return {
        "parameters": weights + (out_channels if bias else 0),
        "macs": batch_size * weights * math.prod(input_size),
    }


@functools.lru_cache(maxsize=1 << 16)
def _dim_overlap(i: int, p: DimParams) -> tuple[DimOverlap, JSON]:
    dim = dim_overlap(i, kernel_size=p[0], stride=p[1], dilation=p[2], padding=p[3], output_padding=p[4])
    return dim, {
        "min_count": dim.min_count,
        "max_count": dim.max_count,
        "holes": dim.holes,
        "interior": [dim.interior_start, dim.interior_stop],
        "interior_counts": list(dim.interior_counts),
        "checkerboard": dim.is_checkerboard,
    }


def overlap_dict(input_size: Sequence[int], layer: Sequence[DimParams]) -> JSON:
    """The n-D overlap statistics from the per-dimension ones (``solver.overlap.Overlap``'s rules:
    counts multiply, a pixel is a hole where any dimension has one).

    >>> o = overlap_dict((7, 7), [DimParams(3, 2, 1, 1, 1)] * 2)
    >>> o["min_count"], o["max_count"], o["holes"], o["checkerboard"], o["uniform_interior"]
    (1, 4, 0, True, False)
    """
    # One pass over the dimensions, no generators: this runs for every answer of a batch.
    low = high = size = reached = 1
    counts = {1}
    checkerboard, has_interior = False, True
    dims_out = []
    for i, p in zip(input_size, layer, strict=True):
        dim, out = _dim_overlap(i, p)
        dims_out.append(out)
        low *= dim.min_count
        high *= dim.max_count
        size *= dim.output_size
        reached *= dim.output_size - dim.holes
        checkerboard = checkerboard or len(dim.interior_counts) > 1
        has_interior = has_interior and dim.interior_stop > dim.interior_start
        counts = {v * c for v in counts for c in dim.interior_counts}
    return {
        "min_count": low,
        "max_count": high,
        "holes": size - reached,
        "uniform_interior": len(counts) == 1 if has_interior else None,
        "checkerboard": checkerboard,
        "dims": dims_out,
    }


@functools.lru_cache(maxsize=1 << 14)
def snippet(
    layer: tuple[DimParams, ...],
    in_channels: int = 1,
    out_channels: int = 1,
    groups: int = 1,
    bias: bool = True,
) -> str:
    """A PyTorch constructor for the layer: equal dimensions collapsed, defaults omitted.

    >>> snippet((DimParams(4, 2, 1, 1, 0),) * 2, 64, 32)
    'nn.ConvTranspose2d(64, 32, kernel_size=4, stride=2, padding=1)'
    """
    args = [str(in_channels), str(out_channels)]
    for name in LAYER_FIELDS:
        values = [getattr(p, name) for p in layer]
        if len(set(values)) == 1:
            if name in DEFAULTS and values[0] == DEFAULTS[name]:
                continue
            args.append(f"{name}={values[0]}")
        else:
            args.append(f"{name}=({', '.join(map(str, values))}{',' if len(values) == 1 else ''})")
    if groups != 1:
        args.append(f"groups={groups}")
    if not bias:
        args.append("bias=False")
    return f"nn.{module_name(len(layer))}({', '.join(args)})"
