"""A plan request as the planner sees it: the policy between a request and ``plans.plan``.

Which score an objective gives a layer (steady overlap score per class, or MACs that grow with
the layer's input and channels), which channels each depth maps, whether dimensions are tied,
and each found plan read back as one layer per dimension with its summed cost. The HTTP side
(api/answers/plan.py) only turns requests into a ``PlanSpec`` and these results into answers.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

from service.solver.cost import LayerCost, layer_cost
from service.solver.enumeration import DimParams, SearchBounds
from service.solver.errors import SolverError
from service.solver.plans import PlanOptions, classes_of, plan, plan_untied
from service.solver.portability import groups_refusal
from service.solver.ranking import steady_dim_score
from service.solver.rules import channels_refusal
from service.solver.sizes import Dims

Channels = tuple[int, int]  # (in, out) of one depth


@dataclass(frozen=True, slots=True)
class PlanSpec:
    input_size: Dims
    output_size: Dims
    bounds: SearchBounds
    options: PlanOptions
    objective: str
    tie_dims: bool = True
    in_channels: int = 1
    out_channels: int = 1
    channels: Sequence[int] | None = None  # a schedule: layer j maps channels[j] to channels[j + 1]
    groups: int = 1
    batch_size: int = 1
    bias: bool = True
    limit: int = 10


@dataclass(frozen=True, slots=True)
class DecoderPlan:
    layers: list[tuple[DimParams, ...]]  # one DimParams per dimension, per layer
    sizes: list[Dims]  # after each layer
    score: int
    channels: list[Channels]
    cost: LayerCost  # summed over layers


@dataclass(frozen=True, slots=True)
class DecoderPlans:
    total: int
    plans: list[DecoderPlan]


def channel_schedule(
    options: PlanOptions, *, in_channels: int, out_channels: int, channels: Sequence[int] | None, groups: int
) -> list[Channels]:
    """(in, out) channels of each depth, each checked against ``groups`` as /v1/shape would."""
    if channels is None:
        schedule = [(in_channels, out_channels)] * options.max_layers
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
        if len(channels) != options.max_layers + 1:
            raise SolverError(
                "invalid_request",
                f"channels: {options.max_layers} layers need {options.max_layers + 1} channel counts, "
                f"got {len(channels)}",
                field="channels",
            )
        schedule = list(itertools.pairwise(channels))
    for depth, (cin, cout) in enumerate(schedule):
        reason = channels_refusal(cin, cout, groups)
        if reason:
            raise SolverError("invalid_request", f"layer {depth}: {reason}", field="channels")
    return schedule


def plan_decoders(spec: PlanSpec, *, max_transitions: int) -> DecoderPlans:
    """The ``spec.limit`` best decoders and the exact number of them, best first."""
    ndim = len(spec.input_size)
    if not spec.tie_dims and spec.objective == "cost":
        raise SolverError(
            "unsupported",
            "objective 'cost' needs tie_dims true for plans: untied dimensions are planned apart and "
            "their scores add, while MACs multiply across dimensions",
            field="objective",
        )
    schedule = channel_schedule(
        spec.options,
        in_channels=spec.in_channels,
        out_channels=spec.out_channels,
        channels=spec.channels,
        groups=spec.groups,
    )
    blocked = groups_refusal(spec.bounds.portable_to, spec.groups)
    if blocked:
        raise SolverError("not_portable", f"portable_to: {blocked}", field="portable_to")
    if spec.tie_dims:
        class_of, start, goal = classes_of(spec.input_size, spec.output_size)
    else:
        # Every dimension its own class, planned on its own (see plans.plan_untied).
        class_of, start, goal = list(range(ndim)), spec.input_size, spec.output_size
    members = [class_of.count(n) for n in range(len(start))]
    objective = spec.objective
    if not spec.tie_dims:
        result = plan_untied(
            start,
            goal,
            spec.bounds,
            spec.options,
            step_score=lambda params: int(steady_dim_score(objective, params)),
            limit=spec.limit,
            max_edges=max_transitions,
        )
    elif objective == "cost":

        def taps(n: int, params: DimParams) -> int:
            # Tied kernels: ∏ kernel_size over dimensions is kernel_size ** ndim, counted once.
            return int(params.kernel_size**ndim) if n == 0 else 0

        def macs_per_tap(depth: int, state: tuple[int, ...]) -> int:
            cin, cout = schedule[depth]
            pixels: int = math.prod(size**m for size, m in zip(state, members, strict=True))
            return spec.batch_size * cin * (cout // spec.groups) * pixels

        result = plan(
            start,
            goal,
            spec.bounds,
            spec.options,
            step_score=taps,
            scale=macs_per_tap,
            limit=spec.limit,
            max_edges=max_transitions,
        )
    else:
        result = plan(
            start,
            goal,
            spec.bounds,
            spec.options,
            step_score=lambda n, params: members[n] * int(steady_dim_score(objective, params)),
            limit=spec.limit,
            max_edges=max_transitions,
        )
    plans = []
    for found in result.plans:
        layers = [tuple(step[class_of[dim]] for dim in range(ndim)) for step in found.steps]
        sizes = [tuple(state[class_of[dim]] for dim in range(ndim)) for state in found.sizes]
        channels = schedule[: len(layers)]
        costs = [
            layer_cost(
                size,
                tuple(p.kernel_size for p in layer),
                in_channels=cin,
                out_channels=cout,
                groups=spec.groups,
                batch_size=spec.batch_size,
                bias=spec.bias,
            )
            for layer, size, (cin, cout) in zip(layers, [spec.input_size, *sizes[:-1]], channels, strict=True)
        ]
        total_cost = LayerCost(sum(c.parameters for c in costs), sum(c.macs for c in costs))
        plans.append(DecoderPlan(layers, sizes, found.score, channels, total_cost))
    return DecoderPlans(result.total, plans)
