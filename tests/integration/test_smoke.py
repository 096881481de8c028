"""Smoke suite over HTTP against a real `python -m service` process on 127.0.0.1."""

from __future__ import annotations

import httpx
import pytest

pytestmark = pytest.mark.integration


def test_search_over_http(service_url: str) -> None:
    response = httpx.post(f"{service_url}/v1/search", json={"input_size": 7, "output_size": 14}, timeout=10)
    assert response.status_code == 200
    body = response.json()
    assert body["total"] == 15
    assert len(body["candidates"]) == 10
    assert body["candidates"][0]["snippet"] == "nn.ConvTranspose2d(1, 1, kernel_size=2, stride=2)"


def test_shape_and_errors_over_http(service_url: str) -> None:
    ok = httpx.post(
        f"{service_url}/v1/shape", json={"input_size": 7, "kernel_size": 4, "stride": 2, "padding": 1}
    )
    assert ok.json()["output_size"] == [14, 14]
    bad = httpx.post(f"{service_url}/v1/shape", json={"input_size": 7, "kernel_size": 0})
    assert bad.status_code == 422
    assert bad.json()["error"]["details"][0]["field"] == "kernel_size"


def test_operations_over_http(service_url: str) -> None:
    assert httpx.get(f"{service_url}/healthz").json() == {"status": "ok"}
    assert httpx.get(f"{service_url}/readyz").status_code == 200
    assert httpx.get(f"{service_url}/v1/info").json()["api_version"] == "v1"
    schema = httpx.get(f"{service_url}/openapi.json").json()
    assert "/v1/search" in schema["paths"]
    assert httpx.get(f"{service_url}/docs").status_code == 200


def test_settings_come_from_the_environment(tmp_path: object) -> None:
    from tests.integration.conftest import free_port, start, stop

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = start(["-m", "service", "--port", str(port)], url, env={"TCONV_MAX_SEARCH_TRIPLES": "10"})
    try:
        response = httpx.post(f"{url}/v1/search", json={"input_size": 7, "output_size": 14})
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "space_too_large"
        assert httpx.get(f"{url}/v1/info").json()["limits"]["max_search_triples"] == 10
    finally:
        stop(process)
