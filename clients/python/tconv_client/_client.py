"""Client and AsyncClient: one method per endpoint, typed results in both views, bulk helpers.

Everything but the transport call lives in ``_base`` (request builder, retry policy, parsing);
here each method names its endpoint and result type, and the two drivers send and sleep.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Literal, TypeVar, Unpack, overload

import httpx
from pydantic import BaseModel

from tconv_client._base import (
    DEFAULT_CONCURRENCY,
    INFO,
    INVERT,
    PLAN,
    SEARCH,
    SEARCH_BATCH,
    SEARCH_BATCH_SIZE,
    SHAPE,
    SHAPE_BATCH,
    SHAPE_BATCH_SIZE,
    VERIFY,
    BaseClient,
    Endpoint,
    Outcome,
    body,
    chunks,
    parse,
    parse_batch,
)
from tconv_client._constants import DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT_S
from tconv_client.types import (
    BatchError,
    Candidate,
    ConvSpec,
    Info,
    InvertBasic,
    InvertResult,
    LayerSpec,
    PlanParams,
    PlanResult,
    PlanResultBasic,
    SearchBasic,
    SearchParams,
    SearchQuery,
    SearchResult,
    ShapeBasic,
    ShapeParams,
    ShapeQuery,
    ShapeResult,
    Size,
    VerifyParams,
    VerifyResult,
    View,
)

T = TypeVar("T", bound=BaseModel)
B = TypeVar("B", bound=BaseModel)
Basic = Literal["basic"]
Full = Literal["full"]


def _single(view: View | None, basic: type[B], full: type[B]) -> type[B]:
    """Single requests answer in the full view unless asked otherwise."""
    return basic if view == "basic" else full


def _batched(view: View | None, basic: type[B], full: type[B]) -> type[B]:
    """Batches answer in the basic view unless asked otherwise."""
    return full if view == "full" else basic


class Client(BaseClient):
    """Synchronous client; use as a context manager (or call ``close()``).

    >>> with Client("http://127.0.0.1:8000") as client:  # doctest: +SKIP
    ...     client.search(input_size=7, output_size=14).best.snippet
    'nn.ConvTranspose2d(1, 1, kernel_size=2, stride=2)'
    """

    def __init__(
        self,
        base_url: str | None = None,
        *,
        api_key: str | None = None,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT_S,
        max_retries: int = DEFAULT_MAX_RETRIES,
        retry_verify: bool = False,
        http_client: httpx.Client | None = None,
    ) -> None:
        """``base_url``: default ``TCONV_URL``, else http://127.0.0.1:8000. ``api_key``: default
        ``TCONV_API_KEY``. ``http_client``: your own httpx client (proxies, hooks, limits)."""
        super().__init__(
            base_url, api_key=api_key, timeout=timeout, max_retries=max_retries, retry_verify=retry_verify
        )
        self._http = http_client or httpx.Client()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def _send(self, endpoint: Endpoint, json: dict[str, object] | None) -> httpx.Response:
        flow = self.exchange(endpoint, json)
        step = next(flow)
        while True:
            outcome: Outcome | None = None
            if isinstance(step, float):
                time.sleep(step)
            else:
                try:
                    outcome = self._http.send(step)
                except httpx.TransportError as exc:
                    outcome = exc
            try:
                step = flow.send(outcome)
            except StopIteration as done:
                response: httpx.Response = done.value
                return response

    def _call(self, endpoint: Endpoint, model: type[T], json: dict[str, object] | None = None) -> T:
        return parse(self._send(endpoint, json), model)

    def _batch(
        self, endpoint: Endpoint, model: type[T], queries: Sequence[object], view: View | None
    ) -> list[T | BatchError]:
        return parse_batch(self._send(endpoint, body({"queries": list(queries)}, view)), model)

    def _many(
        self,
        endpoint: Endpoint,
        model: type[T],
        queries: Iterable[object],
        view: View | None,
        batch_size: int,
        concurrency: int,
    ) -> Iterator[T | BatchError]:
        # At most `concurrency` batches in flight; answers leave in input order.
        pool = ThreadPoolExecutor(max(1, concurrency), thread_name_prefix="tconv")
        pending: deque[Future[list[T | BatchError]]] = deque()
        try:
            for chunk in chunks(queries, batch_size):
                pending.append(pool.submit(self._batch, endpoint, model, chunk, view))
                if len(pending) >= concurrency:
                    yield from pending.popleft().result()
            while pending:
                yield from pending.popleft().result()
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    @overload
    def shape(
        self, input_size: Size, kernel_size: Size, *, view: Basic, **params: Unpack[ShapeParams]
    ) -> ShapeBasic: ...
    @overload
    def shape(
        self, input_size: Size, kernel_size: Size, *, view: Full | None = None, **params: Unpack[ShapeParams]
    ) -> ShapeResult: ...
    def shape(
        self, input_size: Size, kernel_size: Size, *, view: View | None = None, **params: Unpack[ShapeParams]
    ) -> ShapeBasic:
        """The output size PyTorch gives, or which rule the layer breaks."""
        json = body(params, view, input_size=input_size, kernel_size=kernel_size)
        return self._call(SHAPE, _single(view, ShapeBasic, ShapeResult), json)

    @overload
    def search(
        self, input_size: Size, output_size: Size, *, view: Basic, **params: Unpack[SearchParams]
    ) -> SearchBasic: ...
    @overload
    def search(
        self, input_size: Size, output_size: Size, *, view: Full | None = None, **params: Unpack[SearchParams]
    ) -> SearchResult: ...
    def search(
        self, input_size: Size, output_size: Size, *, view: View | None = None, **params: Unpack[SearchParams]
    ) -> SearchBasic:
        """Every valid layer mapping ``input_size`` to ``output_size``, ranked; one page."""
        json = body(params, view, input_size=input_size, output_size=output_size)
        return self._call(SEARCH, _single(view, SearchBasic, SearchResult), json)

    def iter_candidates(
        self, input_size: Size, output_size: Size, *, page_size: int = 1000, **params: Unpack[SearchParams]
    ) -> Iterator[Candidate]:
        """Every candidate of a search, best first, fetched page by page (from ``offset``)."""
        offset = params.get("offset") or 0
        while True:
            query: SearchParams = {**params, "offset": offset, "limit": page_size}
            page = self.search(input_size, output_size, **query)
            yield from page.candidates
            offset += len(page.candidates)
            if not page.candidates or offset >= page.total:
                return

    @overload
    def shape_many(
        self, queries: Iterable[ShapeQuery], *, view: Full, batch_size: int = ..., concurrency: int = ...
    ) -> Iterator[ShapeResult | BatchError]: ...
    @overload
    def shape_many(
        self,
        queries: Iterable[ShapeQuery],
        *,
        view: Basic | None = None,
        batch_size: int = ...,
        concurrency: int = ...,
    ) -> Iterator[ShapeBasic | BatchError]: ...
    def shape_many(
        self,
        queries: Iterable[ShapeQuery],
        *,
        view: View | None = None,
        batch_size: int = SHAPE_BATCH_SIZE,
        concurrency: int = DEFAULT_CONCURRENCY,
    ) -> Iterator[ShapeBasic | BatchError]:
        """Answer any number of shape queries through ``/v1/shape/batch``: ``batch_size`` per
        request, ``concurrency`` requests at once, answers yielded lazily in input order."""
        model = _batched(view, ShapeBasic, ShapeResult)
        return self._many(SHAPE_BATCH, model, queries, view, batch_size, concurrency)

    @overload
    def search_many(
        self, queries: Iterable[SearchQuery], *, view: Full, batch_size: int = ..., concurrency: int = ...
    ) -> Iterator[SearchResult | BatchError]: ...
    @overload
    def search_many(
        self,
        queries: Iterable[SearchQuery],
        *,
        view: Basic | None = None,
        batch_size: int = ...,
        concurrency: int = ...,
    ) -> Iterator[SearchBasic | BatchError]: ...
    def search_many(
        self,
        queries: Iterable[SearchQuery],
        *,
        view: View | None = None,
        batch_size: int = SEARCH_BATCH_SIZE,
        concurrency: int = DEFAULT_CONCURRENCY,
    ) -> Iterator[SearchBasic | BatchError]:
        """Answer any number of searches through ``/v1/search/batch``, in input order."""
        model = _batched(view, SearchBasic, SearchResult)
        return self._many(SEARCH_BATCH, model, queries, view, batch_size, concurrency)

    @overload
    def shape_batch(self, queries: Sequence[ShapeQuery], *, view: Full) -> list[ShapeResult | BatchError]: ...
    @overload
    def shape_batch(
        self, queries: Sequence[ShapeQuery], *, view: Basic | None = None
    ) -> list[ShapeBasic | BatchError]: ...
    def shape_batch(
        self, queries: Sequence[ShapeQuery], *, view: View | None = None
    ) -> list[ShapeResult | BatchError] | list[ShapeBasic | BatchError]:
        """One ``/v1/shape/batch`` request; a failing item fails alone."""
        return self._batch(SHAPE_BATCH, _batched(view, ShapeBasic, ShapeResult), queries, view)

    @overload
    def search_batch(
        self, queries: Sequence[SearchQuery], *, view: Full
    ) -> list[SearchResult | BatchError]: ...
    @overload
    def search_batch(
        self, queries: Sequence[SearchQuery], *, view: Basic | None = None
    ) -> list[SearchBasic | BatchError]: ...
    def search_batch(
        self, queries: Sequence[SearchQuery], *, view: View | None = None
    ) -> list[SearchResult | BatchError] | list[SearchBasic | BatchError]:
        """One ``/v1/search/batch`` request; a failing item fails alone."""
        return self._batch(SEARCH_BATCH, _batched(view, SearchBasic, SearchResult), queries, view)

    @overload
    def invert(
        self, input_size: Size, conv: ConvSpec | Sequence[ConvSpec], *, view: Basic
    ) -> InvertBasic: ...
    @overload
    def invert(
        self, input_size: Size, conv: ConvSpec | Sequence[ConvSpec], *, view: Full | None = None
    ) -> InvertResult: ...
    def invert(
        self, input_size: Size, conv: ConvSpec | Sequence[ConvSpec], *, view: View | None = None
    ) -> InvertBasic:
        """The ConvTranspose layers that undo a Conv layer or an encoder, exactly."""
        json = body({}, view, input_size=input_size, conv=conv)
        return self._call(INVERT, _single(view, InvertBasic, InvertResult), json)

    @overload
    def plan(
        self, input_size: Size, output_size: Size, *, view: Basic, **params: Unpack[PlanParams]
    ) -> PlanResultBasic: ...
    @overload
    def plan(
        self, input_size: Size, output_size: Size, *, view: Full | None = None, **params: Unpack[PlanParams]
    ) -> PlanResult: ...
    def plan(
        self, input_size: Size, output_size: Size, *, view: View | None = None, **params: Unpack[PlanParams]
    ) -> PlanResultBasic:
        """Stacks of layers from ``input_size`` to ``output_size``, best first."""
        json = body(params, view, input_size=input_size, output_size=output_size)
        return self._call(PLAN, _single(view, PlanResultBasic, PlanResult), json)

    def verify(
        self, input_size: Size, layers: Sequence[LayerSpec], **params: Unpack[VerifyParams]
    ) -> VerifyResult:
        """Build each layer in real PyTorch on the server's worker and report what happened.
        Not re-sent after a timeout unless the client was made with ``retry_verify=True``."""
        return self._call(VERIFY, VerifyResult, body(params, input_size=input_size, layers=layers))

    def info(self) -> Info:
        return self._call(INFO, Info)


class AsyncClient(BaseClient):
    """Asynchronous client; ``async with AsyncClient() as client: await client.search(...)``.
    The same methods as ``Client``; the bulk helpers and ``iter_candidates`` are async iterators."""

    def __init__(
        self,
        base_url: str | None = None,
        *,
        api_key: str | None = None,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT_S,
        max_retries: int = DEFAULT_MAX_RETRIES,
        retry_verify: bool = False,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        """``base_url``: default ``TCONV_URL``, else http://127.0.0.1:8000. ``api_key``: default
        ``TCONV_API_KEY``. ``http_client``: your own httpx client (proxies, hooks, limits)."""
        super().__init__(
            base_url, api_key=api_key, timeout=timeout, max_retries=max_retries, retry_verify=retry_verify
        )
        self._http = http_client or httpx.AsyncClient()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        await self._http.aclose()

    async def _send(self, endpoint: Endpoint, json: dict[str, object] | None) -> httpx.Response:
        flow = self.exchange(endpoint, json)
        step = next(flow)
        while True:
            outcome: Outcome | None = None
            if isinstance(step, float):
                await asyncio.sleep(step)
            else:
                try:
                    outcome = await self._http.send(step)
                except httpx.TransportError as exc:
                    outcome = exc
            try:
                step = flow.send(outcome)
            except StopIteration as done:
                response: httpx.Response = done.value
                return response

    async def _call(self, endpoint: Endpoint, model: type[T], json: dict[str, object] | None = None) -> T:
        return parse(await self._send(endpoint, json), model)

    async def _batch(
        self, endpoint: Endpoint, model: type[T], queries: Sequence[object], view: View | None
    ) -> list[T | BatchError]:
        return parse_batch(await self._send(endpoint, body({"queries": list(queries)}, view)), model)

    async def _many(
        self,
        endpoint: Endpoint,
        model: type[T],
        queries: Iterable[object],
        view: View | None,
        batch_size: int,
        concurrency: int,
    ) -> AsyncIterator[T | BatchError]:
        pending: deque[asyncio.Task[list[T | BatchError]]] = deque()
        try:
            for chunk in chunks(queries, batch_size):
                pending.append(asyncio.create_task(self._batch(endpoint, model, chunk, view)))
                if len(pending) >= concurrency:
                    for item in await pending.popleft():
                        yield item
            while pending:
                for item in await pending.popleft():
                    yield item
        finally:
            for task in pending:
                task.cancel()

    @overload
    async def shape(
        self, input_size: Size, kernel_size: Size, *, view: Basic, **params: Unpack[ShapeParams]
    ) -> ShapeBasic: ...
    @overload
    async def shape(
        self, input_size: Size, kernel_size: Size, *, view: Full | None = None, **params: Unpack[ShapeParams]
    ) -> ShapeResult: ...
    async def shape(
        self, input_size: Size, kernel_size: Size, *, view: View | None = None, **params: Unpack[ShapeParams]
    ) -> ShapeBasic:
        json = body(params, view, input_size=input_size, kernel_size=kernel_size)
        return await self._call(SHAPE, _single(view, ShapeBasic, ShapeResult), json)

    @overload
    async def search(
        self, input_size: Size, output_size: Size, *, view: Basic, **params: Unpack[SearchParams]
    ) -> SearchBasic: ...
    @overload
    async def search(
        self, input_size: Size, output_size: Size, *, view: Full | None = None, **params: Unpack[SearchParams]
    ) -> SearchResult: ...
    async def search(
        self, input_size: Size, output_size: Size, *, view: View | None = None, **params: Unpack[SearchParams]
    ) -> SearchBasic:
        json = body(params, view, input_size=input_size, output_size=output_size)
        return await self._call(SEARCH, _single(view, SearchBasic, SearchResult), json)

    async def iter_candidates(
        self, input_size: Size, output_size: Size, *, page_size: int = 1000, **params: Unpack[SearchParams]
    ) -> AsyncIterator[Candidate]:
        offset = params.get("offset") or 0
        while True:
            query: SearchParams = {**params, "offset": offset, "limit": page_size}
            page = await self.search(input_size, output_size, **query)
            for candidate in page.candidates:
                yield candidate
            offset += len(page.candidates)
            if not page.candidates or offset >= page.total:
                return

    @overload
    def shape_many(
        self, queries: Iterable[ShapeQuery], *, view: Full, batch_size: int = ..., concurrency: int = ...
    ) -> AsyncIterator[ShapeResult | BatchError]: ...
    @overload
    def shape_many(
        self,
        queries: Iterable[ShapeQuery],
        *,
        view: Basic | None = None,
        batch_size: int = ...,
        concurrency: int = ...,
    ) -> AsyncIterator[ShapeBasic | BatchError]: ...
    def shape_many(
        self,
        queries: Iterable[ShapeQuery],
        *,
        view: View | None = None,
        batch_size: int = SHAPE_BATCH_SIZE,
        concurrency: int = DEFAULT_CONCURRENCY,
    ) -> AsyncIterator[ShapeBasic | BatchError]:
        model = _batched(view, ShapeBasic, ShapeResult)
        return self._many(SHAPE_BATCH, model, queries, view, batch_size, concurrency)

    @overload
    def search_many(
        self, queries: Iterable[SearchQuery], *, view: Full, batch_size: int = ..., concurrency: int = ...
    ) -> AsyncIterator[SearchResult | BatchError]: ...
    @overload
    def search_many(
        self,
        queries: Iterable[SearchQuery],
        *,
        view: Basic | None = None,
        batch_size: int = ...,
        concurrency: int = ...,
    ) -> AsyncIterator[SearchBasic | BatchError]: ...
    def search_many(
        self,
        queries: Iterable[SearchQuery],
        *,
        view: View | None = None,
        batch_size: int = SEARCH_BATCH_SIZE,
        concurrency: int = DEFAULT_CONCURRENCY,
    ) -> AsyncIterator[SearchBasic | BatchError]:
        model = _batched(view, SearchBasic, SearchResult)
        return self._many(SEARCH_BATCH, model, queries, view, batch_size, concurrency)

    @overload
    async def shape_batch(
        self, queries: Sequence[ShapeQuery], *, view: Full
    ) -> list[ShapeResult | BatchError]: ...
    @overload
    async def shape_batch(
        self, queries: Sequence[ShapeQuery], *, view: Basic | None = None
    ) -> list[ShapeBasic | BatchError]: ...
    async def shape_batch(
        self, queries: Sequence[ShapeQuery], *, view: View | None = None
    ) -> list[ShapeResult | BatchError] | list[ShapeBasic | BatchError]:
        return await self._batch(SHAPE_BATCH, _batched(view, ShapeBasic, ShapeResult), queries, view)

    @overload
    async def search_batch(
        self, queries: Sequence[SearchQuery], *, view: Full
    ) -> list[SearchResult | BatchError]: ...
    @overload
    async def search_batch(
        self, queries: Sequence[SearchQuery], *, view: Basic | None = None
    ) -> list[SearchBasic | BatchError]: ...
    async def search_batch(
        self, queries: Sequence[SearchQuery], *, view: View | None = None
    ) -> list[SearchResult | BatchError] | list[SearchBasic | BatchError]:
        return await self._batch(SEARCH_BATCH, _batched(view, SearchBasic, SearchResult), queries, view)

    @overload
    async def invert(
        self, input_size: Size, conv: ConvSpec | Sequence[ConvSpec], *, view: Basic
    ) -> InvertBasic: ...
    @overload
    async def invert(
        self, input_size: Size, conv: ConvSpec | Sequence[ConvSpec], *, view: Full | None = None
    ) -> InvertResult: ...
    async def invert(
        self, input_size: Size, conv: ConvSpec | Sequence[ConvSpec], *, view: View | None = None
    ) -> InvertBasic:
        json = body({}, view, input_size=input_size, conv=conv)
        return await self._call(INVERT, _single(view, InvertBasic, InvertResult), json)

    @overload
    async def plan(
        self, input_size: Size, output_size: Size, *, view: Basic, **params: Unpack[PlanParams]
    ) -> PlanResultBasic: ...
    @overload
    async def plan(
        self, input_size: Size, output_size: Size, *, view: Full | None = None, **params: Unpack[PlanParams]
    ) -> PlanResult: ...
    async def plan(
        self, input_size: Size, output_size: Size, *, view: View | None = None, **params: Unpack[PlanParams]
    ) -> PlanResultBasic:
        json = body(params, view, input_size=input_size, output_size=output_size)
        return await self._call(PLAN, _single(view, PlanResultBasic, PlanResult), json)

    async def verify(
        self, input_size: Size, layers: Sequence[LayerSpec], **params: Unpack[VerifyParams]
    ) -> VerifyResult:
        return await self._call(VERIFY, VerifyResult, body(params, input_size=input_size, layers=layers))

    async def info(self) -> Info:
        return await self._call(INFO, Info)
