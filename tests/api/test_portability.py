"""``portability`` on shape answers and search candidates, and ``portable_to`` on search and plan.

The verdicts are solver.portability's (held to the runtimes in tests/differential); here: every
answer carries them, and ``portable_to`` keeps exactly the candidates whose verdicts are exact.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from service.wire.schemas import PortabilityOut


def test_shape_answer_carries_portability(client: TestClient) -> None:
    # stride 1 <= output_padding 1 < dilation 2: PyTorch, JAX yes; onnxruntime and Keras refuse.
    body = client.post(
        "/v1/shape", json={"input_size": [5], "kernel_size": 2, "dilation": 2, "output_padding": 1}
    ).json()
    portability = PortabilityOut.model_validate(body["portability"])
    assert portability.jax.status == "exact"
    assert portability.onnx.status == "refused"
    assert portability.keras.status == "refused"
    assert portability.onnx.reason is not None
    assert "must be < stride 1" in portability.onnx.reason
    # With padding to absorb it, both export.
    body = client.post(
        "/v1/shape",
        json={"input_size": [5], "kernel_size": 2, "dilation": 2, "padding": 1, "output_padding": 1},
    ).json()
    assert {t: v["status"] for t, v in body["portability"].items()} == {
        "onnx": "exact",
        "jax": "exact",
        "keras": "exact",
    }


def test_invalid_layer_has_no_portability(client: TestClient) -> None:
    body = client.post("/v1/shape", json={"input_size": 5, "kernel_size": 3, "output_padding": 3}).json()
    assert body["valid"] is False
    assert body["portability"] is None


def test_keras_groups_rule(client: TestClient) -> None:
    layer = {"input_size": 5, "kernel_size": 3, "in_channels": 4, "out_channels": 4, "groups": 2}
    body = client.post("/v1/shape", json=layer).json()
    assert body["portability"]["keras"]["status"] == "refused"
    assert "groups" in body["portability"]["keras"]["reason"]
    search = client.post(
        "/v1/search",
        json={
            "input_size": 7,
            "output_size": 14,
            "in_channels": 4,
            "out_channels": 4,
            "groups": 2,
            "portable_to": ["keras"],
        },
    ).json()
    assert search["total"] == 0
    assert "groups" in search["reason"]
    plan = client.post(
        "/v1/plan",
        json={
            "input_size": 4,
            "output_size": 16,
            "in_channels": 4,
            "out_channels": 4,
            "groups": 2,
            "portable_to": ["keras"],
        },
    )
    assert plan.status_code == 422
    assert plan.json()["error"]["code"] == "not_portable"


def _every(client: TestClient, request: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = client.post("/v1/search", json={**request, "limit": 1000}).json()
    assume(body["total"] <= 1000)  # the whole list on one page
    return body


@settings(max_examples=25)
@given(
    input_size=st.lists(st.integers(2, 6), min_size=1, max_size=2),
    scale=st.integers(1, 3),
    extra=st.integers(0, 3),
    targets=st.lists(st.sampled_from(["onnx", "jax", "keras"]), min_size=1, max_size=3, unique=True),
    tie_dims=st.booleans(),
)
def test_portable_to_keeps_exactly_the_exact_candidates(
    client: TestClient, input_size: list[int], scale: int, extra: int, targets: list[str], tie_dims: bool
) -> None:
    request = {
        "input_size": input_size,
        "output_size": [i * scale + extra for i in input_size],
        "kernel_size": {"min": 1, "max": 5},
        "stride": {"min": 1, "max": 3},
        "dilation": {"values": [1, 2, 3]},
        "tie_dims": tie_dims,
    }
    everything = _every(client, request)
    expected = [
        c["layer"]
        for c in everything["candidates"]
        if all(c["portability"][t]["status"] == "exact" for t in targets)
    ]
    kept = _every(client, {**request, "portable_to": targets})
    assert kept["total"] == len(expected)
    assert sorted(map(str, (c["layer"] for c in kept["candidates"]))) == sorted(map(str, expected))
    assert all(c["portability"][t]["status"] == "exact" for c in kept["candidates"] for t in targets)


def test_plan_portable_to_keeps_only_exact_layers(client: TestClient) -> None:
    request = {
        "input_size": [3],
        "output_size": [12],
        "layers": {"min": 1, "max": 2},
        "dilation": {"values": [1, 2]},
        "stride": {"min": 1, "max": 3},
        "kernel_size": {"min": 1, "max": 4},
        "limit": 1000,
    }
    everything = client.post("/v1/plan", json=request).json()
    kept = client.post("/v1/plan", json={**request, "portable_to": ["onnx"]}).json()
    assert 0 < kept["total"] < everything["total"]
    for found in kept["plans"]:
        for layer in found["layers"]:
            shape = client.post("/v1/shape", json={"input_size": [1], **layer}).json()
            assert shape["portability"] is None or shape["portability"]["onnx"]["status"] == "exact"


@pytest.mark.parametrize("field", ["portable_to"])
def test_unknown_target_is_422(client: TestClient, field: str) -> None:
    response = client.post("/v1/search", json={"input_size": 7, "output_size": 14, field: ["tflite"]})
    assert response.status_code == 422


def test_search_batch_items_filter_as_the_single_endpoint(client: TestClient) -> None:
    query = {"input_size": [5], "output_size": [6], "kernel_size": 1, "stride": 1, "dilation": 2}
    single = client.post("/v1/search", json={**query, "portable_to": ["onnx"]}).json()
    batch = client.post(
        "/v1/search/batch", json={"queries": [query, {**query, "portable_to": ["onnx"]}], "view": "full"}
    ).json()["results"]
    assert [item["total"] for item in batch] == [1, 0]
    assert batch[1]["reason"] == single["reason"]
    assert "none exports exactly to onnx" in single["reason"]
