"""The API's client of a standalone worker: pooled, chunked, and never a 5xx when the worker is down."""

from __future__ import annotations

import asyncio

import httpx

from service.wire.schemas import VerificationOut, VerifyRequest, VerifyResponse
from service.worker.errors import WorkerBusyError


class RemoteVerifier:
    kind = "remote"

    def __init__(self, url: str, *, timeout_s: float, chunk_size: int, concurrency: int) -> None:
        self.url = url.rstrip("/")
        self.chunk_size = chunk_size
        self._slots = asyncio.Semaphore(concurrency)
        # One pooled client for the process; the transport retries a failed connection once.
        self._client = httpx.AsyncClient(
            base_url=self.url,
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
        answers = await asyncio.gather(*(self._send(chunk, headers) for chunk in chunks))
        busy = [a for a in answers if isinstance(a, WorkerBusyError)]
        if busy and len(busy) == len(answers):
            raise busy[0]
        results: list[VerificationOut] = []
        env: dict[str, object] = {}
        for chunk, answer in zip(chunks, answers, strict=True):
            if isinstance(answer, VerifyResponse):
                results.extend(answer.results)
                env = answer.model_dump(exclude={"results", "worker"})
            else:
                reason = str(answer)
                results.extend(VerificationOut(status="unavailable", error=reason) for _ in chunk.layers)
        return VerifyResponse(results=results, worker=self.url, **env)

    async def _send(self, chunk: VerifyRequest, headers: dict[str, str]) -> VerifyResponse | Exception:
        async with self._slots:
            try:
                response = await self._client.post(
                    "/v1/verify", content=chunk.model_dump_json(exclude_unset=True), headers=headers
                )
            except httpx.TimeoutException:
                return ConnectionError(f"the verification worker at {self.url} did not answer in time")
            except httpx.HTTPError as exc:
                return ConnectionError(f"the verification worker at {self.url} is unreachable: {exc}")
        if response.status_code == 503:
            retry_after = int(response.headers.get("retry-after", "1"))
            return WorkerBusyError(retry_after)
        if response.status_code != 200:
            return ConnectionError(
                f"the verification worker at {self.url} answered {response.status_code}: "
                f"{response.text[:200]}"
            )
        return VerifyResponse.model_validate_json(response.content)

    async def describe(self) -> dict[str, object]:
        try:
            response = await self._client.get("/readyz", timeout=2.0)
            body = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            return {"mode": self.kind, "url": self.url, "available": False, "reason": f"unreachable: {exc}"}
        return {"mode": self.kind, "url": self.url, "available": response.status_code == 200, **body}

    async def aclose(self) -> None:
        await self._client.aclose()
