"""`python -m service --host 127.0.0.1 --port 8000`: serve the API with uvicorn."""

from __future__ import annotations

import argparse

import uvicorn

from service.api.config import get_settings
from service.http.logs import logging_config


def main(argv: list[str] | None = None) -> None:
    settings = get_settings()
    parser = argparse.ArgumentParser(prog="python -m service", description=__doc__)
    parser.add_argument("--host", default=settings.host, help="interface to bind (TCONV_HOST)")
    parser.add_argument("--port", type=int, default=settings.port, help="port to bind (TCONV_PORT)")
    parser.add_argument("--workers", type=int, default=settings.workers, help="processes (TCONV_WORKERS)")
    args = parser.parse_args(argv)
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
