"""API keys, CORS and what the service shows about itself."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from service.api.config import Settings
from service.api.main import create_app

SEARCH = {"input_size": 7, "output_size": 14, "limit": 1}


@pytest.fixture(scope="module")
def key_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("keys") / "keys"
    digest = hashlib.sha256(b"hashed-key").hexdigest()
    path.write_text(f"# team keys\nfile-key\n\nsha256:{digest}\n")
    return path


@pytest.fixture(scope="module")
def guarded(key_file: Path) -> Iterator[TestClient]:
    settings = Settings(
        verify_mode="off",
        api_keys="env-key, second-key",
        api_keys_file=key_file,
        cors_origins="https://ui.test",
    )
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": "Bearer env-key"},
        {"Authorization": "bearer second-key"},
        {"X-API-Key": "file-key"},
        {"X-API-Key": "hashed-key"},
    ],
)
def test_each_configured_key_is_accepted(guarded: TestClient, headers: dict[str, str]) -> None:
    response = guarded.post("/v1/search", json=SEARCH, headers=headers)
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": "Basic env-key"},
        {"Authorization": "Bearer env-ke"},
        {"X-API-Key": "sha256:" + hashlib.sha256(b"hashed-key").hexdigest()},  # the digest is not a key
    ],
)
def test_v1_without_a_valid_key_is_401(guarded: TestClient, headers: dict[str, str]) -> None:
    for method, path in [("POST", "/v1/search"), ("POST", "/v1/shape/batch"), ("GET", "/v1/info")]:
        response = guarded.request(method, path, json={"queries": [SEARCH]}, headers=headers)
        assert response.status_code == 401, (path, response.text)
        assert response.json()["error"]["code"] == "unauthorized"
        assert response.headers["www-authenticate"].startswith('Bearer realm="tconv"')
        assert response.headers["x-request-id"]


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/metrics", "/openapi.json", "/docs", "/playground"])
def test_operations_and_pages_stay_open(guarded: TestClient, path: str) -> None:
    assert guarded.get(path).status_code == 200


def test_open_paths_can_close_the_operations_paths() -> None:
    settings = Settings(verify_mode="off", api_keys="k", open_paths="/healthz")
    with TestClient(create_app(settings)) as test_client:
        assert test_client.get("/healthz").status_code == 200
        assert test_client.get("/metrics").status_code == 401
        assert test_client.get("/metrics", headers={"X-API-Key": "k"}).status_code == 200


def test_a_closed_healthz_needs_a_key_too() -> None:
    """/healthz is answered by the outermost middleware only while it is open."""
    settings = Settings(verify_mode="off", api_keys="k", open_paths="/readyz")
    with TestClient(create_app(settings)) as test_client:
        refused = test_client.get("/healthz")
        assert refused.status_code == 401
        assert "www-authenticate" in refused.headers
        assert test_client.get("/healthz", headers={"X-API-Key": "k"}).json() == {"status": "ok"}


def test_healthz_from_a_browser_gets_the_cors_headers(guarded: TestClient) -> None:
    answer = guarded.get("/healthz", headers={"Origin": "https://ui.test"})
    assert answer.json() == {"status": "ok"}
    assert answer.headers["access-control-allow-origin"] == "https://ui.test"


def test_no_keys_is_open_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="tconv.api"):
        app = create_app(Settings(verify_mode="off"))
    assert any("no API keys configured" in record.message for record in caplog.records)
    with TestClient(app) as test_client:
        assert test_client.post("/v1/search", json=SEARCH).status_code == 200


def test_a_malformed_digest_in_the_key_file_stops_startup(tmp_path: Path) -> None:
    path = tmp_path / "keys"
    path.write_text("sha256:nothex\n")
    with pytest.raises(ValueError, match="line 1"):
        create_app(Settings(verify_mode="off", api_keys_file=path))


def test_cors_preflight_and_allowed_origin(guarded: TestClient) -> None:
    preflight = guarded.options(
        "/v1/search",
        headers={
            "Origin": "https://ui.test",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "https://ui.test"
    answer = guarded.post(
        "/v1/search", json=SEARCH, headers={"Origin": "https://ui.test", "X-API-Key": "env-key"}
    )
    assert answer.headers["access-control-allow-origin"] == "https://ui.test"
    assert "x-request-id" in answer.headers["access-control-expose-headers"].lower()
    other = guarded.options(
        "/v1/search", headers={"Origin": "https://evil.test", "Access-Control-Request-Method": "POST"}
    )
    assert other.status_code == 400
    assert "access-control-allow-origin" not in other.headers


def test_internals_are_hidden_unless_exposed() -> None:
    for expose in (False, True):
        with TestClient(create_app(Settings(verify_mode="embedded", expose_internals=expose))) as test_client:
            info = test_client.get("/v1/info").json()
            ready = test_client.get("/readyz").json()
            verified = test_client.post(
                "/v1/verify", json={"input_size": 4, "layers": [{"kernel_size": 2, "stride": 2}]}
            ).json()
        shown = [info["verification"].get("torch_version"), verified["torch_version"]]
        shown.append(ready["worker"].get("torch_version"))
        if expose:
            assert all(shown), shown
            assert info["python"].count(".") == 2
        else:
            assert not any(shown), shown
            assert info["python"] == "hidden"
            assert verified["results"][0]["status"] == "confirmed"
