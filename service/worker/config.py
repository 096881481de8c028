"""Settings of the verification worker, read from TCONV_WORKER_* environment variables."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class WorkerSettings(BaseSettings):
    """Every setting is documented in README.md ("Configuration")."""

    model_config = SettingsConfigDict(env_prefix="TCONV_WORKER_", extra="ignore")

    host: str = Field("127.0.0.1", description="Interface `python -m service.worker` binds.")
    port: int = Field(8001, ge=1, le=65535, description="Port `python -m service.worker` binds.")
    log_level: Literal["critical", "error", "warning", "info", "debug"] = "info"
    opentelemetry: bool = Field(
        False, description="FastAPI's native OpenTelemetry instrumentation (see TCONV_OPENTELEMETRY)."
    )
    shutdown_timeout_s: int = Field(30, gt=0, description="On SIGTERM, time for the running job to finish.")
    max_queue: int = Field(
        8, ge=0, description="Requests that may wait for the device; one more is a 503 with Retry-After."
    )
    deadline_s: float = Field(
        30.0, gt=0, description="Per-request deadline; layers not run by then come back `unavailable`."
    )
    cache_size: int = Field(4096, ge=0, description="Per-layer results kept (LRU); 0 turns the cache off.")
    retry_after_s: int = Field(1, ge=1, description="Retry-After sent with a queue-full 503.")
    isolate: bool = Field(
        True,
        description="Run each layer in a child process that is killed past the deadline or the memory "
        "cap (a torch kernel cannot be interrupted in-process).",
    )
    max_memory_bytes: int = Field(
        1024**3,
        ge=64 * 1024**2,
        description="Resident memory one layer may add to the verification child (over torch and a CUDA "
        "context); past it the layer is stopped and comes back `unavailable`.",
    )
    token: str = Field(
        "",
        description="TCONV_WORKER_TOKEN: the bearer token /v1/verify requires (the API sends the same "
        "variable). Unset: the worker answers any caller, and says so at startup.",
        repr=False,
    )
    max_body_bytes: int = Field(
        1024 * 1024,
        ge=1024,
        description="Largest request body (413 over it); the API sends a few layers per request.",
    )


@lru_cache
def get_worker_settings() -> WorkerSettings:
    return WorkerSettings()
