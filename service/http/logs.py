"""Structured JSON logs (python-json-logger) for the API and the worker, uvicorn's included."""

from __future__ import annotations

import logging.config
from typing import Any

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
