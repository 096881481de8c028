"""solver.planner and planning.mirror_encoder: the plan and invert policy, held to the layers'
own arithmetic (the transposed-convolution formula and torch's parameter/MAC count)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.solver.cost import layer_cost
from service.solver.enumeration import Bound, SearchBounds
from service.solver.errors import SolverError
from service.solver.planner import PlanSpec, plan_decoders
from service.solver.planning import ConvLayer, mirror_encoder
from service.solver.plans import PlanOptions


def _out(i: int, k: int, s: int, d: int, p: int, op: int) -> int:
    return (i - 1) * s - 2 * p + d * (k - 1) + op + 1


def _spec(**changes: object) -> PlanSpec:
    base: dict[str, object] = {
        "input_size": (4, 4),
        "output_size": (32, 32),
        "bounds": SearchBounds(kernel_size=Bound(1, 6), stride=Bound(1, 4), dilation=Bound(1, 1)),
        "options": PlanOptions(min_layers=1, max_layers=3),
        "objective": "balanced",
        "limit": 5,
    }
    return PlanSpec(**{**base, **changes})  # type: ignore[arg-type]


@pytest.mark.parametrize("objective", ["balanced", "cost"])
def test_every_plan_reaches_the_goal_through_its_own_sizes(objective: str) -> None:
    spec = _spec(objective=objective, in_channels=64, out_channels=32, batch_size=2)
    result = plan_decoders(spec, max_transitions=10**7)
    assert result.total >= len(result.plans) > 0
    for found in result.plans:
        size = spec.input_size
        for layer, after in zip(found.layers, found.sizes, strict=True):
            size = tuple(_out(i, *p) for i, p in zip(size, layer, strict=True))
            assert size == after
        assert size == spec.output_size
        costs = [
            layer_cost(i, [p.kernel_size for p in layer], in_channels=64, out_channels=32, batch_size=2)
            for layer, i in zip(found.layers, [spec.input_size, *found.sizes[:-1]], strict=True)
        ]
        assert found.cost.macs == sum(c.macs for c in costs)
        assert found.cost.parameters == sum(c.parameters for c in costs)
        if objective == "cost":
            assert found.score == found.cost.macs  # the cost objective ranks by the same MACs


def test_a_channel_schedule_sets_each_depth_and_is_checked_against_groups() -> None:
    spec = _spec(options=PlanOptions(min_layers=2, max_layers=2), channels=[8, 4, 2], objective="cost")
    found = plan_decoders(spec, max_transitions=10**7).plans[0]
    assert found.channels == [(8, 4), (4, 2)]
    with pytest.raises(SolverError, match="layer 1"):
        plan_decoders(_spec(options=spec.options, channels=[8, 4, 3], groups=2), max_transitions=10**7)
    with pytest.raises(SolverError, match="fixed number of layers"):
        plan_decoders(_spec(channels=[8, 4, 2]), max_transitions=10**7)


def test_cost_needs_tied_dimensions() -> None:
    with pytest.raises(SolverError) as refused:
        plan_decoders(_spec(objective="cost", tie_dims=False), max_transitions=10**7)
    assert refused.value.code == "unsupported"


_conv = st.tuples(
    st.integers(1, 5), st.integers(1, 3), st.integers(0, 2), st.integers(1, 2)
)  # kernel, stride, padding, dilation


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 64), st.lists(_conv, min_size=1, max_size=4))
def test_the_mirrored_decoder_restores_every_size(size: int, convs: list[tuple[int, int, int, int]]) -> None:
    layers = [ConvLayer((k,), (s,), (p,), (d,)) for k, s, p, d in convs]
    decoder = mirror_encoder((size,), layers)
    if not decoder.inversion.is_valid:
        assert decoder.layers == []
        assert not decoder.is_exact
        return
    sizes = decoder.inversion.sizes
    current = sizes[-1]
    for layer, expected in zip(decoder.layers, reversed(sizes[:-1]), strict=True):
        (params,) = layer
        assert 0 <= params.output_padding < max(params.stride, params.dilation)
        current = (_out(current[0], *params),)
        assert current == expected
    assert decoder.sizes == list(reversed(sizes[:-1]))
    assert decoder.is_exact == all(p.output_padding == 0 for (p,) in decoder.layers)
    assert decoder.exact_below is not None
    assert decoder.exact_above is not None
    below, above = decoder.exact_below[0], decoder.exact_above[0]
    assert above is not None
    assert above >= size
    assert below is None or below <= size
    assert decoder.is_exact == (above == size) == (below == size)
