"""Structured JSON logs (python-json-logger) for the API and the worker, uvicorn's included."""

from __future__ import annotations

import asyncio
import logging.config
import sys
from datetime import UTC, datetime
from typing import Any, TextIO

import orjson
from prometheus_client import Counter
from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.orjson import OrjsonFormatter


def json_formatter() -> OrjsonFormatter:
    """Every record one JSON object: time, level, logger, message, and the record's extra fields.
    orjson encodes them: the access log writes one per request, and the standard library's encoder
    cost about a third of a /healthz answer."""
    return OrjsonFormatter(
        "%(levelname)s %(name)s %(message)s",
        # ISO 8601 in UTC, with the zone: "2026-12-03T18:11:08.281000+00:00".
        timestamp="time",
        rename_fields={"levelname": "level", "name": "logger"},
        # uvicorn adds an ANSI-coloured copy of its messages: noise in a JSON line.
        reserved_attrs=[*RESERVED_ATTRS, "color_message"],
    )


def logging_config(level: str) -> dict[str, Any]:
    """A dictConfig: JSON lines on stderr, uvicorn's loggers included."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "service.http.logs.json_formatter"}},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "json"}},
        "loggers": {
            "": {"handlers": ["stderr"], "level": level.upper()},
            # Python's warnings, once captured (logging.captureWarnings), as JSON lines too.
            "py.warnings": {"level": "WARNING"},
            # Our middleware logs each request with its id; uvicorn's access log would repeat it.
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
            "uvicorn": {"level": level.upper()},
        },
    }


def configure(level: str) -> None:
    logging.config.dictConfig(logging_config(level))


ACCESS_LINES_LOST = Counter(
    "tconv_access_log_lines_lost_total",
    "Access log lines that could not be written (stderr closed or broken).",
)


class AccessLog:
    """One JSON line per request, in the shape ``json_formatter`` gives log records (time, level,
    logger, message, then the request's fields), written straight to stderr.

    Going through ``logging`` (a LogRecord, the handler's lock, python-json-logger's field walk)
    cost 23 µs a line here, more than the rest of a /healthz answer; this costs about 4. The
    logger's level still decides: ``TCONV_LOG_LEVEL=warning`` turns the access log off.

    While a ``flush_every`` task runs (the API's lifespan starts one, TCONV_ACCESS_LOG_FLUSH_S),
    lines are gathered and written together, as nginx's ``access_log … buffer= flush=`` does: one
    write per line to stderr cost about 10 % of a /healthz answer's throughput. Lines are at most
    that interval late, or ``FLUSH_BYTES`` worth; shutdown writes what is left.
    """

    FLUSH_BYTES = 64 * 1024

    def __init__(self, name: str = "tconv.access", stream: TextIO | None = None) -> None:
        self.name = name
        self._logger = logging.getLogger(name)
        self._stream = stream
        self._pending: list[bytes] = []
        self._size = 0
        self._flushers = 0

    def enabled(self) -> bool:
        return self._logger.isEnabledFor(logging.INFO)

    def write(self, message: str, fields: dict[str, Any]) -> None:
        line = orjson.dumps(
            {
                "time": datetime.now(UTC).isoformat(timespec="microseconds"),
                "level": "INFO",
                "logger": self.name,
                "message": message,
                **fields,
            },
            option=orjson.OPT_APPEND_NEWLINE,
        )
        if not self._flushers:
            self._emit(line)
            return
        self._pending.append(line)
        self._size += len(line)
        if self._size >= self.FLUSH_BYTES:
            self.flush()

    def flush(self) -> None:
        if self._pending:
            pending, self._pending, self._size = self._pending, [], 0
            self._emit(b"".join(pending))

    def _emit(self, lines: bytes) -> None:
        # Looked up on every write: tests and embedding servers swap sys.stderr after import.
        try:
            (self._stream or sys.stderr).write(lines.decode())
        except (OSError, ValueError):
            # stderr closed or broken (its reader gone): the lines are lost, but a log write must
            # never fail the request it describes or stop the flusher.
            ACCESS_LINES_LOST.inc(lines.count(b"\n"))

    async def flush_every(self, interval_s: float) -> None:
        """Gather lines and write them every ``interval_s`` until cancelled, then write the rest."""
        self._flushers += 1
        try:
            while True:
                await asyncio.sleep(interval_s)
                self.flush()
        finally:
            self._flushers -= 1
            self.flush()


ACCESS_LOG = AccessLog()  # shared: the middleware writes it, the API's lifespan flushes it
