"""What ``Client`` and ``AsyncClient`` share: configuration, the request builder, the retry
policy and the parsing of answers. Only the transport call differs between them (httpx's own
split), so the retry loop is written once, as a generator (``_BaseClient._exchange``) that yields
a request to send or a delay to sleep and is driven by a blocking or an awaiting loop.

An endpoint is one ``Endpoint`` line here and a one-line method in each client.
"""

from __future__ import annotations

import email.utils
import functools
import itertools
import os
import random
import time
from collections.abc import Generator, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal, TypeVar

import httpx
from pydantic import BaseModel, Discriminator, Tag, create_model

from tconv_client._constants import (
    DEFAULT_BASE_URL,
    DEFAULT_CONNECT_TIMEOUT_S,
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT_S,
    INITIAL_RETRY_DELAY_S,
    MAX_RETRY_DELAY_S,
    RETRY_STATUSES,
    THROTTLE_STATUSES,
)
from tconv_client._exceptions import APIConnectionError, APITimeoutError, make_status_error
from tconv_client._version import __version__
from tconv_client.types import BatchError, View

T = TypeVar("T", bound=BaseModel)
Q = TypeVar("Q")


@dataclass(frozen=True)
class Endpoint:
    method: Literal["GET", "POST"]
    path: str
    # False where running the request twice has an effect the caller may not want (verify
    # occupies the worker, one job at a time): such a request is re-sent only when it surely
    # never ran (connection refused, 429/503), unless the client allows it (retry_verify=True).
    idempotent: bool = True


SHAPE = Endpoint("POST", "/v1/shape")
SHAPE_BATCH = Endpoint("POST", "/v1/shape/batch")
SEARCH = Endpoint("POST", "/v1/search")
SEARCH_BATCH = Endpoint("POST", "/v1/search/batch")
INVERT = Endpoint("POST", "/v1/invert")
PLAN = Endpoint("POST", "/v1/plan")
VERIFY = Endpoint("POST", "/v1/verify", idempotent=False)
EXPORT = Endpoint("POST", "/v1/export")
INFO = Endpoint("GET", "/v1/info")

# One attempt's outcome: the server's response, or the transport error that replaced it.
Outcome = httpx.Response | httpx.TransportError
# What the retry loop asks its driver for: send this request, or sleep this long (seconds).
Step = httpx.Request | float

SHAPE_BATCH_SIZE = 1000
SEARCH_BATCH_SIZE = 100
DEFAULT_CONCURRENCY = 4


def clean(value: object) -> object:
    """``value`` for JSON, where ``None`` means "the server's default": such keys are left out."""
    if isinstance(value, Mapping):
        return {str(k): clean(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [clean(v) for v in value]
    return value


def body(params: Mapping[str, object], view: View | None = None, **required: object) -> dict[str, object]:
    """The JSON body of a request; ``view`` only when the caller set it."""
    out = {name: clean(value) for name, value in {**required, **params}.items() if value is not None}
    if view is not None:
        out["view"] = view
    return out


def chunks(items: Iterable[Q], size: int) -> Iterator[list[Q]]:
    if size < 1:
        raise ValueError(f"batch_size must be >= 1, not {size}")
    iterator = iter(items)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


def parse(response: httpx.Response, model: type[T]) -> T:
    if response.status_code >= 400:
        raise make_status_error(response)
    return model.model_validate_json(response.content)


def parse_batch(response: httpx.Response, model: type[T]) -> list[T | BatchError]:
    """A batch answer's items in order; an item the server refused becomes a ``BatchError``."""
    if response.status_code >= 400:
        raise make_status_error(response)
    results: list[T | BatchError] = _batch_answer(model).model_validate_json(response.content).results
    return results


def _item_kind(item: object) -> str:
    # A refused item is an object with the one key "error"; a basic answer has an "error" too.
    return "refused" if isinstance(item, dict) and len(item) == 1 and "error" in item else "answer"


@functools.cache
def _batch_answer(model: type[BaseModel]) -> Any:
    """The model of a whole batch answer, validated in one call from its JSON (pydantic's own
    parser): three times as fast for 10,000 items as decoding them and validating each."""
    item = Annotated[
        Annotated[model, Tag("answer")] | Annotated[BatchError, Tag("refused")],  # type: ignore[valid-type]
        Discriminator(_item_kind),
    ]
    return create_model(f"{model.__name__}Batch", results=(list[item], ...))


def retry_after(response: httpx.Response) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or an HTTP date), or None."""
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


class BaseClient:
    def __init__(
        self,
        base_url: str | None = None,
        *,
        api_key: str | None = None,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT_S,
        max_retries: int = DEFAULT_MAX_RETRIES,
        retry_verify: bool = False,
    ) -> None:
        self.base_url = (base_url or os.environ.get("TCONV_URL") or DEFAULT_BASE_URL).rstrip("/")
        self.api_key = api_key if api_key is not None else os.environ.get("TCONV_API_KEY")
        self.timeout = (
            timeout
            if isinstance(timeout, httpx.Timeout)
            else httpx.Timeout(timeout, connect=DEFAULT_CONNECT_TIMEOUT_S)
        )
        self.max_retries = max_retries
        self.retry_verify = retry_verify

    @property
    def headers(self) -> dict[str, str]:
        headers = {"User-Agent": f"tconv-client/{__version__}", "Accept": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        return headers

    def build_request(self, endpoint: Endpoint, json: dict[str, object] | None) -> httpx.Request:
        return httpx.Request(
            endpoint.method,
            self.base_url + endpoint.path,
            json=json,
            headers=self.headers,
            extensions={"timeout": self.timeout.as_dict()},
        )

    def retry_delay(self, endpoint: Endpoint, attempt: int, outcome: Outcome) -> float | None:
        """Seconds to wait before attempt ``attempt + 1``, or None to stop here.

        Re-sent always: a request that never reached the server (connect errors and timeouts,
        a full pool) and one it turned away (429, 503: nothing ran). Re-sent only where sending
        twice is harmless: a timeout or a dropped connection after sending (the server may have
        run it) and 408/500/502/504.
        """
        if attempt >= self.max_retries:
            return None
        resend = endpoint.idempotent or self.retry_verify
        if isinstance(outcome, httpx.Response):
            status = outcome.status_code
            if status in THROTTLE_STATUSES:
                told = retry_after(outcome)
                return self.backoff(attempt) if told is None else min(told, MAX_RETRY_DELAY_S)
            return self.backoff(attempt) if status in RETRY_STATUSES and resend else None
        never_sent = isinstance(outcome, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)
        return self.backoff(attempt) if never_sent or resend else None

    @staticmethod
    def backoff(attempt: int) -> float:
        delay: float = min(INITIAL_RETRY_DELAY_S * 2.0**attempt, MAX_RETRY_DELAY_S)
        return delay * (0.75 + random.random() / 2)  # jitter: spread retries of many clients

    def exchange(
        self, endpoint: Endpoint, json: dict[str, object] | None
    ) -> Generator[Step, Outcome | None, httpx.Response]:
        """The retry loop. Yields the request to send (and receives its outcome) or a delay to
        sleep (and receives None); returns the final response or raises the final error."""
        request = self.build_request(endpoint, json)
        for attempt in itertools.count():
            outcome = yield request
            assert outcome is not None
            delay = self.retry_delay(endpoint, attempt, outcome)
            if delay is None:
                if isinstance(outcome, httpx.Response):
                    return outcome
                raise self.connection_error(endpoint, outcome)
            yield delay
        raise AssertionError("unreachable")  # pragma: no cover

    def connection_error(self, endpoint: Endpoint, error: httpx.TransportError) -> APIConnectionError:
        where = f"{endpoint.method} {endpoint.path}"
        if isinstance(error, httpx.TimeoutException):
            return APITimeoutError(f"{where} timed out: {error!r}", request=error.request)
        return APIConnectionError(f"{where}: cannot reach {self.base_url}: {error}")
