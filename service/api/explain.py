"""A layer's explanation as JSON-ready dicts: arrays, derivations, cost and the overlap analysis.

These parts are built for every /v1/shape answer (up to 10,000 per batch call) and every search
candidate, so they are plain dicts that orjson encodes in one pass, not models that would be
built and then dumped. Their shapes are those of ``LayerOut``, ``CostOut`` and ``OverlapOut`` in
schemas.py, which document them; tests/api/test_fast_paths.py validates generated answers
against those models and these dicts against the solver's own functions.

The per-dimension overlap dicts are cached and shared between answers: they are a pure function
of one dimension's layer and input size, and nothing mutates an answer after it is built.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from service.solver.cost import layer_cost
from service.solver.enumeration import DimParams
from service.solver.overlap import DimOverlap, combine, dim_overlap, periodic_pattern
from service.solver.portability import ALL_EXACT, portability
from service.solver.ranking import artifacts
from service.solver.sizes import Dims, formula
from service.wire.schemas import LayerOut

LAYER_FIELDS = ("kernel_size", "stride", "padding", "output_padding", "dilation")
DEFAULTS = {"stride": 1, "padding": 0, "output_padding": 0, "dilation": 1}

JSON = dict[str, Any]


def module_name(ndim: int) -> str:
    return f"ConvTranspose{ndim}d"


def layer_out(layer: Sequence[DimParams]) -> LayerOut:
    return LayerOut(**layer_dict(layer))


def layer_dict(layer: Sequence[DimParams]) -> JSON:
    k, s, d, p, op = map(list, zip(*layer, strict=True))  # DimParams' field order
    return {"kernel_size": k, "stride": s, "padding": p, "output_padding": op, "dilation": d}


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
    return layer_cost(
        input_size,
        kernel_size,
        in_channels=in_channels,
        out_channels=out_channels,
        groups=groups,
        batch_size=batch_size,
        bias=bias,
    )._asdict()


@functools.lru_cache(maxsize=1 << 16)
def _dim_overlap(i: int, p: DimParams) -> tuple[DimOverlap, tuple[bool, bool], JSON]:
    dim = dim_overlap(i, kernel_size=p[0], stride=p[1], dilation=p[2], padding=p[3], output_padding=p[4])
    return (
        dim,
        artifacts(p, i),
        {
            "min_count": dim.min_count,
            "max_count": dim.max_count,
            "holes": dim.holes,
            "interior": [dim.interior_start, dim.interior_stop],
            "interior_counts": list(dim.interior_counts),
            "checkerboard": dim.is_checkerboard,
            "periodic_counts": list(periodic_pattern(p[0], p[1], p[2]).counts),
        },
    )


def overlap_dict(input_size: Sequence[int], layer: Sequence[DimParams]) -> JSON:
    """The n-D overlap statistics (``solver.overlap.combine``) with each dimension's.

    >>> o = overlap_dict((7, 7), [DimParams(3, 2, 1, 1, 1)] * 2)
    >>> o["min_count"], o["max_count"], o["holes"], o["checkerboard"], o["uniform_interior"]
    (1, 4, 0, True, False)
    """
    parts = [_dim_overlap(i, p) for i, p in zip(input_size, layer, strict=True)]
    overlap = combine([dim for dim, _, _ in parts])
    return {
        "min_count": overlap.min_count,
        "max_count": overlap.max_count,
        "holes": overlap.holes,
        "uniform_interior": overlap.uniform_interior,
        "checkerboard": overlap.is_checkerboard,
        "artifacts": {
            "holes": any(holes for _, (holes, _), _ in parts),
            "checkerboard": any(checkerboard for _, (_, checkerboard), _ in parts),
        },
        "dims": [out for _, _, out in parts],
    }


_ALL_EXACT: JSON = {target: verdict._asdict() for target, verdict in ALL_EXACT.items()}


def portability_dict(layer: tuple[DimParams, ...], groups: int = 1) -> JSON:
    """Each export target's verdict (``solver.portability``), as ``PortabilityOut`` documents it.

    The all-exact answer (most layers) is one shared dict, like the cached overlap dicts.

    >>> portability_dict((DimParams(2, 1, 2, 0, 1),))["onnx"]["status"]
    'refused'
    """
    verdicts = portability(layer, groups)
    return _ALL_EXACT if verdicts is ALL_EXACT else _refusals_dict(layer, groups)


@functools.lru_cache(maxsize=1 << 12)
def _refusals_dict(layer: tuple[DimParams, ...], groups: int) -> JSON:
    # Worded refusals cost ~20 µs; a batch repeats its layers, so each is worded once.
    return {target: verdict._asdict() for target, verdict in portability(layer, groups).items()}


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
