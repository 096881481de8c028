"""Errors raised by the client. The server's error body is kept on every status error.

TconvError
├── APIConnectionError          the server could not be reached
│   └── APITimeoutError         ... or did not answer in time
└── APIStatusError              the server answered 4xx/5xx: .status_code, .code, .message,
    │                           .request_id (quote it in bug reports), .body
    ├── BadRequestError         400
    ├── AuthenticationError     401 (no or a wrong API key: TCONV_API_KEY or api_key=)
    ├── NotFoundError           404
    ├── UnprocessableEntityError 422 (a field out of its domain, a space over budget, ...)
    ├── RateLimitError          429
    ├── ServiceUnavailableError 503 (e.g. the verification worker's queue is full)
    └── InternalServerError     other 5xx
"""

from __future__ import annotations

from typing import Any, TypedDict, cast

import httpx


class Detail(TypedDict):
    """One refused field of a 422: ``field`` (None for the whole request), ``rule``, ``message``."""

    field: str | None
    rule: str
    message: str


class TconvError(Exception):
    """Base of every error this package raises."""


class APIConnectionError(TconvError):
    def __init__(self, message: str, *, request: httpx.Request | None = None) -> None:
        super().__init__(message)
        self.request = request


class APITimeoutError(APIConnectionError):
    pass


class APIStatusError(TconvError):
    """The server answered with an error status; ``code`` and ``message`` come from its body."""

    def __init__(self, response: httpx.Response, body: object) -> None:
        error: dict[str, Any] = {}
        if isinstance(body, dict) and isinstance(body.get("error"), dict):
            error = body["error"]
        self.response = response
        self.status_code = response.status_code
        self.body = body
        self.code: str = str(error.get("code", "http_error"))
        self.message: str = str(error.get("message", response.text[:500]))
        self.details: list[Detail] = cast(list[Detail], error.get("details") or [])
        self.request_id: str | None = response.headers.get("x-request-id")
        super().__init__(f"{self.status_code} {self.code}: {self.message}")


class BadRequestError(APIStatusError):
    pass


class AuthenticationError(APIStatusError):
    pass


class NotFoundError(APIStatusError):
    pass


class UnprocessableEntityError(APIStatusError):
    pass


class RateLimitError(APIStatusError):
    pass


class ServiceUnavailableError(APIStatusError):
    pass


class InternalServerError(APIStatusError):
    pass


_BY_STATUS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    404: NotFoundError,
    422: UnprocessableEntityError,
    429: RateLimitError,
    503: ServiceUnavailableError,
}


def make_status_error(response: httpx.Response) -> APIStatusError:
    try:
        body: object = response.json()
    except ValueError:
        body = response.text
    kind = _BY_STATUS.get(response.status_code)
    if kind is None:
        kind = InternalServerError if response.status_code >= 500 else APIStatusError
    return kind(response, body)
