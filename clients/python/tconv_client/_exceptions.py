"""Errors raised by the client. The server's error body is kept on every status error.

TconvError
├── APIConnectionError          the server could not be reached
│   └── APITimeoutError         ... or did not answer in time
└── APIStatusError              the server answered 4xx/5xx: .status_code, .code, .message, .body
    ├── BadRequestError         400
    ├── NotFoundError           404
    ├── UnprocessableEntityError 422 (a field out of its domain, a space over budget, ...)
    ├── RateLimitError          429
    ├── ServiceUnavailableError 503 (e.g. the verification worker's queue is full)
    └── InternalServerError     other 5xx
"""

from __future__ import annotations

from typing import Any

import httpx


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

    def __init__(self, response: httpx.Response, body: Any) -> None:
        error = body.get("error", {}) if isinstance(body, dict) else {}
        self.response = response
        self.status_code = response.status_code
        self.body = body
        self.code: str = error.get("code", "http_error")
        self.message: str = error.get("message", response.text[:500])
        self.details: list[dict[str, Any]] = error.get("details") or []
        super().__init__(f"{self.status_code} {self.code}: {self.message}")


class BadRequestError(APIStatusError):
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
    404: NotFoundError,
    422: UnprocessableEntityError,
    429: RateLimitError,
    503: ServiceUnavailableError,
}


def make_status_error(response: httpx.Response) -> APIStatusError:
    try:
        body: Any = response.json()
    except ValueError:
        body = response.text
    kind = _BY_STATUS.get(response.status_code)
    if kind is None:
        kind = InternalServerError if response.status_code >= 500 else APIStatusError
    return kind(response, body)
