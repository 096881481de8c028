"""The overlap analysis equals the seed article's experiment run in torch: ones in, ones weights."""

from __future__ import annotations

from typing import Any

import pytest
import torch
from fastapi.testclient import TestClient
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from tests.differential.torch_truth import FUNCTIONS

pytestmark = pytest.mark.torch


@st.composite
def valid_layers(draw: st.DrawFn) -> dict[str, Any]:
    ndim = draw(st.integers(1, 3))
    dims = st.lists(st.integers(1, 5), min_size=ndim, max_size=ndim)
    kernel_size, stride, dilation = (
        draw(dims),
        draw(dims),
        draw(st.lists(st.integers(1, 3), min_size=ndim, max_size=ndim)),
    )
    padding = [draw(st.integers(0, d * (k - 1) + 1)) for k, d in zip(kernel_size, dilation, strict=True)]
    output_padding = [draw(st.integers(0, max(s, d) - 1)) for s, d in zip(stride, dilation, strict=True)]
    input_size = draw(st.lists(st.integers(1, 7), min_size=ndim, max_size=ndim))
    return {
        "input_size": input_size,
        "kernel_size": kernel_size,
        "stride": stride,
        "padding": padding,
        "output_padding": output_padding,
        "dilation": dilation,
    }


def ones_experiment(layer: dict[str, Any]) -> torch.Tensor:
    ndim = len(layer["input_size"])
    x = torch.ones(1, 1, *layer["input_size"], dtype=torch.float64)
    weight = torch.ones(1, 1, *layer["kernel_size"], dtype=torch.float64)
    out = FUNCTIONS[ndim](
        x,
        weight,
        stride=layer["stride"],
        padding=layer["padding"],
        output_padding=layer["output_padding"],
        dilation=layer["dilation"],
    )
    return out[0, 0].round().to(torch.int64)


@settings(max_examples=400)
@given(layer=valid_layers())
def test_overlap_equals_the_all_ones_experiment(client: TestClient, layer: dict[str, Any]) -> None:
    body = client.post("/v1/shape", json=layer).json()
    assume(body["valid"])
    counts = ones_experiment(layer)
    overlap = body["overlap"]
    assert list(counts.shape) == body["output_size"]
    assert overlap["min_count"] == int(counts.min())
    assert overlap["max_count"] == int(counts.max())
    assert overlap["holes"] == int((counts == 0).sum())
    # The interior the service reports, cut from torch's map, holds exactly the reported counts.
    window = tuple(slice(*dim["interior"]) for dim in overlap["dims"])
    interior = counts[window]
    if interior.numel() == 0:
        assert overlap["uniform_interior"] is None
    else:
        assert overlap["uniform_interior"] == (len(interior.unique()) == 1)
    lines = []
    for axis, dim in enumerate(overlap["dims"]):
        line = ones_experiment({name: [value[axis]] for name, value in layer.items()})
        lines.append(line)
        assert (dim["min_count"], dim["max_count"]) == (int(line.min()), int(line.max()))
        assert dim["holes"] == int((line == 0).sum())
        start, stop = dim["interior"]
        assert dim["interior_counts"] == sorted({int(v) for v in line[start:stop]})
        assert dim["checkerboard"] == (len(dim["interior_counts"]) > 1)
    # The n-D map is the outer product of the per-dimension maps.
    outer = lines[0]
    for line in lines[1:]:
        outer = outer.unsqueeze(-1) * line
    assert torch.equal(outer, counts)
    assert overlap["checkerboard"] == any(dim["checkerboard"] for dim in overlap["dims"])
