"""ModelResponse: an answer serialised once, straight to JSON bytes.

Answers are either pydantic models (serialised by pydantic-core) or the JSON-ready dicts of
the hot paths (explain.py, answers/shape.py; serialised by orjson). FastAPI's default path
would dump a returned model to a dict, validate it again against ``response_model`` and
encode it a second time; the answers are built by our own code from typed values, so
re-validating them proves nothing (tests validate the dicts against the models instead).
``response_model=`` stays on each route for the OpenAPI schema.
"""

from __future__ import annotations

import json
from typing import Any

import orjson
from pydantic import BaseModel
from starlette.responses import JSONResponse


class ModelResponse(JSONResponse):
    """A JSONResponse subclass, so FastAPI documents ``response_model`` as the body's schema
    (for other response classes it publishes ``{"type": "string"}``)."""

    def render(self, content: Any) -> bytes:
        if isinstance(content, BaseModel):
            return content.model_dump_json().encode()
        if isinstance(content, dict):
            return dumps(content)
        if isinstance(content, bytes):  # encoded already (answers.shape.shape_batch_json)
            return content
        raise TypeError(f"ModelResponse needs a model, a dict or bytes, got {type(content).__name__}")


def dumps(content: Any) -> bytes:
    """orjson, or the standard library for an answer holding an integer past 64 bits.

    Costs and plan counts are exact at any size (MACs of a 3-D 2^20 input reach 2^70); orjson
    refuses such integers, and the standard library writes them digit for digit. Only those rare
    answers pay for the slower encoder.
    """
    try:
        return orjson.dumps(content)
    except orjson.JSONEncodeError:
        return json.dumps(content, separators=(",", ":"), ensure_ascii=False).encode()
