"""create_app(settings): the FastAPI application."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi_offline import FastAPIOffline

from service import __version__
from service.api.config import Settings, get_settings
from service.api.routes import ROUTERS
from service.http.errors import install_error_handlers
from service.http.limits_middleware import BodyLimitMiddleware
from service.http.metrics import ObservabilityMiddleware
from service.worker import make_verifier

DESCRIPTION = """\
Which PyTorch `ConvTranspose{1,2,3}d` layers turn this input size into that output size,
and which of them should you use? Every answer agrees with PyTorch's CPU kernels:

    out = (in - 1)·stride − 2·padding + dilation·(kernel_size − 1) + output_padding + 1
    valid when output_padding < max(stride, dilation) and out >= 1

Errors always have the body `{"error": {"code", "message", "details"?}}`. Every response
carries `X-Request-ID` (the request's, or a new one) and `Server-Timing: app;dur=<ms>`.
"""


def _operation_id(route: APIRoute) -> str:
    return f"{route.tags[0]}-{route.name}" if route.tags else route.name


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
    )
    # Everything loaded so far (modules, torch when embedded) lives as long as the process:
    # moving it out of the collector's sight makes each garbage collection scan only request
    # objects, which halves the tail latency of allocation-heavy answers such as /v1/plan.
    gc.freeze()
    try:
        yield
    finally:
        await app.state.verifier.aclose()


def create_app(settings: Settings | None = None) -> FastAPI:
    # FastAPIOffline: /docs loads Swagger UI from the package, not a CDN; /redoc is routes/pages.py's.
    app = FastAPIOffline(
        redoc_url=None,
        title="tconv",
        version=__version__,
        description=DESCRIPTION,
        generate_unique_id_function=_operation_id,
        lifespan=_lifespan,
    )
    app.state.settings = settings or get_settings()
    install_error_handlers(app)
    for router in ROUTERS:
        app.include_router(router)
    app.add_middleware(BodyLimitMiddleware, max_bytes=app.state.settings.max_body_bytes)
    app.add_middleware(ObservabilityMiddleware)  # outermost: it sees (and counts) the 413s too
    return app
