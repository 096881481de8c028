"""Turn validated requests into solver calls and solver results into wire responses.

Shared by the single and batch endpoints, so a batch item is answered exactly as the
single endpoint would answer it.
"""

from __future__ import annotations

from collections.abc import Sequence

from service.api.schemas import (
    CandidateOut,
    ChannelContext,
    DimensionOut,
    ErrorInfo,
    LayerOut,
    NearestOut,
    SearchRequest,
    SearchResponse,
    ShapeRequest,
    ShapeResponse,
    VerificationOut,
)
from service.solver.enumeration import DimParams, SearchBounds
from service.solver.errors import SolverError
from service.solver.ranking import RankedCandidate
from service.solver.rules import check_layer
from service.solver.search import Budget, search
from service.solver.sizes import Dims, broadcast, derivation, resolve_ndim

LAYER_FIELDS = ("kernel_size", "stride", "padding", "output_padding", "dilation")
DEFAULTS = {"stride": 1, "padding": 0, "output_padding": 0, "dilation": 1}


def module_name(ndim: int) -> str:
    return f"ConvTranspose{ndim}d"


def _dims(value: int | Sequence[int], ndim: int, field: str) -> Dims:
    try:
        return broadcast(value, ndim, name=field)
    except ValueError as exc:
        raise SolverError("dimension_mismatch", str(exc), field=field) from exc


def _ndim(**sizes: int | Sequence[int]) -> int:
    try:
        return resolve_ndim(**sizes)
    except ValueError as exc:
        raise SolverError("dimension_mismatch", str(exc), field=next(iter(sizes))) from exc


def answer_shape(request: ShapeRequest) -> ShapeResponse:
    ndim = _ndim(input_size=request.input_size)
    input_size = _dims(request.input_size, ndim, "input_size")
    fields = {name: _dims(getattr(request, name), ndim, name) for name in LAYER_FIELDS}
    check = check_layer(
        input_size,
        **fields,
        in_channels=request.in_channels,
        out_channels=request.out_channels,
        groups=request.groups,
    )
    errors = [ErrorInfo(code=v.code, message=v.message, dim=v.dim) for v in check.violations]
    return ShapeResponse(
        valid=check.is_valid,
        output_size=list(check.output_size) if check.is_valid else None,
        error=errors[0] if errors else None,
        errors=errors,
        module=module_name(ndim),
        layer=LayerOut(**{name: list(value) for name, value in fields.items()}),
        dimensions=[
            DimensionOut(input_size=i, output_size=o, derivation=text)
            for i, o, text in zip(input_size, check.output_size, check.derivations, strict=True)
        ],
    )


def layer_out(layer: Sequence[DimParams]) -> LayerOut:
    return LayerOut(
        kernel_size=[p.kernel_size for p in layer],
        stride=[p.stride for p in layer],
        padding=[p.padding for p in layer],
        output_padding=[p.output_padding for p in layer],
        dilation=[p.dilation for p in layer],
    )


def snippet(layer: Sequence[DimParams], context: ChannelContext) -> str:
    """A PyTorch constructor for the layer: equal dimensions collapsed, defaults omitted.

    >>> snippet([DimParams(4, 2, 1, 1, 0)] * 2, ChannelContext(in_channels=64, out_channels=32))
    'nn.ConvTranspose2d(64, 32, kernel_size=4, stride=2, padding=1)'
    """
    args = [str(context.in_channels), str(context.out_channels)]
    for name in LAYER_FIELDS:
        values = [getattr(p, name) for p in layer]
        if len(set(values)) == 1:
            if name in DEFAULTS and values[0] == DEFAULTS[name]:
                continue
            args.append(f"{name}={values[0]}")
        else:
            args.append(f"{name}=({', '.join(map(str, values))}{',' if len(values) == 1 else ''})")
    if context.groups != 1:
        args.append(f"groups={context.groups}")
    if not context.bias:
        args.append("bias=False")
    return f"nn.{module_name(len(layer))}({', '.join(args)})"


def _candidate(
    found: RankedCandidate, request: SearchRequest, input_size: Dims, output_size: Dims
) -> CandidateOut:
    verification = None
    if request.verify != "none":
        verification = VerificationOut(
            status="unavailable", error="no verification worker is configured on this server"
        )
    return CandidateOut(
        rank=found.rank,
        layer=layer_out(found.layer),
        output_size=list(output_size),
        score=found.score,
        score_terms=found.terms,
        derivation=[derivation(i, **p._asdict()) for i, p in zip(input_size, found.layer, strict=True)],
        snippet=snippet(found.layer, request),
        verification=verification,
    )


def _channel_reason(context: ChannelContext) -> str | None:
    check = check_layer(
        (1,),
        kernel_size=(1,),
        stride=(1,),
        padding=(0,),
        output_padding=(0,),
        dilation=(1,),
        in_channels=context.in_channels,
        out_channels=context.out_channels,
        groups=context.groups,
    )
    return "; ".join(v.message for v in check.violations) or None


def search_bounds(request: SearchRequest) -> SearchBounds:
    return SearchBounds(
        kernel_size=request.kernel_size.to_bound(1),
        stride=request.stride.to_bound(1),
        dilation=request.dilation.to_bound(1),
        padding=request.padding.to_bound(0) if request.padding is not None else None,
        output_padding=request.output_padding.to_bound(0) if request.output_padding is not None else None,
    )


def search_work(request: SearchRequest) -> int:
    """Upper bound on the (kernel, stride, dilation) triples the solver visits, times dimensions."""
    sizes = [request.input_size, request.output_size]
    ndim = max((len(size) for size in sizes if isinstance(size, tuple)), default=2)
    bounds = search_bounds(request)
    return bounds.triple_count * ndim


def answer_search(request: SearchRequest, budget: Budget) -> SearchResponse:
    ndim = _ndim(input_size=request.input_size, output_size=request.output_size)
    input_size = _dims(request.input_size, ndim, "input_size")
    output_size = _dims(request.output_size, ndim, "output_size")
    channel_reason = _channel_reason(request)
    if channel_reason:
        # Like /v1/shape, a rule PyTorch enforces is an answer: nothing in the space is valid.
        return SearchResponse(
            total=0,
            candidates=[],
            objective=request.objective,
            tie_dims=request.tie_dims,
            module=module_name(ndim),
            input_size=list(input_size),
            output_size=list(output_size),
            offset=request.offset,
            limit=request.limit,
            reason=channel_reason,
        )
    result = search(
        input_size,
        output_size,
        bounds=search_bounds(request),
        tie_dims=request.tie_dims,
        objective=request.objective,
        offset=request.offset,
        limit=request.limit,
        budget=budget,
    )
    return SearchResponse(
        total=result.total,
        candidates=[_candidate(found, request, input_size, output_size) for found in result.candidates],
        objective=request.objective,
        tie_dims=request.tie_dims,
        module=module_name(ndim),
        input_size=list(input_size),
        output_size=list(output_size),
        offset=request.offset,
        limit=request.limit,
        reason=result.reason,
        nearest=[
            NearestOut(
                direction="below" if near.direction == "below" else "above",
                output_size=list(near.output_size),
                example=_candidate(near.example, request, input_size, near.output_size),
            )
            for near in result.nearest
        ],
    )
