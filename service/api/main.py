"""create_app(settings): the FastAPI application."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline
from starlette.middleware.cors import CORSMiddleware
from starlette.routing import BaseRoute

from service import __version__
from service.api.config import Settings, get_settings, split_list
from service.api.routes import ROUTERS, ops
from service.api.routes.ids import operation_id
from service.http.auth import KeyMiddleware, KeyStore
from service.http.concurrency import ConcurrencyLimitMiddleware
from service.http.errors import install_error_handlers
from service.http.limits_middleware import BodyLimitMiddleware
from service.http.logs import ACCESS_LOG
from service.http.metrics import ObservabilityMiddleware, opentelemetry, watch_event_loop_lag
from service.worker import make_verifier

DESCRIPTION = """\
Which PyTorch `ConvTranspose{1,2,3}d` layers turn this input size into that output size,
and which of them should you use? Every answer agrees with PyTorch's CPU kernels:

    out = (in - 1)·stride − 2·padding + dilation·(kernel_size − 1) + output_padding + 1
    valid when output_padding < max(stride, dilation) and out >= 1

Errors always have the body `{"error": {"code", "message", "details"?}}`. Every response
carries `X-Request-ID` (the request's, or a new one) and `Server-Timing: app;dur=<ms>`.
"""


_log = logging.getLogger("tconv.api")


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    # The verifier is the one heavy resource: in-process it imports torch, remote it holds a pool.
    settings: Settings = app.state.settings
    app.state.verifier = make_verifier(
        settings.verify_mode,
        worker_url=str(settings.worker_url) if settings.worker_url else None,
        timeout_s=settings.worker_timeout_s,
        chunk_size=settings.worker_chunk_size,
        concurrency=settings.worker_concurrency,
        token=settings.worker_token or None,
        expose_internals=settings.expose_internals,
    )
    # Everything loaded so far (modules, torch when embedded) lives as long as the process:
    # moving it out of the collector's sight makes each garbage collection scan only request
    # objects, which halves the tail latency of allocation-heavy answers such as /v1/plan.
    gc.freeze()
    lag = asyncio.create_task(watch_event_loop_lag())
    flusher = (
        asyncio.create_task(ACCESS_LOG.flush_every(settings.access_log_flush_s))
        if settings.access_log_flush_s > 0
        else None
    )
    try:
        yield
    finally:
        lag.cancel()
        if flusher is not None:
            flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await flusher  # its last flush writes the lines still gathered
        await app.state.verifier.aclose()


# The answers the middlewares give, which no route declares: (status, applies to, description).
_COMMON_ANSWERS = (
    ("401", "/v1/", "A key is required (`unauthorized`): TCONV_API_KEYS or TCONV_API_KEYS_FILE is set."),
    ("408", "post", "The body did not arrive within TCONV_BODY_TIMEOUT_S (`body_timeout`)."),
    ("413", "post", "The body is over TCONV_MAX_BODY_BYTES (`body_too_large`)."),
    ("415", "post", "Not a JSON body (`unsupported_media_type`): send `Content-Type: application/json`."),
    ("500", "", "A bug (`internal_error`); the message names the request id."),
)


def _document_common_answers(app: FastAPI) -> None:
    """Publish the middlewares' answers on every operation they apply to, and the two ways to send
    a key (`/v1/*` needs one when keys are configured)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = generate()
            schema.setdefault("components", {})["securitySchemes"] = {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An API key as a bearer token.",
                },
                "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
            }
            error = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}
            for path, operations in schema["paths"].items():
                for method, operation in operations.items():
                    if path.startswith("/v1/"):
                        operation["security"] = [{"bearer": []}, {"apiKey": []}]
                    for status, scope, description in _COMMON_ANSWERS:
                        if scope in ("", method) or (scope.startswith("/") and path.startswith(scope)):
                            answer = {"description": description, "content": error}
                            operation["responses"].setdefault(status, answer)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _install_routes(app: FastAPI) -> None:
    """Every resource's routes straight into the app's route list, ops first, before the docs
    routes FastAPIOffline adds on creation.

    FastAPI 0.165 keeps an included router as one node that it matches recursively, twice per
    request (to match, then to handle): ten of them were most of a /healthz answer (about 60 µs
    in-process). The routers' routes are already complete (prefix, tags, route class, operation
    id: routes/ids.py), so they are listed flat. The router tries routes in order and no two of
    these paths overlap, so the order changes only the cost: probes first, then the API, then
    the docs.
    """
    ours: list[BaseRoute] = []
    for router in (ops.router, *(r for r in ROUTERS if r is not ops.router)):
        ours.extend(router.routes)
    app.router.routes[:] = [*ours, *app.router.routes]


def create_app(settings: Settings | None = None) -> FastAPI:
    logging.captureWarnings(True)  # warnings become JSON log lines like everything else
    # FastAPIOffline: /docs loads Swagger UI from the package, not a CDN; /redoc is routes/pages.py's.
    settings = settings or get_settings()
    app = FastAPIOffline(
        redoc_url=None,
        title="tconv",
        version=__version__,
        description=DESCRIPTION,
        generate_unique_id_function=operation_id,
        lifespan=_lifespan,
        telemetry=opentelemetry(settings.opentelemetry),
    )
    app.state.settings = settings
    install_error_handlers(app)
    _install_routes(app)
    _document_common_answers(app)
    # Innermost of the limits: a request waits for a slot only once its body has arrived.
    app.add_middleware(ConcurrencyLimitMiddleware, limit=settings.max_concurrent_requests)
    app.add_middleware(
        BodyLimitMiddleware, max_bytes=settings.max_body_bytes, timeout_s=settings.body_timeout_s
    )
    # Outside the body limit: a caller without a key is refused before its body is read.
    keys = KeyStore.from_files(split_list(settings.api_keys), settings.api_keys_file)
    if keys:
        open_paths = split_list(settings.open_paths)
        app.add_middleware(KeyMiddleware, keys=keys, open_paths=open_paths, realm="tconv")
    else:
        _log.warning("no API keys configured (TCONV_API_KEYS, TCONV_API_KEYS_FILE): every path is open")
    origins = split_list(settings.cors_origins)
    if origins:
        # Outside the keys: a browser's preflight carries no credentials and must still succeed.
        app.add_middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "X-API-Key", "Content-Type", "X-Request-ID"],
            expose_headers=["X-Request-ID", "Server-Timing", "Retry-After"],
            max_age=600,
        )
    # Outermost: it sees (and counts) the 401s and 413s too.
    app.add_middleware(ObservabilityMiddleware)
    return app
