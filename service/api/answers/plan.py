"""/v1/plan answers: a plan request as a ``planner.PlanSpec``, its decoders as the wire response."""

from __future__ import annotations

from service.api.answers.search import search_bounds
from service.api.answers.views import basic_plan
from service.api.dims import dims, ndim_of
from service.api.explain import JSON, layer_out, module_name, snippet
from service.solver.planner import PlanSpec, plan_decoders
from service.solver.plans import PlanOptions
from service.wire.schemas import CostOut, PlanOut, PlanRequest, PlanResponse


def plan_options(request: PlanRequest) -> PlanOptions:
    layers = request.layers.to_bound(1)
    return PlanOptions(
        min_layers=layers.lo,
        max_layers=layers.hi,
        monotonic=request.monotonic,
        same_layer=request.same_layer,
        lengths=frozenset(layers.values) if layers.values is not None else None,
    )


def answer_plan(request: PlanRequest, *, max_transitions: int) -> PlanResponse | JSON:
    """The /v1/plan answer: the full model, or in the basic view its projection."""
    ndim = ndim_of(input_size=request.input_size, output_size=request.output_size)
    spec = PlanSpec(
        input_size=dims(request.input_size, ndim, "input_size"),
        output_size=dims(request.output_size, ndim, "output_size"),
        bounds=search_bounds(request),
        options=plan_options(request),
        objective=request.objective,
        tie_dims=request.tie_dims,
        in_channels=request.in_channels,
        out_channels=request.out_channels,
        channels=request.channels,
        groups=request.groups,
        batch_size=request.batch_size,
        bias=request.bias,
        limit=request.limit,
    )
    result = plan_decoders(spec, max_transitions=max_transitions)
    plans = [
        PlanOut(
            rank=rank,
            layers=[layer_out(layer) for layer in found.layers],
            sizes=[list(size) for size in found.sizes],
            score=found.score,
            snippet="nn.Sequential("
            + ", ".join(
                snippet(layer, cin, cout, request.groups, request.bias)
                for layer, (cin, cout) in zip(found.layers, found.channels, strict=True)
            )
            + ")",
            cost=CostOut(parameters=found.cost.parameters, macs=found.cost.macs),
        )
        for rank, found in enumerate(result.plans, start=1)
    ]
    full = PlanResponse(
        total=result.total,
        plans=plans,
        objective=request.objective,
        module=module_name(ndim),
        input_size=list(spec.input_size),
        output_size=list(spec.output_size),
    )
    return basic_plan(full.model_dump()) if request.view == "basic" else full
