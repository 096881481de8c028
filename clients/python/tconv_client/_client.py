"""Client and AsyncClient: one method per endpoint, typed results, retries with backoff.

Every tconv endpoint is a pure function of its request, so retrying a request is always safe:
connection errors, timeouts, 408, 429 and 5xx are retried with capped exponential backoff and
jitter, honouring ``Retry-After``.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any, Literal, TypeVar

import httpx
from pydantic import BaseModel

from tconv_client._constants import (
    DEFAULT_BASE_URL,
    DEFAULT_CONNECT_TIMEOUT_S,
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT_S,
    INITIAL_RETRY_DELAY_S,
    MAX_RETRY_DELAY_S,
    RETRY_STATUSES,
)
from tconv_client._exceptions import APIConnectionError, APITimeoutError, make_status_error
from tconv_client._version import __version__
from tconv_client.types import (
    BatchError,
    Candidate,
    Info,
    InvertResult,
    PlanResult,
    SearchResult,
    ShapeResult,
    VerifyResult,
)

Size = int | list[int] | tuple[int, ...]
Bound = int | list[int] | Mapping[str, Any]  # 8, [2, 4], {"min": 1, "max": 8} or {"values": [...]}
Objective = Literal["balanced", "quality", "cost", "conventional", "latency"]
T = TypeVar("T", bound=BaseModel)

# Parameter names equal the contract's field names; None means "the server's default".
_LOCAL = frozenset({"self", "__class__"})


def _body(params: Mapping[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for name, value in params.items():
        if name in _LOCAL or value is None:
            continue
        if name == "options":
            body.update({k: v for k, v in value.items() if v is not None})
            continue
        body[name] = list(value) if isinstance(value, tuple) else value
    return body


class _BaseClient:
    def __init__(
        self,
        base_url: str | None = None,
        *,
        api_key: str | None = None,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT_S,
        max_retries: int = DEFAULT_MAX_RETRIES,
    ) -> None:
        self.base_url = (base_url or os.environ.get("TCONV_URL") or DEFAULT_BASE_URL).rstrip("/")
        self.api_key = api_key if api_key is not None else os.environ.get("TCONV_API_KEY")
        self.timeout = (
            timeout
            if isinstance(timeout, httpx.Timeout)
            else httpx.Timeout(timeout, connect=DEFAULT_CONNECT_TIMEOUT_S)
        )
        self.max_retries = max_retries

    @property
    def headers(self) -> dict[str, str]:
        headers = {"User-Agent": f"tconv-client/{__version__}", "Accept": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        return headers

    def _retry_delay(self, attempt: int, response: httpx.Response | None) -> float:
        if response is not None:
            retry_after = response.headers.get("retry-after")
            if retry_after is not None:
                try:
                    return min(float(retry_after), MAX_RETRY_DELAY_S)
                except ValueError:
                    pass
        delay: float = min(INITIAL_RETRY_DELAY_S * 2.0**attempt, MAX_RETRY_DELAY_S)
        return delay * (0.75 + random.random() / 2)  # jitter: spread retries of many clients

    def _should_retry(self, attempt: int, response: httpx.Response | None) -> bool:
        if attempt >= self.max_retries:
            return False
        return response is None or response.status_code in RETRY_STATUSES

    @staticmethod
    def _parse(response: httpx.Response, model: type[T]) -> T:
        if response.status_code >= 400:
            raise make_status_error(response)
        return model.model_validate_json(response.content)


class Client(_BaseClient):
    """Synchronous client; use as a context manager (or call ``close()``).

    >>> with Client("http://127.0.0.1:8000") as client:  # doctest: +SKIP
    ...     client.search(input_size=7, output_size=14).best.snippet
    'nn.ConvTranspose2d(1, 1, kernel_size=2, stride=2)'
    """

    def __init__(self, base_url: str | None = None, **kwargs: Any) -> None:
        super().__init__(base_url, **kwargs)
        self._http = httpx.Client(base_url=self.base_url, timeout=self.timeout, headers=self.headers)

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def _request(self, method: str, path: str, model: type[T], body: dict[str, Any] | None = None) -> T:
        attempt = 0
        while True:
            response: httpx.Response | None = None
            try:
                response = self._http.request(method, path, json=body)
            except httpx.TimeoutException as exc:
                error: Exception = APITimeoutError(f"{method} {path} timed out", request=exc.request)
            except httpx.TransportError as exc:
                error = APIConnectionError(f"{method} {path}: cannot reach {self.base_url}: {exc}")
            else:
                if not self._should_retry(attempt, response) or response.status_code < 400:
                    return self._parse(response, model)
                error = make_status_error(response)
            if not self._should_retry(attempt, response):
                raise error
            time.sleep(self._retry_delay(attempt, response))
            attempt += 1

    def shape(
        self,
        input_size: Size,
        kernel_size: Size,
        *,
        stride: Size | None = None,
        padding: Size | None = None,
        output_padding: Size | None = None,
        dilation: Size | None = None,
        **options: Any,
    ) -> ShapeResult:
        """The output size PyTorch gives, or which rule it breaks. ``options``: channel context."""
        return self._request("POST", "/v1/shape", ShapeResult, _body(locals()))

    def search(
        self,
        input_size: Size,
        output_size: Size,
        *,
        kernel_size: Bound | None = None,
        stride: Bound | None = None,
        dilation: Bound | None = None,
        padding: Bound | None = None,
        output_padding: Bound | None = None,
        tie_dims: bool | None = None,
        objective: Objective | None = None,
        limit: int | None = None,
        offset: int | None = None,
        verify: Literal["none", "meta", "device"] | None = None,
        **options: Any,
    ) -> SearchResult:
        """Every valid layer mapping ``input_size`` to ``output_size``, ranked; one page."""
        return self._request("POST", "/v1/search", SearchResult, _body(locals()))

    def iter_candidates(self, input_size: Size, output_size: Size, **kwargs: Any) -> Iterator[Candidate]:
        """Every candidate of a search, best first, page by page."""
        offset, limit = kwargs.pop("offset", 0), kwargs.pop("limit", 1000)
        while True:
            page = self.search(input_size, output_size, offset=offset, limit=limit, **kwargs)
            yield from page.candidates
            offset += len(page.candidates)
            if not page.candidates or offset >= page.total:
                return

    def search_batch(self, queries: list[dict[str, Any]]) -> list[SearchResult | BatchError]:
        """Many searches in one call, answered in order; a failing item fails alone."""
        raw = self._request("POST", "/v1/search/batch", _Raw, {"queries": queries, "view": "full"})
        return [_batch_item(item, SearchResult) for item in raw.results]

    def shape_batch(self, queries: list[dict[str, Any]]) -> list[ShapeResult | BatchError]:
        raw = self._request("POST", "/v1/shape/batch", _Raw, {"queries": queries, "view": "full"})
        return [_batch_item(item, ShapeResult) for item in raw.results]

    def invert(self, input_size: Size, conv: dict[str, Any] | list[dict[str, Any]]) -> InvertResult:
        """The ConvTranspose layers that undo a Conv layer or an encoder, exactly."""
        return self._request("POST", "/v1/invert", InvertResult, _body(locals()))

    def plan(
        self,
        input_size: Size,
        output_size: Size,
        *,
        layers: Bound | None = None,
        kernel_size: Bound | None = None,
        stride: Bound | None = None,
        dilation: Bound | None = None,
        padding: Bound | None = None,
        output_padding: Bound | None = None,
        same_layer: bool | None = None,
        monotonic: bool | None = None,
        tie_dims: bool | None = None,
        channels: list[int] | None = None,
        objective: Objective | None = None,
        limit: int | None = None,
        **options: Any,
    ) -> PlanResult:
        """Stacks of layers from ``input_size`` to ``output_size``, best first."""
        return self._request("POST", "/v1/plan", PlanResult, _body(locals()))

    def verify(
        self,
        input_size: Size,
        layers: list[dict[str, Any]],
        *,
        device: Literal["auto", "cuda", "cpu", "meta"] | None = None,
        timing: bool | None = None,
        backward: bool | None = None,
        numerics: bool | None = None,
        repeats: int | None = None,
        **options: Any,
    ) -> VerifyResult:
        """Build each layer in real PyTorch on the server's worker and report what happened."""
        return self._request("POST", "/v1/verify", VerifyResult, _body(locals()))

    def info(self) -> Info:
        return self._request("GET", "/v1/info", Info)


class AsyncClient(_BaseClient):
    """Asynchronous client; ``async with AsyncClient() as client: await client.search(...)``."""

    def __init__(self, base_url: str | None = None, **kwargs: Any) -> None:
        super().__init__(base_url, **kwargs)
        self._http = httpx.AsyncClient(base_url=self.base_url, timeout=self.timeout, headers=self.headers)

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        await self._http.aclose()

    async def _request(self, method: str, path: str, model: type[T], body: dict[str, Any] | None = None) -> T:
        attempt = 0
        while True:
            response: httpx.Response | None = None
            try:
                response = await self._http.request(method, path, json=body)
            except httpx.TimeoutException as exc:
                error: Exception = APITimeoutError(f"{method} {path} timed out", request=exc.request)
            except httpx.TransportError as exc:
                error = APIConnectionError(f"{method} {path}: cannot reach {self.base_url}: {exc}")
            else:
                if not self._should_retry(attempt, response) or response.status_code < 400:
                    return self._parse(response, model)
                error = make_status_error(response)
            if not self._should_retry(attempt, response):
                raise error
            await asyncio.sleep(self._retry_delay(attempt, response))
            attempt += 1

    async def shape(
        self,
        input_size: Size,
        kernel_size: Size,
        *,
        stride: Size | None = None,
        padding: Size | None = None,
        output_padding: Size | None = None,
        dilation: Size | None = None,
        **options: Any,
    ) -> ShapeResult:
        return await self._request("POST", "/v1/shape", ShapeResult, _body(locals()))

    async def search(
        self,
        input_size: Size,
        output_size: Size,
        *,
        kernel_size: Bound | None = None,
        stride: Bound | None = None,
        dilation: Bound | None = None,
        padding: Bound | None = None,
        output_padding: Bound | None = None,
        tie_dims: bool | None = None,
        objective: Objective | None = None,
        limit: int | None = None,
        offset: int | None = None,
        verify: Literal["none", "meta", "device"] | None = None,
        **options: Any,
    ) -> SearchResult:
        return await self._request("POST", "/v1/search", SearchResult, _body(locals()))

    async def iter_candidates(
        self, input_size: Size, output_size: Size, **kwargs: Any
    ) -> AsyncIterator[Candidate]:
        offset, limit = kwargs.pop("offset", 0), kwargs.pop("limit", 1000)
        while True:
            page = await self.search(input_size, output_size, offset=offset, limit=limit, **kwargs)
            for candidate in page.candidates:
                yield candidate
            offset += len(page.candidates)
            if not page.candidates or offset >= page.total:
                return

    async def search_batch(self, queries: list[dict[str, Any]]) -> list[SearchResult | BatchError]:
        raw = await self._request("POST", "/v1/search/batch", _Raw, {"queries": queries, "view": "full"})
        return [_batch_item(item, SearchResult) for item in raw.results]

    async def shape_batch(self, queries: list[dict[str, Any]]) -> list[ShapeResult | BatchError]:
        raw = await self._request("POST", "/v1/shape/batch", _Raw, {"queries": queries, "view": "full"})
        return [_batch_item(item, ShapeResult) for item in raw.results]

    async def invert(self, input_size: Size, conv: dict[str, Any] | list[dict[str, Any]]) -> InvertResult:
        return await self._request("POST", "/v1/invert", InvertResult, _body(locals()))

    async def plan(
        self,
        input_size: Size,
        output_size: Size,
        *,
        layers: Bound | None = None,
        kernel_size: Bound | None = None,
        stride: Bound | None = None,
        dilation: Bound | None = None,
        padding: Bound | None = None,
        output_padding: Bound | None = None,
        same_layer: bool | None = None,
        monotonic: bool | None = None,
        tie_dims: bool | None = None,
        channels: list[int] | None = None,
        objective: Objective | None = None,
        limit: int | None = None,
        **options: Any,
    ) -> PlanResult:
        return await self._request("POST", "/v1/plan", PlanResult, _body(locals()))

    async def verify(
        self,
        input_size: Size,
        layers: list[dict[str, Any]],
        *,
        device: Literal["auto", "cuda", "cpu", "meta"] | None = None,
        timing: bool | None = None,
        backward: bool | None = None,
        numerics: bool | None = None,
        repeats: int | None = None,
        **options: Any,
    ) -> VerifyResult:
        return await self._request("POST", "/v1/verify", VerifyResult, _body(locals()))

    async def info(self) -> Info:
        return await self._request("GET", "/v1/info", Info)


class _Raw(BaseModel):
    results: list[dict[str, Any]]


def _batch_item(item: dict[str, Any], model: type[T]) -> T | BatchError:
    return BatchError.model_validate(item) if set(item) == {"error"} else model.model_validate(item)
