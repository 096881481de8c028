"""The standalone worker's FastAPI app: the same POST /v1/verify contract as the API."""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from service import __version__
from service.http.auth import OPS_PATHS, KeyMiddleware, KeyStore
from service.http.errors import install_error_handlers
from service.http.limits_middleware import BodyLimitMiddleware
from service.http.metrics import (
    ObservabilityMiddleware,
    metrics_response,
    observe_verification,
    opentelemetry,
)
from service.http.responses import ModelResponse
from service.wire.schemas import ErrorResponse, HealthResponse, VerifyRequest, VerifyResponse
from service.worker.config import WorkerSettings, get_worker_settings
from service.worker.errors import WorkerBusyError, busy_response
from service.worker.executor import Executor


def create_worker_app(settings: WorkerSettings | None = None) -> FastAPI:
    logging.captureWarnings(True)  # warnings become JSON log lines like everything else
    settings = settings or get_worker_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.executor = Executor(settings, label="worker")
        gc.freeze()  # torch's objects are permanent: keep the collector off them (see api.main)
        try:
            yield
        finally:
            app.state.executor.close()

    app = FastAPI(
        title="tconv worker",
        version=__version__,
        description="Builds ConvTranspose layers in real PyTorch, runs them, and reports what happened.",
        lifespan=lifespan,
        telemetry=opentelemetry(settings.opentelemetry),
    )
    install_error_handlers(app)
    app.add_middleware(
        BodyLimitMiddleware, max_bytes=settings.max_body_bytes, setting="TCONV_WORKER_MAX_BODY_BYTES"
    )
    token = KeyStore.of([settings.token])
    if not token:
        logging.getLogger("tconv.worker").warning(
            "TCONV_WORKER_TOKEN is not set: the worker runs layers for any caller that reaches it"
        )
    app.add_middleware(KeyMiddleware, keys=token, open_paths=OPS_PATHS, realm="tconv-worker")
    app.add_middleware(ObservabilityMiddleware)

    @app.post(
        "/v1/verify",
        response_model=VerifyResponse,
        response_class=ModelResponse,
        responses={503: {"model": ErrorResponse, "description": "Queue full (`worker_busy`), Retry-After."}},
        tags=["verify"],
        operation_id="verify-verify",
    )
    async def verify(body: VerifyRequest, request: Request) -> ModelResponse | JSONResponse:
        began = time.perf_counter()
        try:
            answer = await request.app.state.executor.verify(body)
        except WorkerBusyError as exc:
            return busy_response(exc)
        observe_verification(answer.results, time.perf_counter() - began)
        return ModelResponse(answer)

    @app.get("/healthz", tags=["ops"])
    async def healthz() -> HealthResponse:
        return HealthResponse(status="ok")

    @app.get("/readyz", tags=["ops"])
    async def readyz(request: Request) -> dict[str, object]:
        executor: Executor = request.app.state.executor
        return {"status": "ready", "waiting": executor.waiting, **executor.environment}

    @app.get("/metrics", tags=["ops"], response_class=Response)
    def metrics(request: Request) -> Response:
        return metrics_response(request)

    return app
