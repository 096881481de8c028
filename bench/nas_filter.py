"""The NAS filter (issue 13): 10,000 proposed layers in one /v1/shape/batch, basic view, against
the loop a user writes instead (each layer built and run on PyTorch's meta device).

Two mixes: ``benchmark`` (2-D, bare ints, the batch benchmark's mix since issue 6) and ``mixed``
(1-D to 3-D, per-dimension lists, 2 % malformed items). Per mix: the server's own time (its
``Server-Timing`` header: arrival to encoded answer), the client's time (send, answer, JSON
decode, on one keep-alive connection; decoded by the standard library and, apart, by orjson)
and the meta loop's time over the same layers; the first call is cold, the best of the rest is
kept.

    .venv/bin/python bench/run_all.py nas_filter
"""

from __future__ import annotations

import http.client
import json
import random
import time
from collections.abc import Callable
from typing import Any

import orjson

ROUNDS = 5


def benchmark_mix() -> list[dict[str, Any]]:
    return [
        {
            "input_size": 1 + n % 64,
            "kernel_size": 1 + n % 7,
            "stride": 1 + n % 4,
            "padding": n % 3,
            "output_padding": n % 5,
        }
        for n in range(10_000)
    ]


def mixed_mix(seed: int = 13, count: int = 10_000, malformed: float = 0.02) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    items: list[dict[str, Any]] = []
    for _ in range(count):
        ndim = rng.randint(1, 3)

        def field(lo: int, hi: int, ndim: int = ndim) -> int | list[int]:
            values = [rng.randint(lo, hi) for _ in range(ndim)]
            return values if ndim != 2 or rng.random() < 0.5 else values[0]

        item: dict[str, Any] = {
            "input_size": [rng.randint(1, 64) for _ in range(ndim)],
            "kernel_size": field(1, 7),
            "stride": field(1, 4),
            "padding": field(0, 3),
            "output_padding": field(0, 3),
            "dilation": field(1, 2),
        }
        if rng.random() < malformed:  # malformed: a string, a zero kernel, or an unknown field
            item[rng.choice(["kernel_size", "stride", "typo"])] = rng.choice(["3", 0, 2.5])
        items.append(item)
    return items


def meta_loop(items: list[dict[str, Any]]) -> tuple[float, list[list[int] | None]]:
    """What users write instead: build each layer and run it on the meta device."""
    import torch
    from torch import nn

    modules = {1: nn.ConvTranspose1d, 2: nn.ConvTranspose2d, 3: nn.ConvTranspose3d}
    sizes: list[list[int] | None] = []
    start = time.perf_counter()
    for item in items:
        size = item["input_size"]
        ndim = len(size) if isinstance(size, list) else 2
        try:
            layer = modules[ndim](
                1,
                1,
                item["kernel_size"],
                stride=item.get("stride", 1),
                padding=item.get("padding", 0),
                output_padding=item.get("output_padding", 0),
                dilation=item.get("dilation", 1),
                device="meta",
            )
            shape = size if isinstance(size, list) else [size, size]
            sizes.append(list(layer(torch.empty(1, 1, *shape, device="meta")).shape[2:]))
        except Exception:
            sizes.append(None)
    return time.perf_counter() - start, sizes


def _post(connection: http.client.HTTPConnection, body: bytes) -> tuple[bytes, float, float]:
    """The answer's bytes, the server's own time (ms) and the client's time to send the request
    and read the answer (s); decoding is timed apart (``decode_both``), once per decoder."""
    start = time.perf_counter()
    connection.request("POST", "/v1/shape/batch", body, {"content-type": "application/json"})
    response = connection.getresponse()
    raw = response.read()
    exchange_s = time.perf_counter() - start
    assert response.status == 200, raw[:500]
    server_ms = float(response.getheader("server-timing", "app;dur=nan").split("dur=")[1])
    return raw, server_ms, exchange_s


def _timed(loads: Callable[[bytes], Any], raw: bytes) -> tuple[Any, float]:
    start = time.perf_counter()
    payload = loads(raw)
    return payload, time.perf_counter() - start


def decode_both(raw: bytes, *, orjson_first: bool) -> tuple[Any, float, float]:
    """An answer decoded by the standard library (the payload returned) and by orjson, each timed
    (s); callers alternate which goes first, since the second finds the bytes in the CPU's caches."""
    if orjson_first:
        _, orjson_s = _timed(orjson.loads, raw)
        payload, json_s = _timed(json.loads, raw)
    else:
        payload, json_s = _timed(json.loads, raw)
        _, orjson_s = _timed(orjson.loads, raw)
    return payload, json_s, orjson_s


def nas_filter(url: str) -> dict[str, Any]:
    host, port = url.removeprefix("http://").split(":")
    results: dict[str, Any] = {}
    for name, items in (("benchmark", benchmark_mix()), ("mixed", mixed_mix())):
        body = json.dumps({"queries": items, "view": "basic"}).encode()
        server_ms, client_s, client_orjson_s = [], [], []
        # A connection per mix: the meta loop outlasts the server's keep-alive timeout.
        connection = http.client.HTTPConnection(host, int(port), timeout=120)
        for round_ in range(ROUNDS):
            raw, server, exchange = _post(connection, body)
            # The client's time with either decoder, on the same answer: the standard library's
            # (as the issue measured) and orjson's, a fast one a NAS backend may well use.
            answer, decode_s, decode_orjson_s = decode_both(raw, orjson_first=bool(round_ % 2))
            server_ms.append(server)
            client_s.append(exchange + decode_s)
            client_orjson_s.append(exchange + decode_orjson_s)
        connection.close()
        loop_s, sizes = meta_loop(items)
        # The service and torch agree on every layer torch accepts (the meta device also runs some
        # that the CPU kernels refuse: the service answers for the CPU, see tests/differential).
        for item, answer_item, size in zip(items, answer["results"], sizes, strict=True):
            if answer_item.get("valid"):
                assert answer_item["output_size"] == size, (item, answer_item, size)
        best_client, best_client_orjson = min(client_s[1:]), min(client_orjson_s[1:])
        results[name] = {
            "items": len(items),
            "server_ms_cold": round(server_ms[0], 1),
            "server_ms_best": round(min(server_ms[1:]), 1),
            "client_ms_best": round(best_client * 1000, 1),
            "meta_loop_s": round(loop_s, 2),
            "speedup_vs_meta_loop": round(loop_s / best_client, 1),
            "client_ms_best_orjson": round(best_client_orjson * 1000, 1),
            "speedup_vs_meta_loop_orjson": round(loop_s / best_client_orjson, 1),
            "invalid_or_malformed": sum(1 for r in answer["results"] if not r.get("valid")),
        }
    return results
