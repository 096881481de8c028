"""ConcurrencyLimitMiddleware: at most ``limit`` /v1/ requests run at once, the rest wait in
arrival order, and other paths (probes, metrics, pages) never wait."""

from __future__ import annotations

import asyncio
from typing import Any

from service.http.concurrency import ConcurrencyLimitMiddleware


def test_v1_requests_take_turns_and_probes_never_wait() -> None:
    running: list[str] = []
    peak = 0
    release = asyncio.Event()

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        nonlocal peak
        running.append(scope["path"])
        peak = max(peak, sum(1 for path in running if path.startswith("/v1/")))
        if scope["path"].startswith("/v1/"):
            await release.wait()
        running.remove(scope["path"])

    async def scenario() -> None:
        limited = ConcurrencyLimitMiddleware(app, limit=2)

        async def call(path: str) -> None:
            await limited({"type": "http", "path": path}, None, None)

        work = [asyncio.create_task(call(f"/v1/search/{n}")) for n in range(5)]
        await asyncio.sleep(0.01)
        assert sorted(running) == ["/v1/search/0", "/v1/search/1"]  # the others wait their turn
        await asyncio.wait_for(call("/healthz"), timeout=1)  # a probe passes while the queue is full
        release.set()
        await asyncio.gather(*work)

    asyncio.run(scenario())
    assert peak == 2
    assert running == []
