"""Settings of the API process, read from TCONV_* environment variables (pydantic-settings)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AnyHttpUrl, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every setting is documented in README.md ("Configuration")."""

    model_config = SettingsConfigDict(env_prefix="TCONV_", extra="ignore")

    host: str = Field("127.0.0.1", description="Interface `python -m service` binds.")
    port: int = Field(8000, ge=1, le=65535, description="Port `python -m service` binds.")
    workers: int = Field(1, ge=1, le=64, description="uvicorn worker processes.")
    log_level: Literal["critical", "error", "warning", "info", "debug"] = Field(
        "info", description="Log level; logs are JSON lines on stderr, one per request with its id."
    )
    opentelemetry: bool = Field(
        False,
        description="FastAPI's native OpenTelemetry spans, metrics and logs, through the globally configured "
        "providers (or FASTAPI_OTEL_AUTO_CONFIGURE=true); off by default: metrics are Prometheus "
        "(/metrics) and logs JSON lines.",
    )
    access_log_flush_s: float = Field(
        0.25,
        ge=0,
        le=10,
        description="Access log lines are gathered and written this often (at most 64 KiB at a time); "
        "0 writes each line at once.",
    )
    shutdown_timeout_s: int = Field(
        20, gt=0, description="On SIGTERM, how long in-flight requests may finish before exit."
    )
    max_concurrent_requests: int = Field(
        2,
        ge=1,
        le=1024,
        description="Answering requests (/v1/...) run at once per process; the rest wait their turn, so "
        "/healthz, /readyz and /metrics stay prompt under load.",
    )
    max_body_bytes: int = Field(
        8 * 1024 * 1024, ge=1024, description="Largest request body; over it, 413 `body_too_large`."
    )
    body_timeout_s: float = Field(
        10.0,
        gt=0,
        description="A request body must arrive within this many seconds; else 408 `body_timeout` (a slow "
        "sender otherwise holds a connection and its buffer indefinitely).",
    )
    max_answer_bytes: int = Field(
        32 * 1024 * 1024,
        ge=1024,
        description="Budget: the estimated size of one answer (a search batch's candidates, about 1 KB "
        "each); over it, 422 `batch_too_large`.",
    )
    max_search_triples: int = Field(
        100_000,
        ge=1,
        description="Budget: (kernel_size, stride, dilation) combinations × dimensions one search may solve.",
    )
    max_search_options: int = Field(
        100_000, ge=1, description="Budget: valid per-dimension options one search may rank."
    )
    max_search_work: int = Field(
        4_000_000,
        ge=1,
        description="Budget: the work of ranking one search's options (each weighs 12 + kernel_size + "
        "2·stride, its overlap sweep): about 2 s of CPU at the default.",
    )
    max_batch_search_work: int = Field(
        2_000_000,
        ge=1,
        description="Budget: summed (kernel, stride, dilation) combinations × dimensions of a search batch.",
    )
    max_plan_transitions: int = Field(
        500_000, ge=1, description="Budget: (size -> size) transitions one /v1/plan may visit."
    )
    inline_search_work: int = Field(
        4096,
        ge=0,
        description="Searches whose triples × dimensions are at most this run on the event loop "
        "(sub-millisecond); larger ones run in the threadpool.",
    )
    worker_url: AnyHttpUrl | None = Field(
        None, description="Standalone verification worker; unset means verify in-process."
    )
    verify_mode: Literal["auto", "embedded", "remote", "off"] = Field(
        "auto",
        description="auto: remote when TCONV_WORKER_URL is set, else in-process when torch is installed, "
        "else off.",
    )
    worker_timeout_s: float = Field(30.0, gt=0, description="Timeout of one request to the worker.")
    worker_chunk_size: int = Field(64, ge=1, description="Layers per request to the worker.")
    worker_concurrency: int = Field(4, ge=1, description="Requests in flight to the worker at once.")
    max_latency_candidates: int = Field(
        64, ge=1, description="objective=latency measures every candidate: the largest space it ranks."
    )
    api_keys: str = Field(
        "",
        description="API keys, comma-separated. With keys (here or in TCONV_API_KEYS_FILE) every /v1/* "
        "call needs one; with none the API is open (and says so at startup).",
        repr=False,
    )
    api_keys_file: Path | None = Field(
        None, description="A file of keys, one per line: the key itself or `sha256:<hex>` of it."
    )
    open_paths: str = Field(
        "/healthz,/readyz,/metrics",
        description="Operations paths reachable without a key, comma-separated (`/v1/*` always needs "
        "one when keys are set; the docs, the playground and static files never do).",
    )
    cors_origins: str = Field(
        "", description="Origins allowed to call the API from a browser, comma-separated (`*` for any)."
    )
    expose_internals: bool = Field(
        False,
        description="Show library versions, the worker's URL and its raw errors in /v1/info, /readyz and "
        "verification results.",
    )
    worker_token: str = Field(
        "", description="Sent to the worker as `Authorization: Bearer`; the worker's own setting.", repr=False
    )


def split_list(value: str) -> list[str]:
    """A comma-separated setting as its non-empty entries.

    >>> split_list(" a, ,b ")
    ['a', 'b']
    """
    return [entry.strip() for entry in value.split(",") if entry.strip()]


@lru_cache
def get_settings() -> Settings:
    return Settings()
