"""Per-request cost of /healthz, /v1/search and a single /v1/shape through the ASGI app, without HTTP.

The throughput benchmark (wrk over HTTP) mixes the app's cost with uvicorn's and wrk's on two
shared cores; this one calls the app in-process with hand-made ASGI scopes, so the application's
own share is visible and less noisy. Rounds alternate the endpoints and each keeps its best
round; every round of searches draws fresh sizes as the wrk script does (bench/search_queries.lua).
Logging is configured as shipped (JSON access log on at the default level), its lines written to
/dev/null; the bare one-route app of bench/bare_app.py is measured alongside, as the floor.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import random
import sys
import time
from typing import Any

from bench.bare_app import app as bare_app
from service.api.config import get_settings
from service.api.main import create_app
from service.http.logs import configure

_HEADERS = [(b"host", b"bench"), (b"content-type", b"application/json")]


async def _call(app: Any, path: str, body: bytes | None) -> int:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST" if body is not None else "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": [*_HEADERS, (b"content-length", str(len(body or b"")).encode())],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
        "root_path": "",
    }
    messages = [{"type": "http.request", "body": body or b"", "more_body": False}]
    status = 0

    async def receive() -> dict[str, Any]:
        if messages:
            return messages.pop()
        await asyncio.sleep(3600)  # pragma: no cover - nothing waits for a disconnect here
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


def _queries(count: int, seed: int) -> list[bytes]:
    rnd = random.Random(seed)
    bodies = []
    for _ in range(count):
        i = rnd.randint(1, 200)
        o = max(1, i * rnd.randint(1, 4) + rnd.randint(-3, 3))
        bodies.append(json.dumps({"input_size": i, "output_size": o}).encode())
    return bodies


# A single /v1/shape in the full view (what a person asks), with bare ints and with per-dimension
# lists: a batch of one, through the same column reader as the NAS filter's 10,000 layers.
_SHAPES = {
    "shape_ints_us": json.dumps({"input_size": 7, "kernel_size": 4, "stride": 2, "padding": 1}).encode(),
    "shape_lists_us": json.dumps(
        {"input_size": [7, 9], "kernel_size": [3, 4], "stride": [2, 2], "padding": [1, 0]}
    ).encode(),
}


async def _measure(rounds: int, per_round: int) -> dict[str, float]:
    app = create_app()
    best = {"bare_healthz_us": float("inf"), "healthz_us": float("inf"), "search_us": float("inf")}
    best.update(dict.fromkeys(_SHAPES, float("inf")))
    singles: list[float] = []
    async with app.router.lifespan_context(app):
        for body in _queries(300, seed=99):  # warm-up
            await _call(app, "/v1/search", body)
        for round_ in range(rounds):
            for name, each in (("bare_healthz_us", bare_app), ("healthz_us", app)):
                start = time.perf_counter()
                for _ in range(per_round):
                    assert await _call(each, "/healthz", None) == 200
                best[name] = min(best[name], (time.perf_counter() - start) / per_round * 1e6)
            bodies = _queries(per_round, seed=round_)
            start = time.perf_counter()
            for body in bodies:
                began = time.perf_counter()
                assert await _call(app, "/v1/search", body) == 200
                singles.append(time.perf_counter() - began)
            best["search_us"] = min(best["search_us"], (time.perf_counter() - start) / per_round * 1e6)
            for name, body in _SHAPES.items():
                start = time.perf_counter()
                for _ in range(per_round):
                    assert await _call(app, "/v1/shape", body) == 200
                best[name] = min(best[name], (time.perf_counter() - start) / per_round * 1e6)
    singles.sort()
    # Issue 13: a single default search (full view), each timed alone: its median and 99th percentile.
    best["search_p50_us"] = singles[len(singles) // 2] * 1e6
    best["search_p99_us"] = singles[len(singles) * 99 // 100] * 1e6
    return {name: round(value) for name, value in best.items()}


@contextlib.contextmanager
def _logging_as_shipped() -> Any:
    """The service's logging configuration, writing to /dev/null; the benchmark process's own
    (the other sections' httpx calls) restored afterwards."""
    root = logging.getLogger()
    saved_level, saved_handlers, saved_stderr = root.level, root.handlers[:], sys.stderr
    configure(get_settings().log_level)
    with open(os.devnull, "w") as sink:
        sys.stderr = sink
        # The handler configured above holds the stream it was given: point it at the sink too.
        for handler in root.handlers:
            if isinstance(handler, logging.StreamHandler):
                handler.setStream(sink)
        try:
            yield
        finally:
            sys.stderr = saved_stderr
            root.handlers[:] = saved_handlers
            root.setLevel(saved_level)


def asgi_costs(rounds: int = 6, per_round: int = 1000) -> dict[str, Any]:
    with _logging_as_shipped():
        costs = asyncio.run(_measure(rounds, per_round))
    return {
        **costs,
        "search_extra_us": costs["search_us"] - costs["healthz_us"],
        "healthz_extra_over_bare_us": costs["healthz_us"] - costs["bare_healthz_us"],
    }
