"""/metrics with several uvicorn worker processes: every process's counts, merged."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.integration.conftest import free_port, start, stop

pytestmark = pytest.mark.integration


def _healthz_count(text: str) -> float:
    pattern = r'tconv_requests_total\{[^}]*route="/healthz"[^}]*status="200"[^}]*\} ([0-9.e+]+)'
    return sum(float(value) for value in re.findall(pattern, text))


def test_two_workers_counts_are_merged() -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = start(
        ["-m", "service", "--host", "127.0.0.1", "--port", str(port), "--workers", "2"],
        url,
        env={"TCONV_VERIFY_MODE": "off"},
    )
    try:
        before = _healthz_count(httpx.get(f"{url}/metrics", timeout=10).text)
        for _ in range(40):
            # A new connection each time, so the kernel spreads them over both processes.
            assert httpx.get(f"{url}/healthz", timeout=10).status_code == 200
        for _ in range(4):  # whichever process answers /metrics, it reports both processes' counts
            text = httpx.get(f"{url}/metrics", timeout=10).text
            assert _healthz_count(text) - before == 40
        assert "tconv_event_loop_lag_seconds_count" in text
    finally:
        stop(process)
