"""Request ids, JSON access logs and Prometheus metrics."""

from __future__ import annotations

import json
import logging
from datetime import datetime

import pytest
from fastapi.testclient import TestClient

from service.http.logs import json_formatter, logging_config


def test_request_id_is_echoed_or_made(client: TestClient) -> None:
    given = client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert given.headers["x-request-id"] == "abc-123"
    made = client.get("/healthz").headers["x-request-id"]
    assert len(made) == 32
    assert made != client.get("/healthz").headers["x-request-id"]


def test_server_timing_reports_the_time_to_the_response_head(client: TestClient) -> None:
    for response in (client.get("/healthz"), client.post("/v1/shape", json={"input_size": 7})):
        name, duration = response.headers["server-timing"].split(";dur=")
        assert name == "app"
        assert float(duration) > 0


def test_metrics_count_routes_and_searches(client: TestClient) -> None:
    client.post("/v1/search", json={"input_size": 7, "output_size": 14, "limit": 3})
    client.post("/v1/shape", json={"input_size": 7, "kernel_size": 0})
    text = client.get("/metrics").text
    assert 'tconv_requests_total{method="POST",route="/v1/search",status="200"}' in text
    assert 'tconv_requests_total{method="POST",route="/v1/shape",status="422"}' in text
    assert "tconv_request_duration_seconds_bucket" in text
    assert "tconv_search_space_size_count" in text
    assert "tconv_candidates_returned_total" in text
    client.get("/no/such/path")
    assert 'route="unmatched"' in client.get("/metrics").text


def test_access_log_is_json_with_the_request_id(client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="tconv.access"):
        client.get("/healthz", headers={"X-Request-ID": "trace-me"})
    record = next(r for r in caplog.records if getattr(r, "request_id", None) == "trace-me")
    assert record.status == 200  # type: ignore[attr-defined]
    # The configured formatter turns that record into one JSON line.
    assert logging_config("info")["formatters"]["json"]["()"] == "service.http.logs.json_formatter"
    line = json.loads(json_formatter().format(record))
    assert line["request_id"] == "trace-me"
    assert line["level"] == "INFO"
    assert line["path"] == "/healthz"
    # ISO 8601 with the zone, as log pipelines parse it.
    stamp = datetime.fromisoformat(line["time"])
    assert stamp.utcoffset() is not None
