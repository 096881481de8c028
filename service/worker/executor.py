"""One verification job at a time per device, a bounded queue in front, a result cache behind.

The standalone worker's route and the API's embedded verifier both call ``Executor.verify``:
one code path, two ways to run it.
"""

from __future__ import annotations

import asyncio
import threading
import time

import anyio.to_thread
from cachetools import LRUCache

from service.solver.cancel import checkpoint
from service.wire.schemas import VerificationOut, VerifyRequest, VerifyResponse
from service.worker import runner
from service.worker.config import WorkerSettings
from service.worker.errors import WorkerBusyError
from service.worker.sandbox import Sandbox


class Executor:
    def __init__(self, settings: WorkerSettings, *, label: str) -> None:
        self.settings = settings
        self.label = label
        self.device = runner.resolve_device("auto")
        self.environment = runner.environment(self.device)
        self._lock = asyncio.Lock()
        self._waiting = 0
        self._cache: LRUCache[runner.Job, VerificationOut] = LRUCache(maxsize=max(settings.cache_size, 1))
        self._cache_lock = threading.Lock()
        self._sandbox = Sandbox(max_memory_bytes=settings.max_memory_bytes) if settings.isolate else None

    @property
    def waiting(self) -> int:
        return self._waiting

    async def verify(self, request: VerifyRequest) -> VerifyResponse:
        """Raises WorkerBusyError when ``max_queue`` requests are already waiting."""
        # One request runs, max_queue wait; _waiting counts both.
        if self._waiting >= self.settings.max_queue + 1:
            raise WorkerBusyError(self.settings.retry_after_s, self._waiting)
        deadline = time.monotonic() + self.settings.deadline_s
        device = runner.resolve_device(request.device)
        self._waiting += 1
        try:
            async with asyncio.timeout(self.settings.deadline_s):
                await self._lock.acquire()
        except TimeoutError:
            results = [self._late(device)] * len(request.layers)
        else:
            try:
                # A caller that leaves cancels the request's scope, which anyio keeps off this
                # wait: the lock, which guards the one sandbox, is held until the thread has
                # stopped (at its next check of the request's cancellation).
                results = await anyio.to_thread.run_sync(self._run_all, request, device, deadline)
            finally:
                self._lock.release()
        finally:
            self._waiting -= 1
        env = runner.environment(device) if device != self.device else self.environment
        return VerifyResponse(results=results, worker=self.label, **env)

    def _late(self, device: str) -> VerificationOut:
        return VerificationOut(
            status="unavailable",
            device=device,
            error=f"the request's deadline of {self.settings.deadline_s:g} s passed before this layer ran",
        )

    def _run_all(self, request: VerifyRequest, device: str, deadline: float) -> list[VerificationOut]:
        results: list[VerificationOut] = []
        for job in runner.jobs_of(request, device):
            checkpoint()
            if isinstance(job, VerificationOut):
                results.append(job)
            elif time.monotonic() > deadline:
                results.append(self._late(device))
            else:
                results.append(self._cached_run(job, deadline))
        return results

    def _cached_run(self, job: runner.Job, deadline: float) -> VerificationOut:
        if self.settings.cache_size:
            with self._cache_lock:
                hit = self._cache.get(job)
            if hit is not None:
                return hit.model_copy(update={"cached": True})
        if self._sandbox is None:
            result = runner.run_job(job)
        else:
            result = self._sandbox.run(job, timeout_s=max(deadline - time.monotonic(), 0.0))
        # A layer not run says nothing about the layer; only real outcomes are kept.
        if self.settings.cache_size and result.status != "unavailable":
            with self._cache_lock:
                self._cache[job] = result
        return result

    def close(self) -> None:
        if self._sandbox is not None:
            self._sandbox.close()
