"""Stopping a request's work once its client has gone (issue 14).

After the body has been read, the only message left for a request is ``http.disconnect``. A
``DisconnectWatch`` waits for it; when it comes before the response has started, it cancels the
request's ``Cancellation`` (bound in the request's context, so solver loops running in anyio
threads see it at their next ``checkpoint()``) and the anyio cancel scope the request runs in,
which interrupts whatever the request awaits: its turn in the concurrency queue, the verifier's
lock, a call to the remote worker (whose own watch then stops the worker's child process).

A cancel scope rather than ``Task.cancel()``: anyio shields its waits for threads from it, so a
request keeps its concurrency slot (and the verifier its lock) until its thread has actually
stopped, instead of abandoning a thread that still runs.

Watching costs a task per request, and nearly every request is answered within milliseconds: the
watch only starts once a request has run for ``WATCH_AFTER_S``.
"""

from __future__ import annotations

import asyncio

import anyio
from starlette.types import Message, Receive

from service.solver.cancel import Cancellation

WATCH_AFTER_S = 0.05


class DisconnectWatch:
    def __init__(self, receive: Receive) -> None:
        self.cancellation = Cancellation()
        self.scope = anyio.CancelScope()  # the request runs inside it
        self.answering = False  # the response head is out: the work is done, nothing to stop
        self._receive = receive
        self._watcher: asyncio.Task[None] | None = None
        self._timer = asyncio.get_running_loop().call_later(WATCH_AFTER_S, self._start)

    def _start(self) -> None:
        self._watcher = asyncio.ensure_future(self._watch())

    async def _watch(self) -> None:
        message: Message = await self._receive()
        while message["type"] != "http.disconnect":  # pragma: no cover (the body was read already)
            message = await self._receive()
        if self.answering:
            return
        self.cancellation.cancel()
        self.scope.cancel()

    def stop(self) -> None:
        self._timer.cancel()
        if self._watcher is not None:
            self._watcher.cancel()
