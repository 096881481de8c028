"""Route labels of the request metrics: templates for API routes, paths for docs pages, and one
"unmatched" label for everything that matched nothing."""

from __future__ import annotations

from fastapi.testclient import TestClient

from service.api.config import Settings
from service.api.main import create_app


def _labels(text: str) -> set[str]:
    return {
        line.split('route="', 1)[1].split('"', 1)[0]
        for line in text.splitlines()
        if line.startswith("tconv_requests_total{")
    }


def test_docs_pages_are_labelled_by_path_and_random_paths_are_not() -> None:
    with TestClient(create_app(Settings(verify_mode="off"))) as client:
        for path in ("/docs", "/openapi.json", "/random-1", "/random-2"):
            client.get(path)
        client.post("/v1/shape", json={"input_size": 7, "kernel_size": 3})
        labels = _labels(client.get("/metrics").text)
    assert {"/docs", "/openapi.json", "/v1/shape", "unmatched"} <= labels
    assert not {"/random-1", "/random-2"} & labels
