"""JSON in and out through orjson, for every route.

Batch endpoints carry up to 10,000 items each way. The standard library's decoder and
pydantic-core's encoder took 20-140 ms and 60-95 ms for a 10,000-item shape batch here;
orjson takes 6-10 ms and 25-37 ms (``bench/run_all.py batches``). This is FastAPI's own
pattern for a custom request class ("Custom Request and APIRoute class" in its docs).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Coroutine
from typing import Any

import orjson
from fastapi import Request, Response
from fastapi.routing import APIRoute

from service.solver.sizes import whole_number

# A digit followed by a fraction or an exponent: the only way a JSON text can hold a float.
_FLOAT_LITERAL = re.compile(rb"[0-9][.eE]")


def whole_numbers_as_ints(value: Any) -> Any:
    """JSON Schema counts 452.0 and 4.52e2 as integers, so the service reads them as 452.

    Only floats that are exactly an integer (and exact in a double) change; 2.5 stays a float
    and is refused by the field's validator, as are values past 2^53.

    >>> whole_numbers_as_ints({"a": [452.0, 2.5, 1e300], "b": True})
    {'a': [452, 2.5, 1e+300], 'b': True}
    """
    if type(value) is float:
        number = whole_number(value)  # the rule shape batches apply where they read a column
        return value if number is None else number
    if type(value) is list:
        return [whole_numbers_as_ints(item) for item in value]
    if type(value) is dict:
        return {key: whole_numbers_as_ints(item) for key, item in value.items()}
    return value


class OrjsonRequest(Request):
    # Whether whole-number floats are read as ints here, over the whole document. A route whose
    # answers read them where they gather the values (answers/shape.py) turns the walk off: over a
    # 10,000-item batch it cost more than the answers themselves.
    whole_numbers_here = True

    async def json(self) -> Any:
        # orjson.JSONDecodeError subclasses json.JSONDecodeError, so FastAPI still answers an
        # undecodable body with its 422 `json_invalid`.
        if not hasattr(self, "_json"):
            raw = await self.body()
            parsed = orjson.loads(raw)
            # Walk the document only when its text holds a float: a batch of ints pays one scan.
            self._json = parsed
            if self.whole_numbers_here and _FLOAT_LITERAL.search(raw):
                # Nesting deeper than any request model is refused by validation as it is.
                with contextlib.suppress(RecursionError):
                    self._json = whole_numbers_as_ints(parsed)
        return self._json


def _is_json(content_type: str | None) -> bool:
    """JSON only: ``application/json`` or ``application/*+json``, with or without parameters.

    >>> _is_json("application/json; charset=utf-8"), _is_json("text/plain"), _is_json(None)
    (True, False, False)
    """
    media = (content_type or "").split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


def _unsupported_media_type(content_type: str | None) -> Response:
    # `curl -d` sends application/x-www-form-urlencoded unless told otherwise: say what to send.
    sent = f"sent as {content_type[:100]!r}" if content_type else "sent without a content type"
    message = (
        f"the body is {sent}; this endpoint reads JSON: send "
        "`Content-Type: application/json` (curl: -H 'content-type: application/json')"
    )
    body = {"error": {"code": "unsupported_media_type", "message": message}}
    return Response(orjson.dumps(body), status_code=415, media_type="application/json")


class OrjsonRoute(APIRoute):
    request_class: type[OrjsonRequest] = OrjsonRequest

    def handling(self) -> contextlib.AbstractContextManager[object]:
        """What a request is handled inside, from its body's parsing to its encoded answer."""
        return contextlib.nullcontext()

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route_handler(request: Request) -> Response:
            if request.method == "POST" and not _is_json(request.headers.get("content-type")):
                return _unsupported_media_type(request.headers.get("content-type"))
            with self.handling():
                return await handler(self.request_class(request.scope, request.receive))

        return route_handler
