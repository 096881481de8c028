"""Batch endpoints: in order, each item as the single endpoint answers it, failures alone."""

from __future__ import annotations

from fastapi.testclient import TestClient

from service.solver import limits


def test_shape_batch_answers_each_item_like_shape(client: TestClient) -> None:
    queries = [
        {"input_size": 7, "kernel_size": 4, "stride": 2, "padding": 1},
        {"input_size": 7},
        {"input_size": 5, "kernel_size": 3, "output_padding": 1},
        {"input_size": [3, 4, 5], "kernel_size": 2, "stride": 2},
    ]
    results = client.post("/v1/shape/batch", json={"queries": queries, "view": "full"}).json()["results"]
    assert len(results) == 4
    assert results[1]["error"]["code"] == "invalid_request"
    assert "kernel_size" in results[1]["error"]["message"]
    for query, result in zip(queries, results, strict=True):
        if "error" in result and "valid" not in result:
            continue
        assert result == client.post("/v1/shape", json=query).json()
    assert results[2]["error"]["code"] == "output_padding_too_large"


def test_shape_batch_cap(client: TestClient) -> None:
    query = {"input_size": 7, "kernel_size": 3}
    full = client.post("/v1/shape/batch", json={"queries": [query] * limits.MAX_SHAPE_BATCH})
    assert full.status_code == 200
    assert len(full.json()["results"]) == limits.MAX_SHAPE_BATCH
    over = client.post("/v1/shape/batch", json={"queries": [query] * (limits.MAX_SHAPE_BATCH + 1)})
    assert over.status_code == 422
    assert "queries" in over.json()["error"]["message"]


def test_search_batch_in_order_and_failures_alone(client: TestClient) -> None:
    queries = [
        {"input_size": 7, "output_size": 14, "limit": 3},
        {"input_size": 0, "output_size": 1},
        {"input_size": 7, "output_size": 14, "kernel_size": {"max": 1024}, "stride": {"max": 1024}},
        {"input_size": [5, 9], "output_size": [10, 18], "tie_dims": False, "offset": 4, "limit": 5},
    ]
    results = client.post("/v1/search/batch", json={"queries": queries, "view": "full"}).json()["results"]
    assert results[1]["error"]["code"] == "invalid_request"
    assert results[2]["error"]["code"] == "space_too_large"
    assert results[0] == client.post("/v1/search", json=queries[0]).json()
    assert results[3] == client.post("/v1/search", json=queries[3]).json()


def test_search_batch_of_a_thousand(client: TestClient) -> None:
    queries = [{"input_size": 1 + n % 50, "output_size": 2 + n % 97, "limit": 1} for n in range(1000)]
    results = client.post("/v1/search/batch", json={"queries": queries, "view": "full"}).json()["results"]
    assert len(results) == 1000
    assert results[123] == client.post("/v1/search", json=queries[123]).json()


def test_search_batch_budget_is_a_422_that_says_split() -> None:
    from service.api.config import Settings
    from service.api.main import create_app

    with TestClient(create_app(Settings(max_batch_search_work=200))) as small:
        response = small.post(
            "/v1/search/batch", json={"queries": [{"input_size": 7, "output_size": 14}] * 2}
        )
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "batch_too_large"
    assert "split it" in error["message"]
