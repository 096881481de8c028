"""Caps on request bodies: over ``max_bytes`` is a 413, slower than ``timeout_s`` a 408, each
with the usual error body. Once the body is in, the request's work is stopped if its client leaves
(``disconnect.py``); ``CancelledError`` then reaches the observability middleware, which answers
nothing and counts it.

The largest legitimate body (a 10,000-item shape batch) is about 1 MB; without a cap a client
could make the server buffer any amount before validation even starts, and without a deadline
a client that stops half-way holds its connection and buffer for as long as it likes.
"""

from __future__ import annotations

import asyncio
import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.http.disconnect import DisconnectWatch
from service.solver.cancel import CancelledError, bind, unbind


class BodyLimitMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        max_bytes: int,
        setting: str = "TCONV_MAX_BODY_BYTES",
        timeout_s: float | None = None,
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.setting = setting
        self.timeout_s = timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(send)
            return
        try:
            async with asyncio.timeout(self.timeout_s):
                messages = await self._read(receive, send)
        except TimeoutError:
            await self._answer(
                send,
                408,
                "body_timeout",
                f"the request body did not arrive within {self.timeout_s:g} s (TCONV_BODY_TIMEOUT_S)",
            )
            return
        if messages is None:
            return
        replay = iter(messages)

        async def replaying_receive() -> Message:
            return next(replay, None) or await receive()

        # The body is in: from here on, the client leaving means nobody waits for the answer.
        watch = DisconnectWatch(receive)

        async def watched_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                watch.answering = True
            await send(message)

        bound = bind(watch.cancellation)
        try:
            with watch.scope:
                await self.app(scope, replaying_receive, watched_send)
        finally:
            watch.stop()
            unbind(bound)
        if watch.scope.cancelled_caught:
            raise CancelledError

    async def _read(self, receive: Receive, send: Send) -> list[Message] | None:
        """The body's messages, or None once a 413 has been sent."""
        # Read the body here, up to the cap, and replay it: an error raised from inside the app's
        # own receive() would be turned into a parse error by FastAPI instead of a 413.
        messages: list[Message] = []
        received = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            received += len(message.get("body", b""))
            if received > self.max_bytes:
                await self._refuse(send)
                return None
            if not message.get("more_body", False):
                break
        return messages

    async def _refuse(self, send: Send) -> None:
        await self._answer(
            send,
            413,
            "body_too_large",
            f"the request body is over {self.max_bytes:,} bytes ({self.setting}); split the batch",
        )

    async def _answer(self, send: Send, status: int, code: str, message: str) -> None:
        body = json.dumps({"error": {"code": code, "message": message}}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
