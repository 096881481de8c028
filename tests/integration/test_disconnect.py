"""Issue 14: work stops when the client disconnects, against real processes.

Each server runs one answering request at a time (TCONV_MAX_CONCURRENT_REQUESTS=1), so a request
whose work went on after its client left would hold every later one. The work is seen stopping in
the server's own accounts: the cancelled-requests metric, the CPU time the process uses, and the
verification child process that is killed.
"""

from __future__ import annotations

import json
import re
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.integration.conftest import free_port, start, stop
from tests.integration.test_worker import make_pair

pytestmark = pytest.mark.integration

# Seconds of planning (about 1.4 s per million transitions here), under a budget raised for it.
LONG_PLAN = {"input_size": [3, 5], "output_size": [1000, 1200], "layers": {"min": 1, "max": 4}}
PLAN_BUDGET = "40000000"
# Eight distinct layers (no cache hits), each timed 50 times: seconds of CPU in the sandbox child.
LONG_VERIFY = {
    "input_size": [96, 96],
    "layers": [{"kernel_size": k} for k in range(7, 15)],
    "in_channels": 64,
    "out_channels": 64,
    "timing": True,
    "repeats": 50,
    "device": "cpu",
    "batch_size": 3,
}
WAIT_S = 30.0


def _until(condition: Callable[[], object], what: str, within_s: float = WAIT_S) -> None:
    deadline = time.monotonic() + within_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {within_s} s: {what}")
        time.sleep(0.05)


def _send_and_keep(url: str, path: str, body: object) -> socket.socket:
    """A request sent in full on a raw socket whose answer is never read."""
    host, port = url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=5)
    data = json.dumps(body).encode()
    head = f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
    sock.sendall(f"{head}Content-Length: {len(data)}\r\n\r\n".encode() + data)
    return sock


def _cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / 100  # utime + stime, in clock ticks of 1/100 s


def _cancelled(url: str, route: str) -> float:
    text = httpx.get(f"{url}/metrics", timeout=5).text
    match = re.search(rf'tconv_requests_cancelled_total\{{route="{re.escape(route)}"\}} ([\d.]+)', text)
    return float(match.group(1)) if match else 0.0


def _sandbox_children(pid: int) -> list[int]:
    """The verification child processes (multiprocessing's spawn) of the server."""
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            command = Path(f"/proc/{child}/cmdline").read_bytes()
            if b"spawn_main" in command:
                found.append(int(child))
    return found


@pytest.fixture
def one_at_a_time() -> Iterator[tuple[str, int]]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        "TCONV_MAX_CONCURRENT_REQUESTS": "1",
        "TCONV_MAX_PLAN_TRANSITIONS": PLAN_BUDGET,
        "TCONV_VERIFY_MODE": "embedded",
    }
    process = start(["-m", "service", "--host", "127.0.0.1", "--port", str(port)], url, env)
    yield url, process.pid
    stop(process)


def test_a_plan_whose_client_left_stops_and_so_does_the_one_queued_behind_it(
    one_at_a_time: tuple[str, int],
) -> None:
    url, pid = one_at_a_time
    before = _cpu_s(pid)
    running = _send_and_keep(url, "/v1/plan", LONG_PLAN)
    _until(lambda: _cpu_s(pid) - before > 0.5, "the plan is running")
    queued = _send_and_keep(url, "/v1/plan", LONG_PLAN)
    time.sleep(0.2)  # past the moment the server starts watching a request for its client
    queued.close()
    _until(lambda: _cancelled(url, "queued") == 1, "the queued plan is dropped")
    assert _cancelled(url, "/v1/plan") == 0  # the first one still runs
    running.close()
    _until(lambda: _cancelled(url, "/v1/plan") == 1, "the running plan is cancelled")
    # Stopped, not merely abandoned: the process is idle, and the next request has the only slot.
    idle_from = _cpu_s(pid)
    time.sleep(1.0)
    assert _cpu_s(pid) - idle_from < 0.4
    shape = httpx.post(f"{url}/v1/shape", json={"input_size": 7, "kernel_size": 3}, timeout=WAIT_S)
    assert shape.status_code == 200
    text = httpx.get(f"{url}/metrics", timeout=5).text
    assert 'tconv_requests_total{method="POST",route="/v1/plan",status="499"} 1.0' in text


@pytest.mark.torch
def test_a_verification_whose_client_left_kills_its_child(one_at_a_time: tuple[str, int]) -> None:
    url, pid = one_at_a_time
    warm = httpx.post(f"{url}/v1/verify", json={"input_size": 4, "layers": [{"kernel_size": 2}]}, timeout=120)
    assert warm.json()["results"][0]["status"] == "confirmed"  # the child is up (torch imported)
    (child,) = _sandbox_children(pid)
    before = _cpu_s(child)
    sock = _send_and_keep(url, "/v1/verify", LONG_VERIFY)
    _until(lambda: _cpu_s(child) - before > 0.5, "the child runs the layers")
    sock.close()
    _until(lambda: _cancelled(url, "/v1/verify") == 1, "the verification is cancelled")
    _until(lambda: not Path(f"/proc/{child}").exists(), "the child is killed")
    again = httpx.post(
        f"{url}/v1/verify", json={"input_size": 5, "layers": [{"kernel_size": 2}]}, timeout=120
    )
    assert again.json()["results"][0]["status"] == "confirmed"


@pytest.mark.torch
def test_a_remote_verification_whose_client_left_stops_on_the_worker() -> None:
    """The API's call to the worker is cancelled, so the worker sees its own client leave."""
    pair = make_pair()
    try:
        warm = httpx.post(
            f"{pair.api_url}/v1/verify", json={"input_size": 4, "layers": [{"kernel_size": 2}]}, timeout=120
        )
        assert warm.json()["results"][0]["status"] == "confirmed"
        (child,) = _sandbox_children(pair.worker.pid)
        before = _cpu_s(child)
        sock = _send_and_keep(pair.api_url, "/v1/verify", LONG_VERIFY)
        _until(lambda: _cpu_s(child) - before > 0.5, "the worker's child runs the layers")
        sock.close()
        _until(lambda: _cancelled(pair.api_url, "/v1/verify") == 1, "the API cancels the request")
        _until(lambda: _cancelled(pair.worker_url, "/v1/verify") == 1, "the worker cancels its request")
        _until(lambda: not Path(f"/proc/{child}").exists(), "the worker's child is killed")
    finally:
        stop(pair.api)
        stop(pair.worker)
