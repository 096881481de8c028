"""The API's client of a standalone worker: pooled, chunked, and never a 5xx when the worker is down.

Nothing the worker sends is trusted: every answer is parsed with the wire models, its result count
is checked against the chunk, and each ``confirmed`` is checked against the solver's size. A
worker that answers nonsense makes its layers ``unavailable`` (or ``failed``), never an API 5xx.
"""

from __future__ import annotations

import asyncio

import anyio
import httpx
from pydantic import ValidationError

from service.wire.schemas import VerificationOut, VerifyRequest, VerifyResponse
from service.worker import without_internals
from service.worker.errors import WorkerBusyError
from service.worker.jobs import Job, expected_check, jobs_of

# A worker's Retry-After outside this range is clamped: 0 would make clients spin, and a huge
# value would park them.
RETRY_AFTER_RANGE = (1, 60)


def retry_after_of(value: str | None) -> int:
    """Retry-After in whole seconds, clamped; anything unreadable (an HTTP date included) is 1.

    >>> retry_after_of("5"), retry_after_of("-3"), retry_after_of("soon"), retry_after_of(None)
    (5, 1, 1, 1)
    """
    low, high = RETRY_AFTER_RANGE
    try:
        seconds = int((value or "").strip())
    except ValueError:
        return low
    return min(max(seconds, low), high)


def checked_against_solver(result: VerificationOut, expected: Job | VerificationOut) -> VerificationOut:
    """A ``confirmed`` must carry the solver's non-empty output size; anything else is ``failed``.

    ``expected`` is what the API itself derives for the layer (a Job, or the ``failed`` result of a
    layer whose dimensions disagree).
    """
    if isinstance(expected, VerificationOut):
        return result if result.status != "confirmed" else expected
    check = expected_check(expected)
    solver = list(check.output_size) if check.is_valid else None
    if result.status != "confirmed" or (result.output_size == solver and solver is not None):
        return result.model_copy(update={"expected_output_size": solver})
    return result.model_copy(
        update={
            "status": "failed",
            "expected_output_size": solver,
            "error": f"the worker reported confirmed with output size {result.output_size}; "
            f"the solver predicts {solver if solver is not None else 'that PyTorch refuses the layer'}",
        }
    )


class RemoteVerifier:
    kind = "remote"

    def __init__(
        self,
        url: str,
        *,
        timeout_s: float,
        chunk_size: int,
        concurrency: int,
        token: str | None = None,
        expose_internals: bool = False,
    ) -> None:
        self.url = url.rstrip("/")
        self.chunk_size = chunk_size
        self.expose_internals = expose_internals
        # Callers see the worker's URL and raw errors only when the operator allows it.
        self._name = self.url if expose_internals else "the verification worker"
        self._slots = asyncio.Semaphore(concurrency)
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        # One pooled client for the process; the transport retries a failed connection once.
        self._client = httpx.AsyncClient(
            base_url=self.url,
            headers=headers,
            timeout=httpx.Timeout(timeout_s, connect=2.0),
            transport=httpx.AsyncHTTPTransport(retries=1),
        )

    async def verify(self, request: VerifyRequest, *, request_id: str | None = None) -> VerifyResponse:
        """Chunks of ``chunk_size`` layers go out concurrently; a chunk the worker cannot answer
        comes back ``unavailable`` with the reason. Raises WorkerBusyError when every chunk was refused
        as busy (so /v1/verify can pass the 503 on)."""
        chunks = [
            request.model_copy(update={"layers": request.layers[start : start + self.chunk_size]})
            for start in range(0, len(request.layers), self.chunk_size)
        ]
        headers = {"content-type": "application/json"}
        if request_id:
            headers["X-Request-ID"] = request_id
        answers: list[VerifyResponse | Exception] = [ConnectionError("not sent")] * len(chunks)

        async def send(index: int, chunk: VerifyRequest) -> None:
            answers[index] = await self._send(chunk, headers)

        # An anyio task group, not asyncio.gather: when the caller leaves, its request's cancel
        # scope reaches the calls inside, and httpx closes their connections (so the worker sees
        # its client leave and stops); gather re-cancels its children during httpx's shielded
        # cleanup and leaves the connections open.
        async with anyio.create_task_group() as group:
            for index, chunk in enumerate(chunks):
                group.start_soon(send, index, chunk)
        busy = [a for a in answers if isinstance(a, WorkerBusyError)]
        if busy and len(busy) == len(answers):
            raise busy[0]
        results: list[VerificationOut] = []
        env: dict[str, object] = {}
        expectations = jobs_of(request, "solver")
        for chunk, answer in zip(chunks, answers, strict=True):
            if isinstance(answer, VerifyResponse):
                results.extend(answer.results)
                env = without_internals(
                    answer.model_dump(exclude={"results", "worker"}), self.expose_internals
                )
            else:
                reason = str(answer)
                results.extend(VerificationOut(status="unavailable", error=reason) for _ in chunk.layers)
        results = [checked_against_solver(r, e) for r, e in zip(results, expectations, strict=True)]
        worker = self.url if self.expose_internals else self.kind
        return VerifyResponse(results=results, worker=worker, **without_internals(env, self.expose_internals))

    async def _send(self, chunk: VerifyRequest, headers: dict[str, str]) -> VerifyResponse | Exception:
        async with self._slots:
            try:
                response = await self._client.post(
                    "/v1/verify", content=chunk.model_dump_json(exclude_unset=True), headers=headers
                )
            except httpx.TimeoutException:
                return ConnectionError(f"{self._name} did not answer in time")
            except httpx.HTTPError as exc:
                return ConnectionError(f"{self._name} is unreachable" + self._raw(f": {exc}"))
        if response.status_code == 503:
            return WorkerBusyError(retry_after_of(response.headers.get("retry-after")))
        if response.status_code != 200:
            return ConnectionError(
                f"{self._name} answered {response.status_code}" + self._raw(f": {response.text[:200]}")
            )
        try:
            answer = VerifyResponse.model_validate_json(response.content)
        except ValidationError as exc:
            return ConnectionError(
                f"{self._name} sent an answer that is not a verify response"
                + self._raw(f": {exc.errors()[0]['msg']}")
            )
        if len(answer.results) != len(chunk.layers):
            return ConnectionError(
                f"{self._name} sent {len(answer.results)} results for {len(chunk.layers)} layers"
            )
        return answer

    def _raw(self, detail: str) -> str:
        return detail if self.expose_internals else ""

    async def describe(self) -> dict[str, object]:
        shown: dict[str, object] = {"mode": self.kind}
        if self.expose_internals:
            shown["url"] = self.url
        try:
            response = await self._client.get("/readyz", timeout=2.0)
            body = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            return {**shown, "available": False, "reason": "unreachable" + self._raw(f": {exc}")}
        if not isinstance(body, dict):
            return {**shown, "available": False, "reason": "its readiness answer is not a JSON object"}
        return {
            **shown,
            **without_internals(body, self.expose_internals),
            "available": response.status_code == 200,
        }

    async def aclose(self) -> None:
        await self._client.aclose()
