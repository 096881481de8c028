"""JSON in and out through orjson, for every route.

Batch endpoints carry up to 10,000 items each way. The standard library's decoder and
pydantic-core's encoder took 20-140 ms and 60-95 ms for a 10,000-item shape batch here;
orjson takes 6-10 ms and 25-37 ms (``bench/run_all.py batches``). This is FastAPI's own
pattern for a custom request class ("Custom Request and APIRoute class" in its docs).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

import orjson
from fastapi import Request, Response
from fastapi.routing import APIRoute


class OrjsonRequest(Request):
    async def json(self) -> Any:
        # orjson.JSONDecodeError subclasses json.JSONDecodeError, so FastAPI still answers an
        # undecodable body with its 422 `json_invalid`.
        if not hasattr(self, "_json"):
            self._json = orjson.loads(await self.body())
        return self._json


class OrjsonRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route_handler(request: Request) -> Response:
            return await handler(OrjsonRequest(request.scope, request.receive))

        return route_handler
