"""/v1/invert against torch: Conv then the returned ConvTranspose restores every size."""

from __future__ import annotations

from typing import Any

import pytest
import torch
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from service.solver.planning import conv_output

pytestmark = pytest.mark.torch

CONV = {1: torch.nn.Conv1d, 2: torch.nn.Conv2d, 3: torch.nn.Conv3d}
TRANSPOSED = {1: torch.nn.ConvTranspose1d, 2: torch.nn.ConvTranspose2d, 3: torch.nn.ConvTranspose3d}


@st.composite
def encoders(draw: st.DrawFn) -> dict[str, Any]:
    ndim = draw(st.integers(1, 3))
    depth = draw(st.integers(1, 4))
    per_dim = lambda s: draw(st.lists(s, min_size=ndim, max_size=ndim))  # noqa: E731
    conv = [
        {
            "kernel_size": per_dim(st.integers(1, 5)),
            "stride": per_dim(st.integers(1, 3)),
            "padding": per_dim(st.integers(0, 2)),
            "dilation": per_dim(st.integers(1, 2)),
        }
        for _ in range(depth)
    ]
    return {"input_size": per_dim(st.integers(1, 40 if ndim < 3 else 14)), "conv": conv}


@settings(max_examples=200)
@given(request=encoders())
def test_decoder_restores_every_size(client: TestClient, request: dict[str, Any]) -> None:
    body = client.post("/v1/invert", json=request).json()
    ndim = len(request["input_size"])
    x = torch.zeros(1, 1, *request["input_size"])
    sizes = [list(x.shape[2:])]
    try:
        with torch.no_grad():
            for layer in request["conv"]:
                x = CONV[ndim](1, 1, **layer)(x)
                sizes.append(list(x.shape[2:]))
        refused = False
    except RuntimeError:
        refused = True
    assert body["valid"] is not refused
    if refused:
        assert body["decoder"] == []
        assert body["failed_layer"] == len(sizes) - 1
        return
    assert body["sizes"] == sizes
    with torch.no_grad():
        for layer, expected in zip(body["decoder"], reversed(sizes[:-1]), strict=True):
            x = TRANSPOSED[ndim](1, 1, **layer)(x)
            assert list(x.shape[2:]) == expected
    assert body["decoder_sizes"] == [list(s) for s in reversed(sizes[:-1])]


def _is_exact(size: int, layers: list[tuple[int, int, int, int]]) -> bool:
    for k, s, p, d in layers:
        out = conv_output(size, kernel_size=k, stride=s, padding=p, dilation=d)
        if out is None or (size + 2 * p - d * (k - 1) - 1) % s:
            return False
        size = out
    return True


@settings(max_examples=150)
@given(request=encoders())
def test_exact_input_sizes_are_the_nearest(client: TestClient, request: dict[str, Any]) -> None:
    body = client.post("/v1/invert", json=request).json()
    if not body["valid"]:
        return
    for dim, given_size in enumerate(request["input_size"]):
        layers = [
            (c["kernel_size"][dim], c["stride"][dim], c["padding"][dim], c["dilation"][dim])
            for c in request["conv"]
        ]
        below, above = body["exact_input_sizes"]["below"][dim], body["exact_input_sizes"]["above"][dim]
        assert _is_exact(above, layers)
        assert above >= given_size
        assert not any(_is_exact(n, layers) for n in range(given_size, above))
        if below is not None:
            assert _is_exact(below, layers)
            assert below <= given_size
            assert not any(_is_exact(n, layers) for n in range(below + 1, given_size + 1))
        else:
            assert not any(_is_exact(n, layers) for n in range(1, given_size + 1))
