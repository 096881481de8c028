"""ModelResponse: a pydantic model serialised once, by pydantic-core, straight to JSON bytes.

FastAPI's default path dumps a returned model to a dict, validates it again against
``response_model`` and encodes it a second time; for the solver's answers that was most of
a request's cost. The models are built by our own code from typed values, so re-validating
them proves nothing; ``response_model=`` stays on each route for the OpenAPI schema.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from starlette.responses import JSONResponse


class ModelResponse(JSONResponse):
    """A JSONResponse subclass, so FastAPI documents ``response_model`` as the body's schema
    (for other response classes it publishes ``{"type": "string"}``)."""

    def render(self, content: Any) -> bytes:
        if isinstance(content, BaseModel):
            return content.model_dump_json().encode()
        raise TypeError(f"ModelResponse needs a pydantic model, got {type(content).__name__}")
