"""WorkerBusyError: the verification queue is full (HTTP 503 with Retry-After)."""

from __future__ import annotations


class WorkerBusyError(Exception):
    """The queue is full; the caller should retry after ``retry_after_s``."""

    def __init__(self, retry_after_s: int, waiting: int | None = None) -> None:
        queued = f" ({waiting} waiting)" if waiting is not None else ""
        super().__init__(f"the verification queue is full{queued}; retry after {retry_after_s} s")
        self.retry_after_s = retry_after_s
