"""/v1/verify with ``targets``: the worker runs PyTorch and each export target on the same seeded
input and weights (embedded verifier, CPU); statuses agree with solver.portability's verdicts.
"""

from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "jax")  # before anything imports keras

from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from service.solver.enumeration import DimParams
from service.solver.portability import verdict

pytestmark = pytest.mark.torch

TARGETS = ["onnx", "jax", "keras"]


def _verify(client: TestClient, layer: dict[str, Any], **context: Any) -> dict[str, Any]:
    body = {"input_size": [5], "layers": [layer], "device": "cpu", "targets": TARGETS, **context}
    response = client.post("/v1/verify", json=body)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()["results"][0]
    assert result["status"] == "confirmed"
    return result


def test_portable_layer_is_confirmed_in_every_target(client: TestClient) -> None:
    result = _verify(
        client,
        {"kernel_size": [3], "stride": [2], "padding": [1], "output_padding": [1]},
        in_channels=3,
        out_channels=2,
    )
    for target in TARGETS:
        check = result["targets"][target]
        assert check["status"] == "confirmed", (target, check)
        assert check["max_abs_difference"] < 1e-4
        assert check["version"]


def test_runtime_refusals_are_failed_with_the_runtimes_words(client: TestClient) -> None:
    # stride 1 <= output_padding 1 < dilation 2, nothing to fold it into.
    result = _verify(client, {"kernel_size": [2], "dilation": [2], "output_padding": [1]})
    assert result["targets"]["jax"]["status"] == "confirmed"
    assert result["targets"]["onnx"]["status"] == "failed"
    assert "output_padding (1) may be too large for stride (1)" in result["targets"]["onnx"]["error"]
    assert result["targets"]["keras"]["status"] == "failed"
    assert "strictly less than `strides`" in result["targets"]["keras"]["error"]


@settings(max_examples=10)
@given(k=st.integers(1, 4), s=st.integers(1, 3), d=st.integers(1, 3), p=st.integers(0, 3), data=st.data())
def test_target_status_follows_the_verdict(
    client: TestClient, k: int, s: int, d: int, p: int, data: Any
) -> None:
    op = data.draw(st.integers(0, max(s, d) - 1))
    params = DimParams(k, s, d, p, op)
    out = 4 * s - 2 * p + d * (k - 1) + op + 1
    if out < 1:
        return
    result = _verify(
        client, {"kernel_size": [k], "stride": [s], "padding": [p], "output_padding": [op], "dilation": [d]}
    )
    for target in TARGETS:
        expected = "confirmed" if verdict(target, (params,)).status == "exact" else "failed"
        assert result["targets"][target]["status"] == expected, (params, target, result["targets"][target])
