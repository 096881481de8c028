"""Turn validated requests into solver calls and solver results into wire responses.

Shared by the single and batch endpoints, so a batch item is answered exactly as the
single endpoint would answer it.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence

from pydantic import ValidationError

from service.api.errors import validation_details
from service.api.explain import JSON
from service.api.schemas import (
    BatchError,
    CandidateOut,
    ChannelContext,
    CostOut,
    DimOverlapOut,
    ErrorBody,
    ErrorInfo,
    ExactSizesOut,
    InvertRequest,
    InvertResponse,
    LayerBounds,
    LayerOut,
    NearestOut,
    OverlapOut,
    PlanOut,
    PlanRequest,
    PlanResponse,
    SearchBatchRequest,
    SearchBatchResponse,
    SearchRequest,
    SearchResponse,
    ShapeRequest,
)
from service.api.shape_answers import shape_answer
from service.solver.cost import layer_cost
from service.solver.enumeration import DimParams, SearchBounds, triple_budget_error
from service.solver.errors import SolverError
from service.solver.overlap import overlap_of_layer
from service.solver.planning import ConvLayer, exact_input_sizes, invert_encoder
from service.solver.plans import PlanOptions, classes_of, plan, plan_untied
from service.solver.ranking import RankedCandidate, steady_dim_score
from service.solver.rules import check_layer
from service.solver.search import Budget, search
from service.solver.sizes import Dims, broadcast, derivation, resolve_ndim

LAYER_FIELDS = ("kernel_size", "stride", "padding", "output_padding", "dilation")
PARAM_ORDER = DimParams._fields
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


def _cost(input_size: Dims, kernel_size: Dims, context: ChannelContext) -> CostOut:
    cost = layer_cost(
        input_size,
        kernel_size,
        in_channels=context.in_channels,
        out_channels=context.out_channels,
        groups=context.groups,
        batch_size=context.batch_size,
        bias=context.bias,
    )
    return CostOut(parameters=cost.parameters, macs=cost.macs)


def overlap_out(input_size: Dims, layer: Sequence[DimParams]) -> OverlapOut:
    return _overlap_out(tuple(input_size), tuple(layer))


@functools.lru_cache(maxsize=1 << 15)
def _overlap_out(input_size: Dims, layer: tuple[DimParams, ...]) -> OverlapOut:
    # A pure function of (input size, layer): popular layers are explained once. Callers never
    # mutate the model they get.
    overlap = overlap_of_layer(input_size, layer)
    return OverlapOut(
        min_count=overlap.min_count,
        max_count=overlap.max_count,
        holes=overlap.holes,
        uniform_interior=overlap.uniform_interior,
        checkerboard=overlap.is_checkerboard,
        dims=[
            DimOverlapOut(
                min_count=dim.min_count,
                max_count=dim.max_count,
                holes=dim.holes,
                interior=[dim.interior_start, dim.interior_stop],
                interior_counts=list(dim.interior_counts),
                checkerboard=dim.is_checkerboard,
            )
            for dim in overlap.dims
        ],
    )


def answer_shape(request: ShapeRequest) -> JSON:
    """The /v1/shape answer, a dict shaped as ShapeResponse (shape_answers.py builds it)."""
    return shape_answer(request.model_dump())


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
    return CandidateOut(
        rank=found.rank,
        layer=layer_out(found.layer),
        output_size=list(output_size),
        score=found.score,
        score_terms=found.terms,
        derivation=[derivation(i, **p._asdict()) for i, p in zip(input_size, found.layer, strict=True)],
        snippet=snippet(found.layer, request),
        cost=_cost(input_size, tuple(p.kernel_size for p in found.layer), request),
        overlap=overlap_out(input_size, found.layer),
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


def search_bounds(request: LayerBounds) -> SearchBounds:
    return SearchBounds(
        kernel_size=request.kernel_size.to_bound(1),
        stride=request.stride.to_bound(1),
        dilation=request.dilation.to_bound(1),
        padding=request.padding.to_bound(0) if request.padding is not None else None,
        output_padding=request.output_padding.to_bound(0) if request.output_padding is not None else None,
    )


def search_ndim(request: SearchRequest) -> int:
    sizes = [request.input_size, request.output_size]
    return max((len(size) for size in sizes if isinstance(size, tuple)), default=2)


def search_work(request: SearchRequest) -> int:
    """Upper bound on the (kernel, stride, dilation) triples the solver visits, times dimensions."""
    return search_bounds(request).triple_count * search_ndim(request)


def answer_search(request: SearchRequest, budget: Budget) -> SearchResponse:
    ndim = _ndim(input_size=request.input_size, output_size=request.output_size)
    input_size = _dims(request.input_size, ndim, "input_size")
    output_size = _dims(request.output_size, ndim, "output_size")
    echo = {
        "objective": request.objective,
        "tie_dims": request.tie_dims,
        "module": module_name(ndim),
        "input_size": list(input_size),
        "output_size": list(output_size),
        "offset": request.offset,
        "limit": request.limit,
    }
    if request.objective == "latency":
        # Only /v1/search can measure (see api.verification); batches and solver calls cannot.
        raise SolverError(
            "objective_unavailable",
            "objective 'latency' measures every candidate on the worker and is answered by /v1/search "
            "only; use 'balanced', 'quality', 'cost' or 'conventional' here",
            field="objective",
        )
    channel_reason = _channel_reason(request)
    if channel_reason:
        # Like /v1/shape, a rule PyTorch enforces is an answer: nothing in the space is valid.
        return SearchResponse(total=0, candidates=[], reason=channel_reason, **echo)
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
        reason=result.reason,
        nearest=[
            NearestOut(
                direction="below" if near.direction == "below" else "above",
                output_size=list(near.output_size),
                example=_candidate(near.example, request, input_size, near.output_size),
            )
            for near in result.nearest
        ],
        **echo,
    )


def answer_invert(request: InvertRequest) -> InvertResponse:
    convs = request.conv if isinstance(request.conv, list) else [request.conv]
    if not convs:
        raise SolverError("invalid_request", "conv: give at least one layer", field="conv")
    array_lengths = [
        len(value)
        for conv in convs
        for value in (conv.kernel_size, conv.stride, conv.padding, conv.dilation)
        if isinstance(value, tuple)
    ]
    ndim = _ndim(input_size=request.input_size, **{f"conv_{n}": (0,) * n for n in set(array_lengths)})
    input_size = _dims(request.input_size, ndim, "input_size")
    layers = [
        ConvLayer(
            kernel_size=_dims(conv.kernel_size, ndim, f"conv[{n}].kernel_size"),
            stride=_dims(conv.stride, ndim, f"conv[{n}].stride"),
            padding=_dims(conv.padding, ndim, f"conv[{n}].padding"),
            dilation=_dims(conv.dilation, ndim, f"conv[{n}].dilation"),
        )
        for n, conv in enumerate(convs)
    ]
    inversion = invert_encoder(input_size, layers)
    decoder: list[LayerOut] = []
    snippets: list[str] = []
    # A decoder exists only for an encoder torch accepts in full.
    for index in reversed(range(len(inversion.output_paddings) if inversion.is_valid else 0)):
        layer = layers[index]
        dims = [
            DimParams(k, s, d, p, op)
            for k, s, d, p, op in zip(
                layer.kernel_size,
                layer.stride,
                layer.dilation,
                layer.padding,
                inversion.output_paddings[index],
                strict=True,
            )
        ]
        decoder.append(layer_out(dims))
        snippets.append(snippet(dims, ChannelContext()))
    exact = None
    if inversion.is_valid:
        per_dim = [
            exact_input_sizes(
                input_size[dim],
                [(c.kernel_size[dim], c.stride[dim], c.padding[dim], c.dilation[dim]) for c in layers],
            )
            for dim in range(ndim)
        ]
        exact = ExactSizesOut(below=[b for b, _ in per_dim], above=[a for _, a in per_dim])
    return InvertResponse(
        valid=inversion.is_valid,
        sizes=[list(size) for size in inversion.sizes],
        decoder=decoder,
        decoder_sizes=[list(size) for size in reversed(inversion.sizes[:-1])] if inversion.is_valid else [],
        snippets=snippets,
        error=ErrorInfo(
            code="conv_kernel_larger_than_input", message=inversion.error, dim=inversion.failed_dim
        )
        if inversion.error
        else None,
        failed_layer=inversion.failed_layer,
        exact_input_sizes=exact,
        is_exact=inversion.is_valid and not any(any(ops) for ops in inversion.output_paddings),
    )


def _batch_error(exc: Exception) -> BatchError:
    if isinstance(exc, ValidationError):
        details = validation_details([dict(error) for error in exc.errors()])
        message = "; ".join(d["message"] for d in details)
        return BatchError(error=ErrorBody(code="invalid_request", message=message, details=details))
    assert isinstance(exc, SolverError)
    return BatchError(error=ErrorBody(code=exc.code, message=exc.message))


def answer_search_batch(request: SearchBatchRequest, budget: Budget, *, max_work: int) -> SearchBatchResponse:
    """Every item as /v1/search would answer it; the whole batch's work is capped up front."""
    parsed: list[SearchRequest | BatchError] = []
    for query in request.queries:
        try:
            item = SearchRequest.model_validate(query)
        except ValidationError as exc:
            parsed.append(_batch_error(exc))
            continue
        # An item over its own budget fails alone (as /v1/search would) and costs the batch nothing.
        over = triple_budget_error(search_bounds(item), search_ndim(item), budget.max_triples)
        if over is not None:
            parsed.append(_batch_error(over))
            continue
        parsed.append(item)
    work = sum(search_work(item) for item in parsed if isinstance(item, SearchRequest))
    if work > max_work:
        raise SolverError(
            "batch_too_large",
            f"the batch holds {work:,} (kernel_size, stride, dilation) combinations × dimensions; the "
            f"budget per batch is {max_work:,}: split it or narrow the bounds",
            field="queries",
        )
    results: list[SearchResponse | BatchError] = []
    for entry in parsed:
        if isinstance(entry, BatchError):
            results.append(entry)
            continue
        try:
            results.append(answer_search(entry, budget))
        except SolverError as exc:
            results.append(_batch_error(exc))
    return SearchBatchResponse(results=results)


def _plan_options(request: PlanRequest) -> PlanOptions:
    layers = request.layers.to_bound(1)
    return PlanOptions(
        min_layers=layers.lo,
        max_layers=layers.hi,
        monotonic=request.monotonic,
        same_layer=request.same_layer,
        lengths=frozenset(layers.values) if layers.values is not None else None,
    )


def _channel_schedule(request: PlanRequest, options: PlanOptions) -> list[tuple[int, int]]:
    """(in, out) channels of each layer depth; checked against groups like /v1/shape would."""
    if request.channels is None:
        schedule = [(request.in_channels, request.out_channels)] * options.max_layers
    else:
        if options.min_layers != options.max_layers or options.lengths not in (
            None,
            frozenset({options.max_layers}),
        ):
            raise SolverError(
                "invalid_request",
                "channels: a channel schedule needs a fixed number of layers (layers: an int)",
                field="channels",
            )
        if len(request.channels) != options.max_layers + 1:
            raise SolverError(
                "invalid_request",
                f"channels: {options.max_layers} layers need {options.max_layers + 1} channel counts, "
                f"got {len(request.channels)}",
                field="channels",
            )
        schedule = list(zip(request.channels, request.channels[1:], strict=False))
    for depth, (cin, cout) in enumerate(schedule):
        reason = _channel_reason(ChannelContext(in_channels=cin, out_channels=cout, groups=request.groups))
        if reason:
            raise SolverError("invalid_request", f"layer {depth}: {reason}", field="channels")
    return schedule


def answer_plan(request: PlanRequest, *, max_transitions: int) -> PlanResponse:
    ndim = _ndim(input_size=request.input_size, output_size=request.output_size)
    input_size = _dims(request.input_size, ndim, "input_size")
    output_size = _dims(request.output_size, ndim, "output_size")
    if not request.tie_dims and request.objective == "cost":
        raise SolverError(
            "unsupported",
            "objective 'cost' needs tie_dims true for plans: untied dimensions are planned apart and "
            "their scores add, while MACs multiply across dimensions",
            field="objective",
        )
    if request.objective == "latency":
        raise SolverError(
            "objective_unavailable",
            "objective 'latency' is not available for plans; "
            "use 'balanced', 'quality', 'cost' or 'conventional'",
            field="objective",
        )
    options = _plan_options(request)
    schedule = _channel_schedule(request, options)
    class_of, start, goal = classes_of(input_size, output_size)
    if not request.tie_dims:
        # Every dimension its own class, planned on its own (see solver.plans.plan_untied).
        class_of, start, goal = list(range(ndim)), input_size, output_size
    members = [class_of.count(n) for n in range(len(start))]
    bounds = search_bounds(request)
    objective = request.objective
    scale = None
    if objective == "cost":

        def step_score(n: int, params: DimParams) -> int:
            # Tied kernels: ∏ kernel_size over dimensions is kernel_size ** ndim, counted once.
            return int(params.kernel_size**ndim) if n == 0 else 0

        def scale(depth: int, state: tuple[int, ...]) -> int:
            cin, cout = schedule[depth]
            pixels: int = math.prod(size**m for size, m in zip(state, members, strict=True))
            return request.batch_size * cin * (cout // request.groups) * pixels

    else:

        def step_score(n: int, params: DimParams) -> int:
            return members[n] * int(steady_dim_score(objective, params))

    if not request.tie_dims:
        result = plan_untied(
            start,
            goal,
            bounds,
            options,
            step_score=lambda params: int(steady_dim_score(objective, params)),
            limit=request.limit,
            max_edges=max_transitions,
        )
    else:
        result = plan(
            start,
            goal,
            bounds,
            options,
            step_score=step_score,
            scale=scale,
            limit=request.limit,
            max_edges=max_transitions,
        )
    plans: list[PlanOut] = []
    for rank, found in enumerate(result.plans, start=1):
        layers = [tuple(step[class_of[dim]] for dim in range(ndim)) for step in found.steps]
        sizes = [tuple(state[class_of[dim]] for dim in range(ndim)) for state in found.sizes]
        inputs = [input_size, *sizes[:-1]]
        costs = [
            layer_cost(
                size,
                tuple(p.kernel_size for p in layer),
                in_channels=schedule[depth][0],
                out_channels=schedule[depth][1],
                groups=request.groups,
                batch_size=request.batch_size,
                bias=request.bias,
            )
            for depth, (layer, size) in enumerate(zip(layers, inputs, strict=True))
        ]
        snippets = [
            snippet(
                layer,
                ChannelContext(in_channels=cin, out_channels=cout, groups=request.groups, bias=request.bias),
            )
            for layer, (cin, cout) in zip(layers, schedule, strict=False)
        ]
        plans.append(
            PlanOut(
                rank=rank,
                layers=[layer_out(layer) for layer in layers],
                sizes=[list(size) for size in sizes],
                score=found.score,
                snippet="nn.Sequential(" + ", ".join(snippets) + ")",
                cost=CostOut(parameters=sum(c.parameters for c in costs), macs=sum(c.macs for c in costs)),
            )
        )
    return PlanResponse(
        total=result.total,
        plans=plans,
        objective=request.objective,
        module=module_name(ndim),
        input_size=list(input_size),
        output_size=list(output_size),
    )
