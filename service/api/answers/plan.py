"""/v1/plan answers: a plan request as a solver call, and its plans as a wire response."""

from __future__ import annotations

import math

from service.api.answers.search import channel_reason, groups_reason, search_bounds
from service.api.answers.views import basic_plan
from service.api.dims import dims, ndim_of
from service.api.explain import JSON, layer_out, module_name, snippet
from service.solver.cost import layer_cost
from service.solver.enumeration import DimParams
from service.solver.errors import SolverError
from service.solver.plans import PlanOptions, classes_of, plan, plan_untied
from service.solver.ranking import steady_dim_score
from service.wire.schemas import ChannelContext, CostOut, PlanOut, PlanRequest, PlanResponse


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
