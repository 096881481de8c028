"""`python -m service.worker --host 127.0.0.1 --port 8001`: the standalone verification worker."""

from __future__ import annotations

import argparse

import uvicorn

from service.http.logs import logging_config
from service.worker.config import get_worker_settings


def main(argv: list[str] | None = None) -> None:
    settings = get_worker_settings()
    parser = argparse.ArgumentParser(prog="python -m service.worker", description=__doc__)
    parser.add_argument("--host", default=settings.host)
    parser.add_argument("--port", type=int, default=settings.port)
    args = parser.parse_args(argv)
    # One process per device: the executor serialises jobs on it, so more would only contend.
    uvicorn.run(
        "service.worker.app:create_worker_app",
        factory=True,
        host=args.host,
        port=args.port,
        log_level=settings.log_level,
        log_config=logging_config(settings.log_level),
        timeout_graceful_shutdown=settings.shutdown_timeout_s,
    )


if __name__ == "__main__":
    main()
