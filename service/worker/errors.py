"""WorkerBusyError: the verification queue is full (HTTP 503 with Retry-After)."""

from __future__ import annotations

from fastapi.responses import JSONResponse

from service.http.errors import error_body


class WorkerBusyError(Exception):
    """The queue is full; the caller should retry after ``retry_after_s``."""

    def __init__(self, retry_after_s: int, waiting: int | None = None) -> None:
        queued = f" ({waiting} waiting)" if waiting is not None else ""
        super().__init__(f"the verification queue is full{queued}; retry after {retry_after_s} s")
        self.retry_after_s = retry_after_s


def busy_response(exc: WorkerBusyError) -> JSONResponse:
    """The 503 the worker (and the API's /v1/verify) answers when the queue is full."""
    return JSONResponse(
        error_body("worker_busy", str(exc)), status_code=503, headers={"Retry-After": str(exc.retry_after_s)}
    )
