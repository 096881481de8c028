"""At most ``limit`` answering requests (``/v1/...``) run at once; the rest wait their turn here.

Without it, a burst of searches and batches all run together: their handlers take turns on the
event loop and their threads take turns on the GIL, so every request, /healthz included, waits
behind all of them. Waiting here costs nothing, so liveness and readiness probes, metrics and the
pages stay prompt however many requests are queued, and the queue drains in arrival order.

A request whose client leaves while it waits is dropped: the body limit's disconnect watch cancels
its wait (or, had it not yet noticed, the checkpoint below finds the request cancelled).
"""

from __future__ import annotations

import asyncio

from starlette.types import ASGIApp, Receive, Scope, Send

from service.solver.cancel import checkpoint


class ConcurrencyLimitMiddleware:
    def __init__(self, app: ASGIApp, *, limit: int, prefix: str = "/v1/") -> None:
        self.app = app
        self.prefix = prefix
        self._slots = asyncio.Semaphore(limit)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.prefix):
            await self.app(scope, receive, send)
            return
        async with self._slots:
            checkpoint()
            await self.app(scope, receive, send)
