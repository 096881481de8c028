"""Request ids, JSON access logs and Prometheus metrics."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import logging
from collections.abc import Iterator
from datetime import datetime

import pytest
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY

from service.api.config import Settings
from service.api.main import create_app
from service.http.logs import ACCESS_LOG, AccessLog, json_formatter, logging_config


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_request_id_is_echoed_or_made(client: TestClient, path: str) -> None:
    given = client.get(path, headers={"X-Request-ID": "abc-123"})
    assert given.headers["x-request-id"] == "abc-123"
    made = client.get(path).headers["x-request-id"]
    assert len(made) == 32
    assert made != client.get(path).headers["x-request-id"]
    assert client.get(path, headers={"X-Request-ID": "café".encode()}).headers["x-request-id"] != "café"


def test_server_timing_reports_the_time_to_the_response_head(client: TestClient) -> None:
    for response in (client.get("/healthz"), client.post("/v1/shape", json={"input_size": 7})):
        name, duration = response.headers["server-timing"].split(";dur=")
        assert name == "app"
        assert float(duration) > 0


def test_metrics_count_routes_and_searches(client: TestClient) -> None:
    client.get("/healthz")
    client.post("/v1/search", json={"input_size": 7, "output_size": 14, "limit": 3})
    client.post("/v1/shape", json={"input_size": 7, "kernel_size": 0})
    text = client.get("/metrics").text
    assert 'tconv_requests_total{method="POST",route="/v1/search",status="200"}' in text
    assert 'tconv_requests_total{method="GET",route="/healthz",status="200"}' in text
    assert 'tconv_requests_total{method="POST",route="/v1/shape",status="422"}' in text
    assert "tconv_request_duration_seconds_bucket" in text
    assert "tconv_search_space_size_count" in text
    assert "tconv_candidates_returned_total" in text
    client.get("/no/such/path")
    assert 'route="unmatched"' in client.get("/metrics").text


def _written(capsys: pytest.CaptureFixture[str]) -> str:
    """stderr so far, with the access lines the app's lifespan gathers written out first."""
    ACCESS_LOG.flush()
    return capsys.readouterr().err


def _access_lines(err: str) -> list[dict[str, object]]:
    return [line for line in map(json.loads, err.splitlines()) if line.get("logger") == "tconv.access"]


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [("GET", "/healthz", 200), ("POST", "/v1/shape", 422), ("GET", "/no/such/path", 404)],
)
def test_access_log_is_one_json_line_per_request_with_its_id(
    client: TestClient, capsys: pytest.CaptureFixture[str], method: str, path: str, status: int
) -> None:
    _written(capsys)
    with _access_log_level(logging.INFO):
        client.request(
            method, path, json={} if method == "POST" else None, headers={"X-Request-ID": "trace-me"}
        )
    (line,) = _access_lines(_written(capsys))
    assert line["request_id"] == "trace-me"
    assert (line["level"], line["message"]) == ("INFO", "request")
    assert (line["method"], line["path"], line["status"]) == (method, path, status)
    assert isinstance(line["duration_ms"], float)
    # ISO 8601 with the zone, as log pipelines parse it.
    stamp = datetime.fromisoformat(str(line["time"]))
    assert stamp.utcoffset() is not None


def test_access_log_follows_the_log_level(client: TestClient, capsys: pytest.CaptureFixture[str]) -> None:
    _written(capsys)
    with _access_log_level(logging.WARNING):
        client.get("/healthz")
    assert _access_lines(_written(capsys)) == []


@contextlib.contextmanager
def _access_log_level(level: int) -> Iterator[None]:
    logger = logging.getLogger("tconv.access")
    before = logger.level
    logger.setLevel(level)
    try:
        yield
    finally:
        logger.setLevel(before)


def test_log_records_are_json_lines_with_an_iso_time() -> None:
    assert logging_config("info")["formatters"]["json"]["()"] == "service.http.logs.json_formatter"
    record = logging.LogRecord("tconv.errors", logging.ERROR, __file__, 1, "boom", None, None)
    record.request_id = "trace-me"
    line = json.loads(json_formatter().format(record))
    assert (line["level"], line["logger"], line["request_id"]) == ("ERROR", "tconv.errors", "trace-me")
    assert datetime.fromisoformat(line["time"]).utcoffset() is not None


def test_access_lines_wait_for_the_next_flush_and_none_is_lost_when_flushing_stops() -> None:
    """TCONV_ACCESS_LOG_FLUSH_S: while a flusher runs, lines are gathered, then written together."""
    stream = io.StringIO()
    access = AccessLog(stream=stream)

    async def scenario() -> None:
        access.write("request", {"n": 0})  # no flusher yet: written at once
        assert stream.getvalue().count("\n") == 1
        flusher = asyncio.create_task(access.flush_every(3600))
        await asyncio.sleep(0)
        for n in range(1, 4):
            access.write("request", {"n": n})
        assert stream.getvalue().count("\n") == 1  # gathered
        flusher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await flusher

    asyncio.run(scenario())
    assert [json.loads(line)["n"] for line in stream.getvalue().splitlines()] == [0, 1, 2, 3]


def test_the_apps_shutdown_writes_the_gathered_access_lines(capsys: pytest.CaptureFixture[str]) -> None:
    with _access_log_level(logging.INFO):
        with TestClient(create_app(Settings(verify_mode="off", access_log_flush_s=5))) as test_client:
            _written(capsys)
            for n in range(3):
                test_client.get("/healthz", headers={"X-Request-ID": f"gathered-{n}"})
        ids = [line["request_id"] for line in _access_lines(capsys.readouterr().err)]
    assert ids == ["gathered-0", "gathered-1", "gathered-2"]


def test_a_broken_stderr_loses_lines_but_fails_no_request() -> None:
    class Broken(io.StringIO):
        def write(self, text: str) -> int:
            raise BrokenPipeError

    access = AccessLog(stream=Broken())
    lost = REGISTRY.get_sample_value("tconv_access_log_lines_lost_total") or 0.0
    access.write("request", {"n": 1})  # written at once: no flusher
    assert REGISTRY.get_sample_value("tconv_access_log_lines_lost_total") == lost + 1


@pytest.mark.parametrize("enabled", [False, True])
def test_fastapi_opentelemetry_is_off_unless_asked_for(
    monkeypatch: pytest.MonkeyPatch, enabled: bool
) -> None:
    # With it on and no provider configured, FastAPI looks up the global providers on every
    # request; off, it never does (that lookup was ~8 % of a /healthz answer).
    from opentelemetry import trace

    lookups = []
    real = trace.get_tracer_provider

    def counted() -> trace.TracerProvider:
        lookups.append(1)
        return real()

    monkeypatch.setattr(trace, "get_tracer_provider", counted)
    with TestClient(create_app(Settings(opentelemetry=enabled))) as client:
        lookups.clear()
        assert client.get("/healthz").status_code == 200
        assert client.post("/v1/search", json={"input_size": 7, "output_size": 14}).status_code == 200
    assert bool(lookups) is enabled

    from service.worker.app import create_worker_app
    from service.worker.config import WorkerSettings

    with TestClient(create_worker_app(WorkerSettings(opentelemetry=enabled))) as worker:
        lookups.clear()
        assert worker.get("/healthz").status_code == 200
    assert bool(lookups) is enabled
