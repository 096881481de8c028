"""The API never trusts its worker: a stand-in worker (a real HTTP server on 127.0.0.1) answers
nonsense, and a real API process pointed at it never answers 5xx for it.

The only 5xx the API may pass on is the documented busy signal: /v1/verify's 503 `worker_busy`
with a usable Retry-After.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import httpx
import pytest

from tests.integration.conftest import free_port, start, stop

pytestmark = pytest.mark.integration

TOKEN = "stand-in-token"
VERIFY = {
    "input_size": 7,
    "layers": [{"kernel_size": 4, "stride": 2, "padding": 1}, {"kernel_size": 2, "stride": 2}],
}


def _result(status: str = "confirmed", size: list[int] | None = None) -> dict[str, Any]:
    return {"status": status, "output_size": size or [14, 14], "device": "cpu"}


def _answer(layers: int, **result: Any) -> dict[str, Any]:
    return {"results": [_result(**result)] * layers, "worker": "stand-in", "torch_version": "9.9"}


class StandIn(BaseHTTPRequestHandler):
    """Answers as ``mode`` says; records what the API sent."""

    mode: ClassVar[str] = "good"
    seen: ClassVar[list[dict[str, str]]] = []

    def log_message(self, *args: Any) -> None:  # keep the test output clean
        return

    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        if self.mode == "readyz_list":
            self._send(200, b"[1, 2]")
        elif self.mode == "invalid_json":
            self._send(200, b"{not json")
        else:
            self._send(200, json.dumps({"status": "ready", "torch_version": "9.9"}).encode())

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["content-length"])))
        StandIn.seen.append(dict(self.headers))
        layers = len(body["layers"])
        mode = self.mode
        if mode == "invalid_json":
            self._send(200, b'{"results": [')
        elif mode == "status_500":
            self._send(500, b"Traceback (most recent call last): secret at http://10.0.0.7:8001")
        elif mode == "wrong_schema":
            self._send(200, json.dumps({"results": "all good"}).encode())
        elif mode == "unknown_status":
            self._send(200, json.dumps(_answer(layers, status="probably")).encode())
        elif mode == "too_few":
            self._send(200, json.dumps(_answer(layers - 1)).encode())
        elif mode == "too_many":
            self._send(200, json.dumps(_answer(layers + 3)).encode())
        elif mode == "wrong_size":
            self._send(200, json.dumps(_answer(layers, size=[99, 99])).encode())
        elif mode == "hang":
            time.sleep(8)  # past the API's TCONV_WORKER_TIMEOUT_S of 5 s
            self._send(200, json.dumps(_answer(layers)).encode())
        elif mode.startswith("busy:"):
            self._send(503, b'{"error": {"code": "worker_busy"}}', {"Retry-After": mode.split(":", 1)[1]})
        else:
            self._send(200, json.dumps(_answer(layers)).encode())


@pytest.fixture(scope="module")
def api_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), StandIn)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    worker = f"http://127.0.0.1:{server.server_address[1]}"
    env = {"TCONV_WORKER_URL": worker, "TCONV_WORKER_TOKEN": TOKEN, "TCONV_WORKER_TIMEOUT_S": "5"}
    process = start(["-m", "service", "--host", "127.0.0.1", "--port", str(port)], url, env=env)
    yield url
    stop(process)
    server.shutdown()


def _calls(url: str) -> list[httpx.Response]:
    search = {"input_size": 7, "output_size": 14, "limit": 2, "verify": "device"}
    return [
        httpx.post(f"{url}/v1/verify", json=VERIFY, timeout=30),
        httpx.post(f"{url}/v1/search", json=search, timeout=30),
        httpx.get(f"{url}/readyz", timeout=30),
        httpx.get(f"{url}/v1/info", timeout=30),
    ]


@pytest.mark.parametrize(
    "mode", ["invalid_json", "status_500", "wrong_schema", "unknown_status", "too_few", "too_many"]
)
def test_a_malformed_answer_is_unavailable_never_a_5xx(api_url: str, mode: str) -> None:
    StandIn.mode = mode
    verify, search, ready, info = _calls(api_url)
    for response in (verify, search, ready, info):
        assert response.status_code == 200, (mode, response.request.url, response.text)
    results = verify.json()["results"]
    assert [r["status"] for r in results] == ["unavailable", "unavailable"]
    reason = results[0]["error"]
    assert "verification worker" in reason
    # The worker's raw text and address stay inside (TCONV_EXPOSE_INTERNALS is not set).
    assert "secret" not in verify.text
    assert "127.0.0.1" not in verify.text
    assert {c["verification"]["status"] for c in search.json()["candidates"]} == {"unavailable"}


def test_a_confirmed_with_the_wrong_size_is_failed(api_url: str) -> None:
    StandIn.mode = "wrong_size"
    response = httpx.post(f"{api_url}/v1/verify", json=VERIFY, timeout=30)
    assert response.status_code == 200
    for result in response.json()["results"]:
        assert result["status"] == "failed"
        assert result["expected_output_size"] == [14, 14]
        assert "solver predicts [14, 14]" in result["error"]


def test_an_honest_answer_is_passed_on_without_internals(api_url: str) -> None:
    StandIn.mode = "good"
    StandIn.seen.clear()
    response = httpx.post(
        f"{api_url}/v1/verify", json=VERIFY, headers={"X-Request-ID": "caf\u00e9".encode()}, timeout=30
    )
    assert response.status_code == 200
    body = response.json()
    assert [r["status"] for r in body["results"]] == ["confirmed", "confirmed"]
    assert body["worker"] == "remote"
    assert body["torch_version"] is None
    sent = StandIn.seen[-1]
    assert sent["Authorization"] == f"Bearer {TOKEN}"
    # A non-ASCII request id (once a 500 here) is replaced by a fresh ASCII one, passed on.
    assert sent["X-Request-ID"] == response.headers["x-request-id"]
    assert sent["X-Request-ID"].isascii()


@pytest.mark.parametrize(("sent", "passed_on"), [("soon", "1"), ("-5", "1"), ("0", "1"), ("99999", "60")])
def test_a_bad_retry_after_is_clamped(api_url: str, sent: str, passed_on: str) -> None:
    StandIn.mode = f"busy:{sent}"
    verify, search, ready, info = _calls(api_url)
    assert verify.status_code == 503
    assert verify.json()["error"]["code"] == "worker_busy"
    assert verify.headers["retry-after"] == passed_on
    for response in (search, ready, info):
        assert response.status_code == 200, response.text


def test_a_readiness_answer_that_is_not_an_object(api_url: str) -> None:
    StandIn.mode = "readyz_list"
    ready = httpx.get(f"{api_url}/readyz", timeout=30)
    assert ready.status_code == 200
    assert ready.json()["worker"]["available"] is False


def test_a_worker_that_hangs_past_the_timeout(api_url: str) -> None:
    StandIn.mode = "hang"
    response = httpx.post(f"{api_url}/v1/verify", json=VERIFY, timeout=60)
    assert response.status_code == 200
    assert [r["status"] for r in response.json()["results"]] == ["unavailable", "unavailable"]
    assert "did not answer in time" in response.json()["results"][0]["error"]
    StandIn.mode = "good"
    recovered = httpx.post(f"{api_url}/v1/verify", json=VERIFY, timeout=60)
    assert [r["status"] for r in recovered.json()["results"]] == ["confirmed", "confirmed"]
