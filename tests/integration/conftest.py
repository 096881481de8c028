"""Start real processes (`python -m service`) on free loopback ports; stop them afterwards."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from typing import IO

import httpx
import pytest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start(
    args: list[str], url: str, env: dict[str, str] | None = None, log: IO[bytes] | None = None
) -> subprocess.Popen[bytes]:
    # Output goes to a file (``log``, or a temporary one): an unread pipe fills up and blocks the
    # server mid-request.
    log = log or tempfile.TemporaryFile()  # noqa: SIM115 (lives as long as the process)
    process = subprocess.Popen(
        [sys.executable, *args], env={**os.environ, **(env or {})}, stdout=log, stderr=subprocess.STDOUT
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log.seek(0)
            output = log.read().decode(errors="replace")
            raise RuntimeError(f"{args} exited with {process.returncode}: {output}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return process
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"{args} did not become healthy within 30 s")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="session")
def service_url() -> Iterator[str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = start(["-m", "service", "--host", "127.0.0.1", "--port", str(port)], url)
    yield url
    stop(process)
