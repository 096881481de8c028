"""Start `python -m service` (or another ASGI server) on a free loopback port for a benchmark, and stop it."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx


@contextlib.contextmanager
def running_service(env: dict[str, str] | None = None, command: list[str] | None = None) -> Iterator[str]:
    """The service as shipped (JSON access log on, at the default level; written, then discarded
    here), or ``command`` with ``{port}`` filled in."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    if command:
        args = [arg.format(port=port) for arg in command]
    else:
        args = [sys.executable, "-m", "service", "--host", "127.0.0.1", "--port", str(port)]
    process = subprocess.Popen(
        args,
        env={**os.environ, **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def bare_app() -> contextlib.AbstractContextManager[str]:
    """bench/bare_app.py under uvicorn, no access log: the floor for /healthz."""
    return running_service(
        command=[
            sys.executable,
            "-m",
            "uvicorn",
            "bench.bare_app:app",
            "--host",
            "127.0.0.1",
            "--port",
            "{port}",
            "--no-access-log",
            "--log-level",
            "warning",
        ]
    )
