"""Benchmarks of issue "Foundation"; each compares two things measured in the same run.

    .venv/bin/python bench/run_all.py            # or: make bench
    .venv/bin/python bench/run_all.py verification throughput   # some sections only

1. /v1/search over HTTP vs the loop a user writes instead (nn.ConvTranspose2d on the meta
   device for every combination), 16x16 -> 32x32, kernel 1-12, stride 1-6, dilation 1-3.
2. /v1/search throughput as a share of /healthz throughput, same server, 32 connections,
   wrk (Debian's), thousands of distinct sizes (bench/search_queries.lua).
3. Solver time to the first page of an untied 3-D space of >= 10**6 valid layers.
4. Batches (issue "Planning") and verification throughput (issue "Verification worker").
5. in_process: /healthz and /v1/search per-request cost through the ASGI app, without HTTP.
6. nas_filter (issue 13): 10,000 layers in one basic /v1/shape/batch vs the meta-device loop.
7. shape_many (issue 13): the Python SDK's Client.shape_many over 100,000 layers against two API
   processes (its own service, `--workers 2`).

Writes bench/results/latest.json and prints a Markdown table for the README.
"""

from __future__ import annotations

import contextlib
import gc
import http.client
import itertools
import json
import re
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._server import bare_app, running_service
from bench.in_process import asgi_costs
from bench.nas_filter import decode_both, nas_filter
from bench.shape_many import shape_many

HERE = Path(__file__).resolve().parent
SPACE = {
    "input_size": 16,
    "output_size": 32,
    "kernel_size": {"min": 1, "max": 12},
    "stride": {"min": 1, "max": 6},
    "dilation": {"min": 1, "max": 3},
}


def meta_loop() -> tuple[float, set[tuple[int, int, int, int, int]]]:
    """What users write instead: try every combination on the meta device."""
    import torch
    from torch import nn

    x = torch.empty(1, 1, 16, 16, device="meta")
    found = set()
    start = time.perf_counter()
    for k in range(1, 13):
        for s in range(1, 7):
            for d in range(1, 4):
                for p in range(d * (k - 1) + 1):
                    for op in range(max(s, d)):
                        layer = nn.ConvTranspose2d(
                            1, 1, k, stride=s, padding=p, output_padding=op, dilation=d, device="meta"
                        )
                        try:
                            if tuple(layer(x).shape[2:]) == (32, 32):
                                found.add((k, s, d, p, op))
                        except RuntimeError:
                            pass
    return time.perf_counter() - start, found


def search_vs_meta(url: str) -> dict[str, Any]:
    with httpx.Client(base_url=url, timeout=30) as client:
        body = client.post("/v1/search", json={**SPACE, "limit": 1000}).json()
    # One keep-alive connection from the standard library: little client time in the figure.
    host, port = url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    payload = json.dumps(SPACE)
    latencies = []
    for _ in range(100):
        start = time.perf_counter()
        connection.request("POST", "/v1/search", payload, {"content-type": "application/json"})
        response = connection.getresponse()
        response.read()
        latencies.append(time.perf_counter() - start)
        assert response.status == 200
    connection.close()
    loop_s, found = meta_loop()
    # The loop tries square layers only; the service's space also has per-dimension padding.
    square = {
        (
            c["layer"]["kernel_size"][0],
            c["layer"]["stride"][0],
            c["layer"]["dilation"][0],
            c["layer"]["padding"][0],
            c["layer"]["output_padding"][0],
        )
        for c in body["candidates"]
        if len(set(c["layer"]["padding"])) == 1 and len(set(c["layer"]["output_padding"])) == 1
    }
    assert body["total"] <= 1000, "raise the limit so every layer is compared"
    assert square == found, f"service and meta loop disagree: {square ^ found}"
    search_ms = statistics.median(latencies) * 1000
    return {
        "search_median_ms": round(search_ms, 2),
        "meta_loop_s": round(loop_s, 2),
        "speedup": round(loop_s * 1000 / search_ms),
        "service_total": body["total"],
        "meta_loop_found": len(found),
    }


def wrk(url: str, path: str, script: Path | None, seconds: int) -> float:
    command = ["wrk", "-t1", "-c32", f"-d{seconds}s"]
    if script:
        command += ["-s", str(script)]
    output = subprocess.run([*command, url + path], capture_output=True, text=True, check=True).stdout
    if "Non-2xx" in output:
        raise RuntimeError(f"wrk saw errors:\n{output}")
    match = re.search(r"Requests/sec:\s+([\d.]+)", output)
    assert match, output
    return float(match.group(1))


def throughput(url: str, rounds: int = 3, seconds: int = 5) -> dict[str, Any]:
    """Issue 13: basic-view search throughput as a share of /healthz, and /healthz as a share of a
    bare one-route FastAPI app (uvicorn, no access log), rounds interleaved so that drift on a
    shared machine hits all three alike."""
    if not shutil.which("wrk"):
        raise RuntimeError("wrk is not installed: `make bench` installs it (apt-get install wrk)")
    bare, health, search = [], [], []
    with bare_app() as bare_url:
        for _ in range(rounds):
            bare.append(wrk(bare_url, "/healthz", None, seconds))
            health.append(wrk(url, "/healthz", None, seconds))
            search.append(wrk(url, "/v1/search", HERE / "search_queries.lua", seconds))
    return {
        "bare_fastapi_rps": round(statistics.mean(bare)),
        "healthz_rps": round(statistics.mean(health)),
        "search_basic_rps": round(statistics.mean(search)),
        "search_over_healthz": round(statistics.mean(search) / statistics.mean(health), 3),
        "healthz_over_bare": round(statistics.mean(health) / statistics.mean(bare), 3),
    }


def large_space() -> dict[str, Any]:
    from service.solver.enumeration import Bound, SearchBounds
    from service.solver.search import Budget, search

    bounds = SearchBounds(kernel_size=Bound(1, 16), stride=Bound(1, 8), dilation=Bound(1, 3))
    timings, total = [], 0
    for _ in range(7):
        start = time.perf_counter()
        result = search((16, 16, 16), (32, 32, 32), bounds=bounds, tie_dims=False, limit=10, budget=Budget())
        timings.append(time.perf_counter() - start)
        total = result.total
    assert total >= 10**6, total
    return {"total": total, "first_page_median_ms": round(statistics.median(timings) * 1000, 2)}


class _Exchange(NamedTuple):
    payload: Any
    server_ms: float  # the server's own time for it (its Server-Timing header)
    exchange_s: float  # encoding and sending the request, reading the answer's bytes
    decode_s: float  # json.loads of the answer
    decode_orjson_s: float  # orjson.loads of the same bytes


_CALLS = itertools.count()


def _post(connection: http.client.HTTPConnection, path: str, body: Any) -> _Exchange:
    """One call; the answer is decoded twice, by the standard library and by orjson, each timed,
    each first on every other call (the second decode finds the bytes in the CPU's caches)."""
    start = time.perf_counter()
    connection.request("POST", path, json.dumps(body), {"content-type": "application/json"})
    response = connection.getresponse()
    raw = response.read()
    exchange_s = time.perf_counter() - start
    payload, decode_s, decode_orjson_s = decode_both(raw, orjson_first=bool(next(_CALLS) % 2))
    assert response.status == 200, payload
    server_ms = float(response.getheader("server-timing", "app;dur=nan").split("dur=")[1])
    return _Exchange(payload, server_ms, exchange_s, decode_s, decode_orjson_s)


def batches(url: str) -> dict[str, Any]:
    """1,000 searches as one batch vs one by one; 10,000 shapes in one call (issue "Planning").

    Shape batches are timed by the server's Server-Timing header: from the request's arrival to
    the encoded answer (parsing, validation, answers, JSON), without the client's own work. The
    first call is cold (nothing cached yet); the best of three follows.
    """
    host, port = url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=120)
    # Both in the basic view, what a machine asks for (a batch's default).
    searches = [
        {"input_size": 1 + n % 97, "output_size": 2 + (n * 7) % 301, "view": "basic"} for n in range(1000)
    ]
    batch_items = [{k: v for k, v in query.items() if k != "view"} for query in searches]
    # Twice each, alternating, and the second of each kept: both then find the solver's per-layer
    # caches equally warm.
    for _ in range(2):
        batch = _post(connection, "/v1/search/batch", {"queries": batch_items})
        singles = [_post(connection, "/v1/search", query) for query in searches]
    assert batch.payload["results"] == [single.payload for single in singles]
    batch_s = batch.exchange_s + batch.decode_s
    one_by_one_s = sum(single.exchange_s + single.decode_s for single in singles)
    # The same calls, had the client decoded with orjson.
    batch_orjson_s = batch.exchange_s + batch.decode_orjson_s
    one_by_one_orjson_s = sum(single.exchange_s + single.decode_orjson_s for single in singles)
    shapes = [
        {
            "input_size": 1 + n % 64,
            "kernel_size": 1 + n % 7,
            "stride": 1 + n % 4,
            "padding": n % 3,
            "output_padding": n % 5,
        }
        for n in range(10_000)
    ]
    shape_server_ms, shape_http_s = [], []
    for _ in range(4):
        answer = _post(connection, "/v1/shape/batch", {"queries": shapes})
        shape_http_s.append(answer.exchange_s + answer.decode_s)
        shape_server_ms.append(answer.server_ms)
        assert len(answer.payload["results"]) == len(shapes)
    connection.close()
    return {
        "search_1000_one_by_one_s": round(one_by_one_s, 3),
        "search_1000_batch_s": round(batch_s, 3),
        "search_1000_batch_server_ms": round(batch.server_ms, 1),
        "batch_speedup": round(one_by_one_s / batch_s, 2),
        "search_1000_one_by_one_orjson_s": round(one_by_one_orjson_s, 3),
        "search_1000_batch_orjson_s": round(batch_orjson_s, 3),
        "batch_speedup_orjson": round(one_by_one_orjson_s / batch_orjson_s, 2),
        "search_empty_share": round(sum(1 for r in singles if r.payload["total"] == 0) / len(singles), 2),
        "shape_10000_server_ms_cold": round(shape_server_ms[0], 1),
        "shape_10000_server_ms_best": round(min(shape_server_ms[1:]), 1),
        "shape_10000_http_ms_best": round(min(shape_http_s[1:]) * 1000, 1),
    }


def verification(url: str) -> dict[str, Any]:
    """Issue "Verification worker": 64 candidates of a 64->32-channel 2-D layer at 32x32, confirmed
    and timed through /v1/verify (embedded worker; the device is whatever the server has)."""
    context = {"in_channels": 64, "out_channels": 32}
    space = {"input_size": 32, "output_size": 64, "tie_dims": False, "limit": 64, **context}
    with httpx.Client(base_url=url, timeout=300) as client:
        layers = [c["layer"] for c in client.post("/v1/search", json=space).json()["candidates"]]
        assert len(layers) == 64
        request = {"input_size": 32, "layers": layers, **context}
        rows = {}
        for name, extra in (("confirm_only", {}), ("confirm_and_time", {"timing": True, "repeats": 5})):
            # batch_size differs per run, so the worker's result cache cannot answer the second.
            start = time.perf_counter()
            body = client.post("/v1/verify", json={**request, **extra, "batch_size": 1 + len(rows)}).json()
            elapsed = time.perf_counter() - start
            assert {r["status"] for r in body["results"]} == {"confirmed"}, body["results"][0]
            rows[name] = {"seconds": round(elapsed, 3), "layers_per_s": round(64 / elapsed, 1)}
    return {"device": body["device_name"], "torch": body["torch_version"], **rows}


def planning(url: str) -> dict[str, Any]:
    """Issue "Planning": 4x4 -> 256x256 in 3 to 6 layers with default bounds, over HTTP."""
    body = {"input_size": 4, "output_size": 256, "layers": {"min": 3, "max": 6}}
    with httpx.Client(base_url=url, timeout=60) as client:
        first = client.post("/v1/plan", json=body).json()
        timings = []
        for _ in range(7):
            start = time.perf_counter()
            response = client.post("/v1/plan", json=body)
            timings.append(time.perf_counter() - start)
            assert response.status_code == 200, response.text
    return {
        "plans_total": first["total"],
        "best_sizes": [s[0] for s in first["plans"][0]["sizes"]],
        "median_ms": round(statistics.median(timings) * 1000, 1),
    }


SECTIONS = (
    "large_untied_space",
    "nas_filter",
    "in_process",
    "search_vs_meta_loop",
    "throughput",
    "batches",
    "planning",
    "verification",
    "shape_many",
)


@contextlib.contextmanager
def client_collector_paused() -> Iterator[None]:
    """A section runs with this process's cyclic collector paused (after one collection): what
    earlier sections left (torch, their answers) otherwise made a full collection that happened to
    fall in one timed JSON decode cost 21-80 ms instead of 8 (the 74 ms search batch of one full
    run), while the server's own time stayed the same. (``gc.freeze()`` was tried: it made full
    collections more frequent, the frozen objects no longer counting towards their threshold.)
    Both sides of every comparison run under it alike; the client makes no cycles worth freeing."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def main() -> None:
    wanted = set(sys.argv[1:]) or set(SECTIONS)
    results: dict[str, Any] = {}
    for name, run_here in (
        ("large_untied_space", large_space),
        ("in_process", asgi_costs),
        ("shape_many", shape_many),
    ):
        if name in wanted:
            with client_collector_paused():
                results[name] = run_here()
    with running_service() as url:
        for name, run in (
            ("search_vs_meta_loop", search_vs_meta),
            ("nas_filter", nas_filter),
            ("throughput", throughput),
            ("batches", batches),
            ("planning", planning),
            ("verification", verification),
        ):
            if name in wanted:
                with client_collector_paused():
                    results[name] = run(url)
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    (out / "latest.json").write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
