"""The contract's shapes for /v1/shape, /v1/search and the operations routes (in-process)."""

from __future__ import annotations

import ast
import os
import subprocess
import sys

import pytest
from fastapi.testclient import TestClient

from service.api.config import Settings
from service.api.main import create_app
from service.solver.ranking import OBJECTIVES


def test_readme_curl_example(client: TestClient) -> None:
    body = client.post("/v1/search", json={"input_size": 7, "output_size": 14}).json()
    assert body["total"] == 15
    assert body["module"] == "ConvTranspose2d"
    first = body["candidates"][0]
    assert first["rank"] == 1
    assert first["layer"] == {
        "kernel_size": [2, 2],
        "stride": [2, 2],
        "padding": [0, 0],
        "output_padding": [0, 0],
        "dilation": [1, 1],
    }
    assert first["snippet"] == "nn.ConvTranspose2d(1, 1, kernel_size=2, stride=2)"
    assert body["candidates"][1]["derivation"][0] == "(7-1)·2 − 2·1 + 1·(4−1) + 0 + 1 = 14"


def test_shape_answers_a_refused_layer_with_200(client: TestClient) -> None:
    response = client.post(
        "/v1/shape",
        json={"input_size": 5, "kernel_size": 3, "stride": 2, "padding": 1, "output_padding": 3},
    )
    assert response.status_code == 200
    body = response.json()
    assert body["valid"] is False
    assert body["output_size"] is None
    assert body["error"]["code"] == "output_padding_too_large"
    assert "over by 2" in body["error"]["message"]


def test_shape_broadcasts_and_picks_the_module(client: TestClient) -> None:
    body = client.post(
        "/v1/shape", json={"input_size": [5, 6, 7], "kernel_size": 3, "stride": [1, 2, 3]}
    ).json()
    assert body["module"] == "ConvTranspose3d"
    assert body["output_size"] == [7, 13, 21]
    assert body["layer"]["kernel_size"] == [3, 3, 3]


def test_search_broadcasts_an_int_to_the_other_size(client: TestClient) -> None:
    body = client.post("/v1/search", json={"input_size": 8, "output_size": [16]}).json()
    assert body["module"] == "ConvTranspose1d"
    assert body["input_size"] == [8]


def test_search_without_solutions_explains_and_offers_nearest(client: TestClient) -> None:
    request = {"input_size": 7, "output_size": 15, "kernel_size": 4, "stride": 2, "output_padding": 0}
    body = client.post("/v1/search", json=request).json()
    assert body["total"] == 0
    assert body["candidates"] == []
    assert "dim 0" in body["reason"]
    assert "maps 7 to 15" in body["reason"]
    nearest = {n["direction"]: n for n in body["nearest"]}
    assert nearest["below"]["output_size"] == [14, 14]
    assert nearest["above"]["output_size"] == [16, 16]
    for near in body["nearest"]:
        shape = client.post(
            "/v1/shape", json={"input_size": 7, **{k: v for k, v in near["example"]["layer"].items()}}
        ).json()
        assert shape["output_size"] == near["output_size"]


def test_groups_that_do_not_divide_channels_are_an_answer(client: TestClient) -> None:
    body = client.post(
        "/v1/search", json={"input_size": 7, "output_size": 14, "groups": 2, "in_channels": 3}
    ).json()
    assert body["total"] == 0
    assert "in_channels 3 must be divisible by groups 2" in body["reason"]


def test_search_is_deterministic_and_pages_agree(client: TestClient) -> None:
    request = {"input_size": [9, 12], "output_size": [19, 24], "kernel_size": {"max": 10}, "tie_dims": False}
    whole = client.post("/v1/search", json={**request, "limit": 200}).json()
    again = client.post("/v1/search", json={**request, "limit": 200}).json()
    assert whole == again
    stitched = []
    for offset in range(0, 200, 37):
        stitched += client.post("/v1/search", json={**request, "offset": offset, "limit": 37}).json()[
            "candidates"
        ]
    assert stitched[:200] == whole["candidates"]


def test_snippet_runs_in_torch(client: TestClient) -> None:
    import torch
    from torch import nn

    request = {
        "input_size": [5, 6],
        "output_size": [11, 12],
        "in_channels": 4,
        "out_channels": 6,
        "groups": 2,
        "bias": False,
        "tie_dims": False,
        "limit": 20,
    }
    for candidate in client.post("/v1/search", json=request).json()["candidates"]:
        tree = ast.parse(candidate["snippet"], mode="eval")
        layer = eval(compile(tree, "<snippet>", "eval"), {"nn": nn})
        assert list(layer(torch.zeros(1, 4, 5, 6)).shape[2:]) == [11, 12]


def test_info_lists_objectives_and_limits(client: TestClient) -> None:
    info = client.get("/v1/info").json()
    assert [o["name"] for o in info["objectives"]] == [*OBJECTIVES, "latency"]
    assert info["limits"]["max_limit"] == 1000
    assert info["limits"]["max_search_triples"] >= 1
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json()["status"] == "ready"


def test_objective_names_in_the_schema_match_the_solver(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    objective = schema["components"]["schemas"]["SearchRequest"]["properties"]["objective"]
    assert objective["enum"] == [*OBJECTIVES, "latency"]
    operation_ids = {op["operationId"] for path in schema["paths"].values() for op in path.values()}
    assert {"shape-shape", "search-search", "ops-healthz"} <= operation_ids


@pytest.mark.parametrize(
    "env", [{"TCONV_VERIFY_MODE": "off"}, {"TCONV_WORKER_URL": "http://127.0.0.1:9"}], ids=["off", "remote"]
)
def test_api_does_not_import_torch_unless_it_verifies_in_process(env: dict[str, str]) -> None:
    code = (
        "import sys; from fastapi.testclient import TestClient; from service.api.main import create_app\n"
        "with TestClient(create_app()) as c:\n"
        "    c.post('/v1/search', json={'input_size': 7, 'output_size': 14, 'verify': 'device'})\n"
        "    c.post('/v1/verify', json={'input_size': 7, 'layers': [{'kernel_size': 2}]})\n"
        "print('torch' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env={**os.environ, **env}
    )
    assert out.stdout.strip() == "False"


def test_latency_without_a_worker_is_a_422_that_says_so() -> None:
    with TestClient(create_app(Settings(verify_mode="off"))) as off:
        response = off.post("/v1/search", json={"input_size": 7, "output_size": 14, "objective": "latency"})
        info = off.get("/v1/info").json()
    assert {o["name"]: o["available"] for o in info["objectives"]}["latency"] is False
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "objective_unavailable"
    assert "worker" in response.json()["error"]["message"]


def test_cost_and_quality_objectives_answer(client: TestClient) -> None:
    cost = client.post("/v1/search", json={"input_size": 7, "output_size": 14, "objective": "cost"}).json()
    macs = [c["cost"]["macs"] for c in cost["candidates"]]
    assert macs == sorted(macs)
    assert cost["candidates"][0]["layer"]["kernel_size"] == [1, 1]
    quality = client.post(
        "/v1/search", json={"input_size": 7, "output_size": 14, "objective": "quality"}
    ).json()
    assert quality["total"] == cost["total"]
    assert not quality["candidates"][0]["overlap"]["checkerboard"]
    assert quality["candidates"][0]["overlap"]["holes"] == 0


def test_every_json_answer_is_documented_by_its_model(client: TestClient) -> None:
    # A response class outside JSONResponse makes FastAPI publish {"type": "string"} instead.
    schema = client.get("/openapi.json").json()
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            content = operation["responses"]["200"].get("content", {})
            if "application/json" in content:
                # One model, or one per view (full | basic).
                body = content["application/json"]["schema"]
                refs = [body] if "$ref" in body else body.get("anyOf", [])
                assert refs, (method, path)
                assert all("$ref" in ref for ref in refs), (method, path)
