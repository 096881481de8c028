"""ModelResponse: an answer serialised once, straight to JSON bytes.

Answers are either pydantic models (serialised by pydantic-core) or the JSON-ready dicts of
the hot paths (explain.py, shape_answers.py; serialised by orjson). FastAPI's default path
would dump a returned model to a dict, validate it again against ``response_model`` and
encode it a second time; the answers are built by our own code from typed values, so
re-validating them proves nothing (tests validate the dicts against the models instead).
``response_model=`` stays on each route for the OpenAPI schema.
"""

from __future__ import annotations

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
            return orjson.dumps(content)
        if isinstance(content, bytes):  # encoded already (shape_answers.shape_batch_json)
            return content
        raise TypeError(f"ModelResponse needs a model, a dict or bytes, got {type(content).__name__}")
