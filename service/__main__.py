"""`python -m service --host 127.0.0.1 --port 8000`: serve the API with uvicorn."""

from __future__ import annotations

import argparse
import contextlib
import os
import tempfile

import uvicorn

from service.api.config import Settings, get_settings
from service.http.logs import logging_config


def main(argv: list[str] | None = None) -> None:
    settings = get_settings()
    parser = argparse.ArgumentParser(prog="python -m service", description=__doc__)
    parser.add_argument("--host", default=settings.host, help="interface to bind (TCONV_HOST)")
    parser.add_argument("--port", type=int, default=settings.port, help="port to bind (TCONV_PORT)")
    parser.add_argument("--workers", type=int, default=settings.workers, help="processes (TCONV_WORKERS)")
    args = parser.parse_args(argv)
    with contextlib.ExitStack() as cleanup:
        if args.workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            # Each worker process counts its own requests; a shared directory lets /metrics merge
            # them. Set before the workers import prometheus_client, which reads it once.
            directory = cleanup.enter_context(tempfile.TemporaryDirectory(prefix="tconv-metrics-"))
            os.environ["PROMETHEUS_MULTIPROC_DIR"] = directory
        _serve(args, settings)


def _serve(args: argparse.Namespace, settings: Settings) -> None:
    uvicorn.run(
        "service.api.main:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level=settings.log_level,
        log_config=logging_config(settings.log_level),
        timeout_graceful_shutdown=settings.shutdown_timeout_s,
    )


if __name__ == "__main__":
    main()
