"""Prometheus metrics (prometheus_client) and the ASGI middleware that records them.

The middleware is plain ASGI, not BaseHTTPMiddleware: it runs on every request, and the
throughput benchmark measures it. It also gives every request an id (``X-Request-ID``, taken
from the request or made here), echoes it, reports the server's time in ``Server-Timing``, logs
one JSON line per request, and keeps the id in a context variable so the verifier can pass it on
to the worker.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import logging
import os
import random
import time
from typing import Any

import orjson
from fastapi.telemetry import TelemetryConfig
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.http.logs import ACCESS_LOG, AccessLog
from service.solver.cancel import CancelledError

request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)

REQUESTS = Counter(
    "tconv_requests_total", "HTTP requests by route, method and status.", ["route", "method", "status"]
)
LATENCY = Histogram(
    "tconv_request_duration_seconds",
    "HTTP request latency by route.",
    ["route"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
SEARCH_SPACE = Histogram(
    "tconv_search_space_size",
    "Valid layers in each searched space (`total`).",
    buckets=(0, 1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000),
)
CANDIDATES = Counter("tconv_candidates_returned_total", "Candidates returned by /v1/search.")
VERIFY_LATENCY = Histogram(
    "tconv_verification_duration_seconds",
    "Time to verify one request's layers (embedded or remote).",
    buckets=(0.001, 0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60),
)
VERIFY_RESULTS = Counter("tconv_verification_results_total", "Verification results by status.", ["status"])
# With several processes (PROMETHEUS_MULTIPROC_DIR), the most recent check of any process counts.
WORKER_AVAILABLE = Gauge(
    "tconv_worker_available",
    "1 when the verification worker answered its last check.",
    multiprocess_mode="mostrecent",
)
LOOP_LAG = Histogram(
    "tconv_event_loop_lag_seconds",
    "How late the event loop ran a timer: time requests wait before the server even starts them.",
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
LAG_INTERVAL_S = 0.25
CANCELLED = Counter(
    "tconv_requests_cancelled_total",
    "Requests whose client disconnected before the answer, by route; their work was stopped.",
    ["route"],
)
# What the access log and tconv_requests_total record for them (nginx's "client closed request").
CLIENT_GONE = 499


async def watch_event_loop_lag() -> None:
    """Sleep a fixed interval and record how much later than asked the loop woke up: heavy work
    on the loop (or too few processes for the load) shows here, not in the request latencies."""
    while True:
        began = time.perf_counter()
        await asyncio.sleep(LAG_INTERVAL_S)
        LOOP_LAG.observe(max(time.perf_counter() - began - LAG_INTERVAL_S, 0.0))


MAX_REQUEST_ID = 64


def accepted_request_id(raw: bytes | None) -> str:
    """The caller's X-Request-ID when it is 1..64 printable ASCII characters, else a new one.

    The id is echoed in a header, written to logs and forwarded to the worker: anything else (a
    non-ASCII id made the worker call a 500) is replaced rather than escaped.

    >>> accepted_request_id(b"job-42")
    'job-42'
    >>> len(accepted_request_id("café".encode()))
    32
    """
    if raw and len(raw) <= MAX_REQUEST_ID and all(0x20 < byte < 0x7F for byte in raw):
        return raw.decode("ascii")
    # An id names a request in logs and needs no secrecy: the random module's generator (reseeded
    # in forked children) is a fraction of uuid4's cost, which reads the system's entropy source.
    return f"{random.getrandbits(128):032x}"


def internal_error_body(rid: str) -> bytes:
    return orjson.dumps(
        {
            "error": {
                "code": "internal_error",
                "message": f"the server failed to answer this request; report request id {rid}",
            }
        }
    )


# The labelled children, looked up once per (route, method, status): `labels()` takes a lock and
# builds a key on every call, a visible share of a /healthz answer. Label values are bounded
# (route templates, methods, statuses), so is the cache.
@functools.lru_cache(maxsize=4096)
def _request_counter(route: str, method: str, status: int) -> Any:
    return REQUESTS.labels(route, method, str(status))


@functools.lru_cache(maxsize=1024)
def _cancelled_counter(route: str) -> Any:
    return CANCELLED.labels(route)


@functools.lru_cache(maxsize=1024)
def _latency_histogram(route: str) -> Any:
    return LATENCY.labels(route)


def _route_of(scope: Scope, status: int) -> str:
    """The matched route's path template (bounded label values), or "unmatched".

    The router records the API routes it picks in the scope, which the middleware sees afterwards.
    The docs pages and static files are plain routes it does not record: answered (< 400), their
    path is the label (a fixed set); anything else that matched nothing stays "unmatched", so
    random paths cannot grow the label set. A request cancelled while queued is "queued".
    """
    route = scope.get("route")
    if route is not None:
        return str(getattr(route, "path", "unmatched"))
    if status == CLIENT_GONE:
        # Cancelled before routing: the one thing a request awaits there is its turn.
        return "queued"
    return str(scope["path"]) if status < 400 else "unmatched"


class ObservabilityMiddleware:
    """Outermost: every request is counted, timed and logged, the 401s and 413s included.

    ``/healthz`` goes the whole way (middlewares, routing) like any request: its throughput is the
    service's floor, the figure issue 13 compares searches with, so it has to measure the path
    every answer takes.
    """

    def __init__(self, app: ASGIApp, *, access: AccessLog | None = None) -> None:
        self.app = app
        self.access = access or ACCESS_LOG

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        began = time.perf_counter()
        raw_id = None
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                raw_id = value
                break
        rid = accepted_request_id(raw_id)
        token = request_id.set(rid)
        status = 500
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                status, started = message["status"], True
                message["headers"] = [*message.get("headers", []), *_stamp(rid, began)]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except CancelledError:
            # The client left and the work was stopped (see limits_middleware): there is nobody to
            # answer. 499 is the status proxies log for it ("client closed request").
            status = CLIENT_GONE
            _cancelled_counter(_route_of(scope, status)).inc()
        except Exception:
            # The last resort: the usual error body with the request id, the traceback only in
            # the log. Once the head is out, the connection can only be dropped (uvicorn does).
            logging.getLogger("tconv.errors").exception(
                "unhandled error", extra={"request_id": rid, "path": scope["path"]}
            )
            if started:
                raise
            body = internal_error_body(rid)
            await send_with_id(
                {
                    "type": "http.response.start",
                    "status": 500,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", str(len(body)).encode()),
                    ],
                }
            )
            await send_with_id({"type": "http.response.body", "body": body})
        finally:
            self._record(scope, _route_of(scope, status), status, began, rid)
            request_id.reset(token)

    def _record(self, scope: Scope, route: str, status: int, began: float, rid: str) -> None:
        elapsed = time.perf_counter() - began
        _request_counter(route, scope["method"], status).inc()
        _latency_histogram(route).observe(elapsed)
        if self.access.enabled():
            self.access.write(
                "request",
                {
                    "request_id": rid,
                    "method": scope["method"],
                    "path": scope["path"],
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 3),
                },
            )


def _stamp(rid: str, began: float) -> tuple[tuple[bytes, bytes], tuple[bytes, bytes]]:
    # W3C Server-Timing: the time from the request's arrival to its response head, with the body
    # already encoded; what benchmarks call "server time".
    took = b"app;dur=%.3f" % ((time.perf_counter() - began) * 1000)
    return (b"x-request-id", rid.encode("ascii")), (b"server-timing", took)


def metrics_response(_: Request) -> Response:
    """This process's metrics or, in multiprocess mode (PROMETHEUS_MULTIPROC_DIR set, as
    `python -m service --workers N` does), every process's, merged."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)


def observe_verification(results: list[Any], seconds: float) -> None:
    VERIFY_LATENCY.observe(seconds)
    for result in results:
        VERIFY_RESULTS.labels(result.status).inc()


# Every option of FastAPI's native instrumentation, for turning it all off.
_TELEMETRY_OFF: TelemetryConfig = {
    "tracing": False,
    "metrics": False,
    "logs": False,
    "operation_spans": False,
}


def opentelemetry(enabled: bool) -> TelemetryConfig | None:
    """FastAPI's own OpenTelemetry instrumentation (spans, metrics and logs through the global
    providers), or ``None`` for FastAPI's defaults when ``enabled``.

    Off unless asked for (TCONV_OPENTELEMETRY, TCONV_WORKER_OPENTELEMETRY): the service's metrics
    are Prometheus (/metrics) and its logs JSON lines, and with no provider configured FastAPI
    still looked for one on every request, about 8 % of a /healthz answer here.
    """
    return None if enabled else _TELEMETRY_OFF
