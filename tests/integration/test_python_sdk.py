"""The Python SDK (sync and async) and the `tconv` CLI against a real service process on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
import time

import pytest
from tconv_client import APIConnectionError, AsyncClient, Client, UnprocessableEntityError
from tconv_client.types import BatchError, SearchResult

from tests.integration.conftest import free_port, start, stop

pytestmark = pytest.mark.integration


def test_sync_client_covers_every_endpoint(service_url: str) -> None:
    with Client(service_url) as client:
        result = client.search(input_size=7, output_size=14, limit=5)
        assert result.total == 15
        assert result.best is not None
        assert result.best.snippet == "nn.ConvTranspose2d(1, 1, kernel_size=2, stride=2)"
        assert result.candidates[0].layer.kernel_size == [2, 2]
        assert client.shape(7, 4, stride=2, padding=1).output_size == [14, 14]
        assert not client.shape(5, 3, stride=2, padding=1, output_padding=3).valid
        inverted = client.invert(64, [{"kernel_size": 3, "stride": 2, "padding": 1}])
        assert inverted.decoder_sizes[-1] == [64, 64]
        plan = client.plan(4, 64, layers=4, channels=[512, 256, 128, 64, 3], limit=2)
        assert plan.best is not None
        assert plan.best.sizes[-1] == [64, 64]
        verified = client.verify(7, [{"kernel_size": 4, "stride": 2, "padding": 1}])
        assert verified.results[0].status == "confirmed"
        assert client.info().api_version == "v1"
        batch = client.search_batch([{"input_size": 7, "output_size": 14}, {"input_size": 7}])
        assert isinstance(batch[0], SearchResult)
        assert isinstance(batch[1], BatchError)
        everything = list(client.iter_candidates(7, 14, limit=4))
        assert [c.rank for c in everything] == list(range(1, 16))


def test_errors_keep_the_server_body(service_url: str) -> None:
    with Client(service_url) as client, pytest.raises(UnprocessableEntityError) as caught:
        client.search(input_size=7, output_size=14, kernel_size=0)
    assert caught.value.status_code == 422
    assert caught.value.code == "invalid_request"
    assert caught.value.details[0]["field"] == "kernel_size"
    with Client(f"http://127.0.0.1:{free_port()}", max_retries=0) as dead, pytest.raises(APIConnectionError):
        dead.info()


def test_async_client(service_url: str) -> None:
    async def main() -> None:
        async with AsyncClient(service_url) as client:
            results = await asyncio.gather(
                client.search(7, 14, limit=1), client.shape(7, 4, stride=2, padding=1), client.info()
            )
            assert results[0].best is not None
            assert results[0].best.rank == 1
            assert results[1].output_size == [14, 14]
            ranks = [c.rank async for c in client.iter_candidates(7, 14, limit=6)]
            assert ranks == list(range(1, 16))
            plan = await client.plan(4, 16, layers=2, limit=1)
            assert plan.total is not None
            assert plan.total > 0

    asyncio.run(main())


def test_retries_ride_over_a_server_restart() -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    args = ["-m", "service", "--host", "127.0.0.1", "--port", str(port)]
    process = start(args, url, env={"TCONV_VERIFY_MODE": "off"})
    restarted: list[object] = []
    try:
        with Client(url, max_retries=6) as client:
            assert client.search(7, 14).total == 15
            stop(process)
            # The server comes back after a second; the next call retries until it does.
            thread = threading.Thread(
                target=lambda: (
                    time.sleep(1.0),
                    restarted.append(start(args, url, env={"TCONV_VERIFY_MODE": "off"})),
                )
            )
            thread.start()
            began = time.monotonic()
            assert client.search(8, 16).total > 0
            assert time.monotonic() - began >= 0.9
            thread.join()
    finally:
        for proc in restarted:
            stop(proc)  # type: ignore[arg-type]


def tconv(*args: str) -> subprocess.CompletedProcess[str]:
    # A wide terminal, so rich's table does not wrap the snippets the test looks for.
    return subprocess.run(
        [sys.executable, "-m", "tconv_client.cli", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
        env={**os.environ, "COLUMNS": "200"},
    )


def test_cli(service_url: str) -> None:
    table = tconv("search", "7", "14", "--limit", "3", "--url", service_url)
    assert table.returncode == 0, table.stderr
    assert "kernel_size=2, stride=2" in table.stdout
    as_json = tconv("search", "7", "14", "--json", "--url", service_url)
    assert json.loads(as_json.stdout)["total"] == 15
    shape = tconv("shape", "7", "--kernel-size", "4", "--stride", "2", "--padding", "1", "--url", service_url)
    assert "14" in shape.stdout
    plan = tconv("plan", "4", "64", "--layers", "4", "--channels", "512,256,128,64,3", "--url", service_url)
    assert plan.returncode == 0, plan.stderr
    assert "nn.Sequential" in plan.stdout
    verify = tconv("verify", "7", "--layer", "4,2,1", "--json", "--url", service_url)
    assert json.loads(verify.stdout)["results"][0]["status"] == "confirmed"
    invert = tconv("invert", "64", "--conv", "3,2,1", "--json", "--url", service_url)
    assert json.loads(invert.stdout)["valid"] is True
    assert tconv("info", "--url", service_url).returncode == 0
    # Exit codes: a server error is 1, a usage error 2, an unreachable server 3.
    assert tconv("search", "7", "14", "--kernel-size", "0", "--url", service_url).returncode == 1
    assert tconv("search", "seven", "14", "--url", service_url).returncode == 2
    assert tconv("info", "--url", f"http://127.0.0.1:{free_port()}").returncode == 3
    assert "Example" in tconv("search", "--help").stdout
