"""Parameters and MACs equal torch's parameter count and FlopCounterMode (flops = 2 × MACs)."""

from __future__ import annotations

from typing import Any

import pytest
import torch
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.utils.flop_counter import FlopCounterMode

from tests.differential.torch_truth import MODULES

pytestmark = pytest.mark.torch


@st.composite
def searches(draw: st.DrawFn) -> dict[str, Any]:
    ndim = draw(st.integers(1, 3))
    groups = draw(st.sampled_from([1, 2, 3]))
    input_size = draw(st.lists(st.integers(1, 6), min_size=ndim, max_size=ndim))
    return {
        "input_size": input_size,
        "output_size": [i * draw(st.integers(1, 3)) + draw(st.integers(0, 2)) for i in input_size],
        "kernel_size": {"min": 1, "max": 4},
        "stride": {"min": 1, "max": 3},
        "dilation": {"min": 1, "max": 2},
        "in_channels": groups * draw(st.integers(1, 3)),
        "out_channels": groups * draw(st.integers(1, 3)),
        "groups": groups,
        "batch_size": draw(st.integers(1, 3)),
        "bias": draw(st.booleans()),
        "tie_dims": draw(st.booleans()),
        "limit": 5,
    }


@settings(max_examples=60)
@given(request=searches())
def test_cost_equals_torch(client: TestClient, request: dict[str, Any]) -> None:
    body = client.post("/v1/search", json=request).json()
    ndim = len(request["input_size"])
    for candidate in body["candidates"]:
        layer = MODULES[ndim](
            request["in_channels"],
            request["out_channels"],
            groups=request["groups"],
            bias=request["bias"],
            **candidate["layer"],
        )
        x = torch.zeros(request["batch_size"], request["in_channels"], *request["input_size"])
        with FlopCounterMode(display=False) as counter, torch.no_grad():
            assert list(layer(x).shape[2:]) == request["output_size"]
        assert candidate["cost"]["macs"] * 2 == counter.get_total_flops()
        assert candidate["cost"]["parameters"] == sum(p.numel() for p in layer.parameters())
