"""Turn validated requests into solver calls and solver results into wire responses:
/v1/shape (via shape_answers.py), /v1/invert and /v1/plan. /v1/search is search_answers.py.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from service.api.dims import dims, ndim_of
from service.api.explain import JSON, layer_dict, module_name, snippet
from service.api.search_answers import channel_reason, groups_reason, search_bounds
from service.api.shape_answers import shape_answer
from service.api.views import basic_invert, basic_plan
from service.solver.cost import layer_cost
from service.solver.enumeration import DimParams
from service.solver.errors import SolverError
from service.solver.planning import ConvLayer, exact_input_sizes, invert_encoder
from service.solver.plans import PlanOptions, classes_of, plan, plan_untied
from service.solver.ranking import steady_dim_score
from service.wire.schemas import (
    ChannelContext,
    CostOut,
    ErrorInfo,
    ExactSizesOut,
    InvertRequest,
    InvertResponse,
    LayerOut,
    PlanOut,
    PlanRequest,
    PlanResponse,
    ShapeRequest,
)


def answer_shape(request: ShapeRequest) -> JSON:
    """The /v1/shape answer, a dict shaped as ShapeResponse or ShapeBasicResponse (shape_answers.py
    builds it)."""
    return shape_answer(request.model_dump(exclude={"view"}), basic=request.view == "basic")


def layer_out(layer: Sequence[DimParams]) -> LayerOut:
    return LayerOut(**layer_dict(layer))


def answer_invert(request: InvertRequest) -> InvertResponse | JSON:
    """The /v1/invert answer: the full model, or in the basic view its projection."""
    convs = request.conv if isinstance(request.conv, list) else [request.conv]
    if not convs:
        raise SolverError("invalid_request", "conv: give at least one layer", field="conv")
    array_lengths = [
        len(value)
        for conv in convs
        for value in (conv.kernel_size, conv.stride, conv.padding, conv.dilation)
        if isinstance(value, tuple)
    ]
    ndim = ndim_of(input_size=request.input_size, **{f"conv_{n}": (0,) * n for n in set(array_lengths)})
    input_size = dims(request.input_size, ndim, "input_size")
    layers = [
        ConvLayer(
            kernel_size=dims(conv.kernel_size, ndim, f"conv[{n}].kernel_size"),
            stride=dims(conv.stride, ndim, f"conv[{n}].stride"),
            padding=dims(conv.padding, ndim, f"conv[{n}].padding"),
            dilation=dims(conv.dilation, ndim, f"conv[{n}].dilation"),
        )
        for n, conv in enumerate(convs)
    ]
    inversion = invert_encoder(input_size, layers)
    decoder: list[LayerOut] = []
    snippets: list[str] = []
    # A decoder exists only for an encoder torch accepts in full.
    for index in reversed(range(len(inversion.output_paddings) if inversion.is_valid else 0)):
        layer = layers[index]
        transposed = [
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
        decoder.append(layer_out(transposed))
        snippets.append(snippet(tuple(transposed)))
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
    full = InvertResponse(
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
    return basic_invert(full.model_dump()) if request.view == "basic" else full


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
        reason = channel_reason(ChannelContext(in_channels=cin, out_channels=cout, groups=request.groups))
        if reason:
            raise SolverError("invalid_request", f"layer {depth}: {reason}", field="channels")
    return schedule


def answer_plan(request: PlanRequest, *, max_transitions: int) -> PlanResponse | JSON:
    """The /v1/plan answer: the full model, or in the basic view its projection."""
    ndim = ndim_of(input_size=request.input_size, output_size=request.output_size)
    input_size = dims(request.input_size, ndim, "input_size")
    output_size = dims(request.output_size, ndim, "output_size")
    if not request.tie_dims and request.objective == "cost":
        raise SolverError(
            "unsupported",
            "objective 'cost' needs tie_dims true for plans: untied dimensions are planned apart and "
            "their scores add, while MACs multiply across dimensions",
            field="objective",
        )
    options = _plan_options(request)
    schedule = _channel_schedule(request, options)
    blocked = groups_reason(request.portable_to, request.groups)
    if blocked:
        raise SolverError("not_portable", f"portable_to: {blocked}", field="portable_to")
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
            snippet(tuple(layer), cin, cout, request.groups, request.bias)
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
    full = PlanResponse(
        total=result.total,
        plans=plans,
        objective=request.objective,
        module=module_name(ndim),
        input_size=list(input_size),
        output_size=list(output_size),
    )
    return basic_plan(full.model_dump()) if request.view == "basic" else full
