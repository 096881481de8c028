"""The compose-style pair, for real: a standalone worker process and an API process pointed at it.

Everything runs on 127.0.0.1 on free ports; the faults (a killed worker, a full queue) are real
process kills and real concurrent requests, bounded to a few seconds each.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.integration.conftest import free_port, start, stop

pytestmark = [pytest.mark.integration, pytest.mark.torch]

QUICK = {"input_size": 7, "layers": [{"kernel_size": 4, "stride": 2, "padding": 1}]}
TOKEN = "worker-token-for-tests"
WITH_TOKEN = {"Authorization": f"Bearer {TOKEN}"}


def slow_request(count: int = 2) -> dict[str, Any]:
    """About 1.5 s of CPU per layer (100 timed runs of a 64-channel 64×64 layer); distinct layers
    so the worker's cache cannot answer them."""
    return {
        "input_size": [64, 64],
        "in_channels": 64,
        "out_channels": 64,
        "timing": True,
        "repeats": 100,
        "layers": [{"kernel_size": 4, "stride": 2, "padding": 1, "dilation": 1 + n} for n in range(count)],
    }


@dataclass
class Pair:
    api_url: str
    worker_url: str
    worker_port: int
    worker: Any
    api: Any
    worker_env: dict[str, str]

    def start_worker(self) -> None:
        self.worker = start(
            ["-m", "service.worker", "--host", "127.0.0.1", "--port", str(self.worker_port)],
            self.worker_url,
            env=self.worker_env,
        )


def make_pair(worker_env: dict[str, str] | None = None) -> Pair:
    worker_port, api_port = free_port(), free_port()
    worker_url, api_url = f"http://127.0.0.1:{worker_port}", f"http://127.0.0.1:{api_port}"
    pair = Pair(
        api_url, worker_url, worker_port, None, None, {"TCONV_WORKER_TOKEN": TOKEN, **(worker_env or {})}
    )
    pair.start_worker()
    pair.api = start(
        ["-m", "service", "--host", "127.0.0.1", "--port", str(api_port)],
        api_url,
        env={"TCONV_WORKER_URL": worker_url, "TCONV_WORKER_TIMEOUT_S": "20", "TCONV_WORKER_TOKEN": TOKEN},
    )
    return pair


@pytest.fixture
def pair() -> Iterator[Pair]:
    made = make_pair()
    yield made
    stop(made.api)
    if made.worker.poll() is None:
        stop(made.worker)


def in_background(
    url: str, body: dict[str, Any], headers: dict[str, str] | None = None
) -> tuple[threading.Thread, list[httpx.Response]]:
    answers: list[httpx.Response] = []
    thread = threading.Thread(
        target=lambda: answers.append(httpx.post(url, json=body, headers=headers, timeout=60))
    )
    thread.start()
    return thread, answers


def test_api_verifies_through_the_standalone_worker(pair: Pair) -> None:
    body = httpx.post(f"{pair.api_url}/v1/verify", json=QUICK, timeout=30).json()
    assert body["worker"] == "remote"  # the URL only with TCONV_EXPOSE_INTERNALS
    assert body["torch_version"] is None
    assert body["results"][0]["status"] == "confirmed"
    assert body["results"][0]["output_size"] == [14, 14]
    search = httpx.post(
        f"{pair.api_url}/v1/search", json={"input_size": 7, "output_size": 14, "verify": "device"}, timeout=30
    ).json()
    assert {c["verification"]["status"] for c in search["candidates"]} == {"confirmed"}
    ready = httpx.get(f"{pair.api_url}/readyz").json()
    assert ready["worker"]["mode"] == "remote"
    assert ready["worker"]["available"] is True
    # The worker serves the same contract directly, to a caller with the token only.
    direct = httpx.post(f"{pair.worker_url}/v1/verify", json=QUICK, headers=WITH_TOKEN, timeout=30).json()
    assert direct["results"][0]["status"] == "confirmed"
    refused = httpx.post(f"{pair.worker_url}/v1/verify", json=QUICK, timeout=30)
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "unauthorized"
    wrong = httpx.post(
        f"{pair.worker_url}/v1/verify", json=QUICK, headers={"Authorization": "Bearer nope"}, timeout=30
    )
    assert wrong.status_code == 401
    too_big = httpx.post(
        f"{pair.worker_url}/v1/verify", content=b" " * (2 * 1024 * 1024), headers=WITH_TOKEN, timeout=30
    )
    assert too_big.status_code == 413


def test_killing_the_worker_mid_request_gives_unavailable_and_service_resumes(pair: Pair) -> None:
    thread, answers = in_background(f"{pair.api_url}/v1/verify", slow_request())
    time.sleep(0.8)
    pair.worker.send_signal(signal.SIGKILL)
    thread.join(timeout=30)
    assert answers[0].status_code == 200
    assert {r["status"] for r in answers[0].json()["results"]} == {"unavailable"}
    assert "worker" in answers[0].json()["results"][0]["error"]

    search = httpx.post(
        f"{pair.api_url}/v1/search", json={"input_size": 7, "output_size": 14, "verify": "device"}, timeout=30
    )
    assert search.status_code == 200
    assert search.json()["candidates"][0]["verification"]["status"] == "unavailable"
    assert httpx.get(f"{pair.api_url}/readyz").json()["worker"]["available"] is False

    pair.worker.wait()
    pair.start_worker()
    body = httpx.post(f"{pair.api_url}/v1/verify", json=QUICK, timeout=30).json()
    assert body["results"][0]["status"] == "confirmed"


def test_a_full_queue_is_a_503_with_retry_after() -> None:
    made = make_pair({"TCONV_WORKER_MAX_QUEUE": "0", "TCONV_WORKER_RETRY_AFTER_S": "2"})
    try:
        thread, answers = in_background(f"{made.worker_url}/v1/verify", slow_request(3), WITH_TOKEN)
        time.sleep(0.5)
        busy = httpx.post(f"{made.worker_url}/v1/verify", json=QUICK, headers=WITH_TOKEN, timeout=30)
        assert busy.status_code == 503
        assert busy.headers["retry-after"] == "2"
        assert busy.json()["error"]["code"] == "worker_busy"
        # Through the API: /v1/verify passes the 503 on; /v1/search still answers, unverified.
        assert httpx.post(f"{made.api_url}/v1/verify", json=QUICK, timeout=30).status_code == 503
        search = httpx.post(
            f"{made.api_url}/v1/search",
            json={"input_size": 7, "output_size": 14, "verify": "device"},
            timeout=30,
        )
        assert search.status_code == 200
        assert search.json()["candidates"][0]["verification"]["status"] == "unavailable"
        thread.join(timeout=30)
        assert {r["status"] for r in answers[0].json()["results"]} == {"confirmed"}
    finally:
        stop(made.api)
        stop(made.worker)


def test_sigterm_lets_the_request_in_flight_finish() -> None:
    # Graceful shutdown: uvicorn stops accepting, the running request completes, the process exits 0.
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = start(["-m", "service", "--host", "127.0.0.1", "--port", str(port)], url)
    thread, answers = in_background(f"{url}/v1/verify", slow_request(1))
    time.sleep(0.8)
    process.send_signal(signal.SIGTERM)
    thread.join(timeout=60)
    assert answers[0].status_code == 200
    assert answers[0].json()["results"][0]["status"] == "confirmed"
    # uvicorn re-raises the signal once shutdown is complete, so "exited by SIGTERM" is success.
    assert process.wait(timeout=30) in (0, -signal.SIGTERM)
