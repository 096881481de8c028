"""Structured JSON logs (python-json-logger) for the API and the worker, uvicorn's included."""

from __future__ import annotations

import logging.config
import sys
from datetime import UTC, datetime
from typing import Any, TextIO

import orjson
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


class AccessLog:
    """One JSON line per request, in the shape ``json_formatter`` gives log records (time, level,
    logger, message, then the request's fields), written straight to stderr.

    Going through ``logging`` (a LogRecord, the handler's lock, python-json-logger's field walk)
    cost 23 µs a line here, more than the rest of a /healthz answer; this costs about 4. The
    logger's level still decides: ``TCONV_LOG_LEVEL=warning`` turns the access log off.
    """

    def __init__(self, name: str = "tconv.access", stream: TextIO | None = None) -> None:
        self.name = name
        self._logger = logging.getLogger(name)
        self._stream = stream

    def enabled(self) -> bool:
        return self._logger.isEnabledFor(logging.INFO)

    def write(self, message: str, fields: dict[str, Any]) -> None:
        line = {
            "time": datetime.now(UTC).isoformat(timespec="microseconds"),
            "level": "INFO",
            "logger": self.name,
            "message": message,
            **fields,
        }
        # Looked up on every line: tests and embedding servers swap sys.stderr after import.
        stream = self._stream or sys.stderr
        stream.write(orjson.dumps(line, option=orjson.OPT_APPEND_NEWLINE).decode())
