"""Requests the schema admits never get a 5xx, and the schema and the validators agree."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from service.api.answers import search as search_answers
from service.api.config import Settings
from service.api.main import create_app
from service.solver.cost import layer_cost

HUGE_SHAPE = {"input_size": [2**20] * 3, "kernel_size": 1024, "stride": 1024, "dilation": 1024}


@pytest.fixture(scope="module")
def app() -> FastAPI:
    return create_app(Settings(verify_mode="off"))


@pytest.fixture(scope="module")
def lenient(app: FastAPI) -> Iterator[TestClient]:
    # raise_server_exceptions=False: the client sees what a real caller would, a 500 included.
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def test_macs_past_64_bits_are_exact(lenient: TestClient) -> None:
    response = lenient.post("/v1/shape", json=HUGE_SHAPE)
    assert response.status_code == 200, response.text
    macs = json.loads(response.content)["cost"]["macs"]  # the standard library keeps every digit
    assert macs == layer_cost((2**20,) * 3, (1024,) * 3).macs
    assert macs > 2**64


def test_a_huge_item_does_not_fail_its_batch(lenient: TestClient) -> None:
    small = {"input_size": 7, "kernel_size": 4, "stride": 2, "padding": 1}
    response = lenient.post("/v1/shape/batch", json={"queries": [HUGE_SHAPE, small], "view": "full"})
    assert response.status_code == 200, response.text
    huge, answer = json.loads(response.content)["results"]
    assert huge["cost"]["macs"] == layer_cost((2**20,) * 3, (1024,) * 3).macs
    assert answer["output_size"] == [14, 14]


def test_a_failing_search_item_fails_alone(lenient: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    # Fault injection: no known input breaks the solver any more, so one item is made to.
    real = search_answers.answer_search

    def broken(request: Any, budget: Any, **options: Any) -> Any:
        if request.input_size == 5:
            raise RuntimeError("injected")
        return real(request, budget, **options)

    monkeypatch.setattr(search_answers, "answer_search", broken)
    queries = [{"input_size": 5, "output_size": 10}, {"input_size": 7, "output_size": 14, "limit": 1}]
    response = lenient.post("/v1/search/batch", json={"queries": queries, "view": "full"})
    assert response.status_code == 200, response.text
    failed, answered = response.json()["results"]
    assert failed["error"]["code"] == "internal_error"
    assert "injected" not in response.text
    assert answered["total"] == 15


def test_plan_with_padding_past_every_output(lenient: TestClient) -> None:
    body = {"input_size": 4, "output_size": 64, "layers": 4, "kernel_size": 1, "padding": [1048575]}
    response = lenient.post("/v1/plan", json=body)
    assert response.status_code == 200, response.text
    assert response.json()["total"] == 0


def test_unhandled_error_is_the_json_envelope_with_the_request_id() -> None:
    app = create_app(Settings(verify_mode="off"))

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("secret internals")

    with TestClient(app, raise_server_exceptions=False) as test_client:
        response = test_client.get("/boom", headers={"X-Request-ID": "trace-7"})
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/json"
    assert response.headers["x-request-id"] == "trace-7"
    error = response.json()["error"]
    assert error["code"] == "internal_error"
    assert "trace-7" in error["message"]
    assert "secret" not in response.text
    assert "Traceback" not in response.text


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        (b"job-42", True),
        (b"a" * 64, True),
        (b"a" * 65, False),
        ("café".encode(), False),
        (b"two words", False),
        (b"tab\there", False),
    ],
)
def test_request_ids_are_printable_ascii(lenient: TestClient, sent: bytes, kept: bool) -> None:
    response = lenient.get("/healthz", headers=[(b"x-request-id", sent)])  # type: ignore[arg-type]
    assert response.status_code == 200
    echoed = response.headers["x-request-id"]
    if kept:
        assert echoed == sent.decode()
    else:
        assert echoed != sent.decode("latin-1")
        assert len(echoed) == 32
        assert echoed.isalnum()


# Requests the published schema admits: each must be answered, not refused.
ADMITTED: list[tuple[str, dict[str, Any]]] = [
    ("/v1/shape", {"input_size": 7, "kernel_size": [3]}),
    ("/v1/shape", {"input_size": 7, "kernel_size": 3, "stride": [2]}),
    ("/v1/shape", {"input_size": 452.0, "kernel_size": 4.0, "stride": 2e0}),
    ("/v1/search", {"input_size": 7.0, "output_size": [14.0, 14], "limit": 1.0}),
    ("/v1/search", {"input_size": 7, "output_size": 14, "kernel_size": {"max": 4.0}}),
    ("/v1/plan", {"input_size": 4, "output_size": 16.0, "layers": 2.0, "limit": 1}),
    ("/v1/shape/batch", {"queries": [{"input_size": 7.0, "kernel_size": [3]}]}),
]


def _request_schema(app: FastAPI, path: str) -> dict[str, Any]:
    spec = app.openapi()
    body = spec["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"]
    return {**body, "components": spec["components"]}


@pytest.mark.parametrize(("path", "body"), ADMITTED)
def test_what_the_schema_admits_is_answered(
    app: FastAPI, lenient: TestClient, path: str, body: dict[str, Any]
) -> None:
    jsonschema.validate(body, _request_schema(app, path))  # the premise: the schema admits it
    response = lenient.post(path, content=json.dumps(body), headers={"content-type": "application/json"})
    assert response.status_code == 200, response.text
    if path == "/v1/shape/batch":
        assert response.json()["results"][0]["valid"] is True


# Requests the service refuses: the published schema must refuse them too.
REFUSED: list[tuple[str, dict[str, Any]]] = [
    ("/v1/plan", {"input_size": 4, "output_size": 16, "objective": "latency"}),
    ("/v1/search", {"input_size": 7, "output_size": 14, "kernel_size": {"min": 1, "max": 3, "values": [2]}}),
    ("/v1/search", {"input_size": 7, "output_size": 14, "stride": {"min": 1}}),
    ("/v1/shape", {"input_size": 7, "kernel_size": 2.5}),
]


@pytest.mark.parametrize(("path", "body"), REFUSED)
def test_what_the_service_refuses_the_schema_refuses(
    app: FastAPI, lenient: TestClient, path: str, body: dict[str, Any]
) -> None:
    response = lenient.post(path, json=body)
    assert response.status_code == 422, response.text
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(body, _request_schema(app, path))


def test_a_unicode_digit_in_a_picture_query_is_a_422(lenient: TestClient) -> None:
    # "²".isdigit() is true and int("²") raises: this was a 500 (found by make fuzz).
    response = lenient.get("/v1/overlap.svg", params={"input_size": "7", "kernel_size": "\u00b2"})
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "invalid_request"
