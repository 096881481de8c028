"""The HTTP side of issue 14's cancellation, on hand-made ASGI calls: a client that leaves after
sending its body stops the request's work, wherever it is; one that leaves after the answer
started changes nothing."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import threading
from typing import Any

import anyio.to_thread
import pytest

from service.http.concurrency import ConcurrencyLimitMiddleware
from service.http.limits_middleware import BodyLimitMiddleware
from service.http.logs import AccessLog
from service.http.metrics import ObservabilityMiddleware
from service.solver.cancel import CancelledError, checkpoint

SCOPE = {"type": "http", "method": "POST", "path": "/v1/plan", "headers": [(b"content-length", b"2")]}


def _client(leaves: asyncio.Event) -> Any:
    """A receive() that gives the body, then ``http.disconnect`` once ``leaves`` is set."""
    messages = [{"type": "http.request", "body": b"{}", "more_body": False}]

    async def receive() -> dict[str, Any]:
        if messages:
            return messages.pop()
        await leaves.wait()
        return {"type": "http.disconnect"}

    return receive


def test_leaving_stops_work_in_a_thread_and_nothing_is_answered() -> None:
    stopped = threading.Event()
    sent: list[dict[str, Any]] = []

    def work() -> None:
        try:
            while True:
                checkpoint()
                threading.Event().wait(0.001)
        except CancelledError:
            stopped.set()
            raise

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await anyio.to_thread.run_sync(work)

    async def scenario() -> None:
        leaves = asyncio.Event()

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        call = asyncio.create_task(
            ObservabilityMiddleware(BodyLimitMiddleware(app, max_bytes=100), access=access)(
                dict(SCOPE), _client(leaves), send
            )
        )
        await asyncio.sleep(0.1)
        leaves.set()
        await asyncio.wait_for(call, timeout=10)

    access = AccessLog(name="tconv.access.test", stream=io.StringIO())
    logging.getLogger("tconv.access.test").setLevel(logging.INFO)
    asyncio.run(scenario())
    assert stopped.wait(timeout=10)
    assert sent == []
    (line,) = access._stream.getvalue().splitlines()  # type: ignore[union-attr]
    assert json.loads(line)["status"] == 499  # logged as "client closed request"


def test_a_request_that_leaves_while_queued_never_runs() -> None:
    ran: list[int] = []
    release = asyncio.Event()

    async def app(scope: Any, receive: Any, send: Any) -> None:
        ran.append(scope["n"])
        await release.wait()

    async def scenario() -> None:
        stack = BodyLimitMiddleware(ConcurrencyLimitMiddleware(app, limit=1), max_bytes=100)
        stays, leaves = asyncio.Event(), asyncio.Event()
        first = asyncio.create_task(stack({**SCOPE, "n": 1}, _client(stays), None))
        second = asyncio.create_task(stack({**SCOPE, "n": 2}, _client(leaves), None))
        await asyncio.sleep(0.1)
        leaves.set()
        with pytest.raises(CancelledError):
            await asyncio.wait_for(second, timeout=10)
        release.set()
        await asyncio.wait_for(first, timeout=10)

    asyncio.run(scenario())
    assert ran == [1]


def test_leaving_once_the_answer_started_cancels_nothing() -> None:
    finished = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await asyncio.sleep(0.2)  # the client leaves meanwhile
        checkpoint()
        await send({"type": "http.response.body", "body": b"{}"})
        finished.append(True)

    async def scenario() -> None:
        leaves = asyncio.Event()
        leaves.set()

        async def send(message: dict[str, Any]) -> None:
            return None

        await BodyLimitMiddleware(app, max_bytes=100)(dict(SCOPE), _client(leaves), send)

    asyncio.run(scenario())
    assert finished == [True]


def test_a_cancelled_request_keeps_its_slot_until_its_thread_stops() -> None:
    """A thread cannot be interrupted: the next request waits until it has stopped, so the
    concurrency limit still bounds the work that runs."""
    events: list[str] = []

    def work() -> None:
        threading.Event().wait(0.3)  # no checkpoint meanwhile, as in a loop without one
        events.append("thread stopped")
        checkpoint()

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["n"] == 1:
            await anyio.to_thread.run_sync(work)
        else:
            events.append("next request runs")

    async def scenario() -> None:
        stack = BodyLimitMiddleware(ConcurrencyLimitMiddleware(app, limit=1), max_bytes=100)
        leaves, stays = asyncio.Event(), asyncio.Event()
        first = asyncio.create_task(stack({**SCOPE, "n": 1}, _client(leaves), None))
        await asyncio.sleep(0.01)
        second = asyncio.create_task(stack({**SCOPE, "n": 2}, _client(stays), None))
        await asyncio.sleep(0.1)
        leaves.set()
        with pytest.raises(CancelledError):
            await asyncio.wait_for(first, timeout=10)
        await asyncio.wait_for(second, timeout=10)

    asyncio.run(scenario())
    assert events == ["thread stopped", "next request runs"]


def test_a_request_without_a_body_goes_straight_through() -> None:
    """GETs (probes, scrapes, pages) have nothing to cap or wait for: the app receives the
    untouched receive() and no watch is bound; a declared body is still read and capped."""
    seen: list[Any] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append(receive)
        checkpoint()

    async def receive() -> dict[str, Any]:
        raise AssertionError("a bodiless request's receive() is the app's to call")

    async def send(message: dict[str, Any]) -> None:
        seen.append(message)

    middleware = BodyLimitMiddleware(app, max_bytes=1)
    get = {"type": "http", "method": "GET", "path": "/healthz", "headers": []}
    asyncio.run(middleware(get, receive, send))
    assert seen == [receive]
    posted = {**SCOPE, "headers": [(b"content-length", b"2")]}
    seen.clear()
    asyncio.run(middleware(posted, _client(asyncio.Event()), send))
    assert seen[0]["status"] == 413
