"""Every error leaves the service as {"error": {"code", "message", "details"?}}."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from service.solver.errors import SolverError

_log = logging.getLogger("tconv.errors")


def _field_path(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(part) for part in loc if part not in ("body", "query", "path")]
    return ".".join(parts) or "body"


# A body of 830,000 unknown keys once drew a 109 MB answer: past this many, the rest are counted.
MAX_ERROR_DETAILS = 20


def validation_details(errors: Sequence[Mapping[str, Any]]) -> list[dict[str, str]]:
    """Pydantic errors as {field, rule, message}; the message names the field. At most
    ``MAX_ERROR_DETAILS``, then one entry that counts the rest."""
    details = []
    for error in errors[:MAX_ERROR_DETAILS]:
        message = str(error.get("msg", "invalid value")).removeprefix("Value error, ")
        field = _field_path(error.get("loc", ()))
        details.append(
            {"field": field, "rule": str(error.get("type", "invalid")), "message": f"{field}: {message}"}
        )
    if len(errors) > MAX_ERROR_DETAILS:
        rest = len(errors) - MAX_ERROR_DETAILS
        details.append({"field": "body", "rule": "more_errors", "message": f"and {rest:,} more errors"})
    return details


def error_body(code: str, message: str, details: list[dict[str, str]] | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    if details:
        error["details"] = details
    return {"error": error}


def _joined(details: list[dict[str, str]]) -> str:
    return "; ".join(d["message"] for d in details) or "invalid request"


def batch_item_error(code: str, message: str, details: list[dict[str, str]] | None = None) -> dict[str, Any]:
    """A failed batch item: the error body with ``details`` always present (null when none), as
    the batch schemas (``BatchError``) have always shown it."""
    return {"error": {"code": code, "message": message, "details": details}}


def internal_error_item(exc: Exception) -> dict[str, Any]:
    """A batch item the service failed on: it fails alone, and the log keeps the traceback."""
    _log.exception("batch item failed", exc_info=exc)
    return batch_item_error("internal_error", "the server failed to answer this item")


def validation_error_item(exc: ValidationError) -> dict[str, Any]:
    details = validation_details(exc.errors())
    return batch_item_error("invalid_request", _joined(details), details)


async def _on_validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    details = validation_details(exc.errors())
    return JSONResponse(error_body("invalid_request", _joined(details), details), status_code=422)


async def _on_solver_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, SolverError)
    details = [{"field": exc.field, "rule": exc.code, "message": exc.message}] if exc.field else None
    return JSONResponse(error_body(exc.code, exc.message, details), status_code=422)


async def _on_http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400 and request.method == "POST":
        # FastAPI answers a body it cannot decode with a bare 400; every other malformed body is
        # a documented 422, so this one is too.
        message = "body: not a JSON document this endpoint can read"
        return JSONResponse(
            error_body(
                "invalid_request", message, [{"field": "body", "rule": "json_invalid", "message": message}]
            ),
            status_code=422,
        )
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
    return JSONResponse(
        error_body(code, str(exc.detail)), status_code=exc.status_code, headers=getattr(exc, "headers", None)
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(SolverError, _on_solver_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
