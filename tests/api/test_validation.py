"""Every field out of its domain is a 422 whose body names the field and the rule."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

SHAPE = {"input_size": 7, "kernel_size": 4, "stride": 2, "padding": 1}
SEARCH = {"input_size": 7, "output_size": 14}

SHAPE_CASES: list[tuple[str, Any, str]] = [
    ("input_size", 0, "must be in 1..1048576"),
    ("input_size", [7, 0], "must be in 1..1048576"),
    ("input_size", [1, 2, 3, 4], "must have 1 to 3 entries"),
    ("input_size", [], "must have 1 to 3 entries"),
    ("input_size", 2**21, "must be in 1..1048576"),
    ("input_size", "7", "must be an integer"),
    ("kernel_size", 0, "must be in 1..1024"),
    ("kernel_size", 2.5, "must be an integer"),
    ("kernel_size", True, "must be an integer"),
    ("kernel_size", None, "must be an integer"),
    ("stride", 0, "must be in 1..1024"),
    ("padding", -1, "must be in 0..1048576"),
    ("output_padding", -1, "must be in 0..1023"),
    ("output_padding", 1024, "must be in 0..1023"),
    ("dilation", 0, "must be in 1..1024"),
    ("in_channels", 0, "greater than or equal to 1"),
    ("out_channels", 2**17, "less than or equal to 65536"),
    ("groups", 0, "greater than or equal to 1"),
    ("batch_size", 0, "greater than or equal to 1"),
    ("bias", "yes", "valid boolean"),
    ("dtype", "int8", "float32"),
    ("kernal_size", 3, "Extra inputs are not permitted"),
]


@pytest.mark.parametrize(("field", "value", "rule"), SHAPE_CASES)
def test_shape_field_out_of_domain(client: TestClient, field: str, value: Any, rule: str) -> None:
    response = client.post("/v1/shape", json={**SHAPE, field: value})
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_request"
    assert error["message"].startswith(f"{field}")
    assert rule in error["message"]
    assert error["details"][0]["field"].split(".")[0] == field


def test_shape_missing_kernel_size(client: TestClient) -> None:
    response = client.post("/v1/shape", json={"input_size": 7})
    assert response.status_code == 422
    assert response.json()["error"]["details"][0] == {
        "field": "kernel_size",
        "rule": "missing",
        "message": "kernel_size: Field required",
    }


def test_layer_field_longer_than_the_input(client: TestClient) -> None:
    response = client.post("/v1/shape", json={"input_size": [7, 7], "kernel_size": [3, 3, 3]})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "dimension_mismatch"
    assert "input_size has 2, kernel_size has 3" in error["message"]


SEARCH_CASES: list[tuple[str, Any, str]] = [
    ("output_size", 0, "must be in 1..1048576"),
    ("kernel_size", {"min": 0, "max": 3}, "must lie within 1..1024"),
    ("kernel_size", {"min": 4, "max": 3}, "min 4 is greater than max 3"),
    ("kernel_size", {"min": 1}, "needs max"),
    ("kernel_size", {"min": 1, "max": 3, "values": [2]}, "not both"),
    ("kernel_size", {"values": []}, "at least 1 item"),
    ("stride", {"values": [2, 2000]}, "must lie within 1..1024"),
    ("dilation", {"max": 0}, "must lie within 1..1024"),
    ("padding", {"min": -1, "max": 2}, "greater than or equal to 0"),
    ("output_padding", {"values": [1024]}, "must lie within 0..1023"),
    ("tie_dims", "no", "valid boolean"),
    ("objective", "fastest", "balanced"),
    ("limit", 0, "greater than or equal to 1"),
    ("limit", 1001, "less than or equal to 1000"),
    ("offset", -1, "greater than or equal to 0"),
    ("verify", "gpu", "none"),
]


@pytest.mark.parametrize(("field", "value", "rule"), SEARCH_CASES)
def test_search_field_out_of_domain(client: TestClient, field: str, value: Any, rule: str) -> None:
    response = client.post("/v1/search", json={**SEARCH, field: value})
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["message"].startswith(field)
    assert rule in error["message"], error["message"]


def test_search_sizes_of_different_dimensionality(client: TestClient) -> None:
    response = client.post("/v1/search", json={"input_size": [7, 7], "output_size": [14, 14, 14]})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "dimension_mismatch"


def test_space_over_budget_says_how_to_narrow(client: TestClient) -> None:
    response = client.post(
        "/v1/search", json={**SEARCH, "kernel_size": {"max": 1024}, "stride": {"max": 1024}}
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "space_too_large"
    assert "narrow kernel_size, stride or dilation" in error["message"]


def test_malformed_json_is_a_422_in_the_same_body(client: TestClient) -> None:
    response = client.post("/v1/shape", content=b"{", headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_request"


def test_unknown_route_uses_the_error_body(client: TestClient) -> None:
    response = client.get("/v1/nothing")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("path", ["/v1/shape", "/v1/search", "/v1/shape/batch", "/v1/plan"])
def test_an_undecodable_body_is_a_422_like_every_other_malformed_body(client: TestClient, path: str) -> None:
    response = client.post(path, content=b"]\xff\xfe", headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_request"


def test_a_body_over_the_cap_is_a_413_that_says_so() -> None:
    from service.api.config import Settings
    from service.api.main import create_app

    small = TestClient(create_app(Settings(verify_mode="off", max_body_bytes=2048)))
    queries = [{"input_size": 7, "kernel_size": 3}] * 200
    response = small.post("/v1/shape/batch", json={"queries": queries})
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "body_too_large"
    # Without a content-length (a streamed body), the cap holds as the bytes arrive.
    chunks = (b'{"queries": [' + b'{"input_size": 7, "kernel_size": 3},' * 100 for _ in range(3))
    streamed = small.post("/v1/shape/batch", content=chunks, headers={"content-type": "application/json"})
    assert streamed.status_code == 413
    assert small.post("/v1/shape/batch", json={"queries": queries[:10]}).status_code == 200
