"""/v1/verify (embedded, CPU) agrees with torch for valid and invalid layers; meta never over-accepts."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.differential.torch_truth import module_output

pytestmark = pytest.mark.torch


@st.composite
def requests(draw: st.DrawFn) -> dict[str, Any]:
    ndim = draw(st.integers(1, 3))
    dims = lambda lo, hi: st.lists(st.integers(lo, hi), min_size=ndim, max_size=ndim)  # noqa: E731
    layers = [
        {
            "kernel_size": draw(dims(1, 4)),
            "stride": draw(dims(1, 3)),
            "padding": draw(dims(0, 3)),
            "output_padding": draw(dims(0, 3)),
            "dilation": draw(dims(1, 2)),
        }
        for _ in range(draw(st.integers(1, 4)))
    ]
    groups = draw(st.sampled_from([1, 2]))
    return {
        "input_size": draw(dims(1, 6)),
        "layers": layers,
        "in_channels": draw(st.sampled_from([2, 3, 4])),
        "out_channels": 2 * groups,
        "groups": groups,
        "device": draw(st.sampled_from(["cpu", "auto", "meta"])),
        "numerics": draw(st.booleans()),
    }


@pytest.fixture(scope="module")
def verifying_client() -> Any:
    from service.api.config import Settings
    from service.api.main import create_app

    # Internals exposed: the answers name the torch version they were checked with.
    with TestClient(create_app(Settings(verify_mode="embedded", expose_internals=True))) as client:
        yield client


@settings(max_examples=150)
@given(request=requests())
def test_verify_agrees_with_torch(verifying_client: TestClient, request: dict[str, Any]) -> None:
    body = verifying_client.post("/v1/verify", json=request).json()
    assert len(body["results"]) == len(request["layers"])
    for layer, result in zip(request["layers"], body["results"], strict=True):
        truth = module_output(
            request["input_size"],
            in_channels=request["in_channels"],
            out_channels=request["out_channels"],
            groups=request["groups"],
            **layer,
        )
        if truth is None:
            # The CPU refuses it: no device, meta included, may confirm it.
            assert result["status"] == "failed", result
            assert result["expected_output_size"] is None
        else:
            assert result["status"] == "confirmed", result
            assert result["output_size"] == list(truth) == result["expected_output_size"]
            if request["numerics"] and request["device"] != "meta":
                assert result["max_abs_error"] < 1e-4


def test_meta_does_not_confirm_what_the_cpu_refuses(verifying_client: TestClient) -> None:
    # torch 2.13's meta kernel skips the output_padding rule: it runs this and gives 12×12.
    layer = {"kernel_size": 3, "stride": 2, "padding": 1, "output_padding": 3}
    result = verifying_client.post(
        "/v1/verify", json={"input_size": 5, "layers": [layer], "device": "meta"}
    ).json()["results"][0]
    assert result["status"] == "failed"
    assert result["output_size"] == [12, 12]
    assert result["accepted_by"] == ["meta"]
    assert result["refused_by"] == ["cpu"]


def test_timing_backward_and_cache(verifying_client: TestClient) -> None:
    request = {
        "input_size": [8, 8],
        "layers": [{"kernel_size": 4, "stride": 2, "padding": 1}],
        "in_channels": 8,
        "out_channels": 4,
        "timing": True,
        "backward": True,
        "repeats": 3,
    }
    first = verifying_client.post("/v1/verify", json=request).json()
    result = first["results"][0]
    assert result["status"] == "confirmed"
    assert result["latency_ms"] > 0
    assert result["backward_ms"] > 0
    assert first["torch_version"].startswith("2.")
    again = verifying_client.post("/v1/verify", json=request).json()["results"][0]
    assert again["cached"] is True
    assert again["latency_ms"] == result["latency_ms"]


def test_tensors_over_the_cap_are_unavailable_not_run(verifying_client: TestClient) -> None:
    request = {"input_size": [4096, 4096], "in_channels": 8, "layers": [{"kernel_size": 2, "stride": 2}]}
    result = verifying_client.post("/v1/verify", json=request).json()["results"][0]
    assert result["status"] == "unavailable"
    assert "cap" in result["error"]


def test_search_with_verify_device_confirms_every_candidate(verifying_client: TestClient) -> None:
    body = verifying_client.post(
        "/v1/search", json={"input_size": [5, 6], "output_size": [10, 12], "verify": "device", "limit": 20}
    ).json()
    assert body["candidates"]
    assert {c["verification"]["status"] for c in body["candidates"]} == {"confirmed"}


def test_latency_objective_ranks_by_measured_latency(verifying_client: TestClient) -> None:
    body = verifying_client.post(
        "/v1/search",
        json={"input_size": 7, "output_size": 14, "objective": "latency", "limit": 50, "in_channels": 8},
    ).json()
    assert body["objective"] == "latency"
    assert len(body["candidates"]) == body["total"] == 15
    scores = [c["score"] for c in body["candidates"]]
    assert scores == sorted(scores)
    assert [c["rank"] for c in body["candidates"]] == list(range(1, 16))
    assert all(c["verification"]["latency_ms"] is not None for c in body["candidates"])


def test_cuda_without_a_gpu_is_unavailable_not_failed(verifying_client: TestClient) -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    result = verifying_client.post(
        "/v1/verify",
        json={"input_size": 7, "layers": [{"kernel_size": 4, "stride": 2, "padding": 1}], "device": "cuda"},
    ).json()["results"][0]
    assert result["status"] == "unavailable"
    assert "no CUDA device" in result["error"]
