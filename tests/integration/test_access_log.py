"""The access log of the real process (`python -m service`, logging as shipped): every request
gets its JSON line within the flush interval, and SIGTERM writes the lines still gathered."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest

from tests.integration.conftest import free_port, start, stop

pytestmark = pytest.mark.integration


def _access_ids(path: Path) -> list[str]:
    ids = []
    for line in path.read_text(errors="replace").splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if record.get("logger") == "tconv.access":
            ids.append(record["request_id"])
    return ids


def test_access_lines_arrive_within_the_interval_and_none_is_lost_on_sigterm(tmp_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    path = tmp_path / "service.log"
    with path.open("wb") as log:
        # A long interval: the last line can only reach the log by the shutdown's flush.
        process = start(
            ["-m", "service", "--host", "127.0.0.1", "--port", str(port)],
            url,
            env={"TCONV_ACCESS_LOG_FLUSH_S": "1"},
            log=log,
        )
        try:
            httpx.post(f"{url}/v1/shape", json={"input_size": 7}, headers={"X-Request-ID": "first"})
            deadline = time.monotonic() + 10
            while "first" not in _access_ids(path) and time.monotonic() < deadline:
                time.sleep(0.1)
            assert "first" in _access_ids(path)
            httpx.get(f"{url}/healthz", headers={"X-Request-ID": "last"})
        finally:
            stop(process)
    ids = _access_ids(path)
    assert ids.index("first") < ids.index("last")
