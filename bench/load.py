"""Load: N clients for T seconds on a mix of routes, against a server this script starts on 127.0.0.1.

    .venv/bin/python bench/load.py                       # 64 clients, 60 s, one process
    .venv/bin/python bench/load.py --clients 64 --seconds 20 --workers 2

Reports per route: requests, unexpected answers (a 5xx, a transport error or a status the mix
does not expect), p50 and p99 latency at the client; the server's RSS at the start and the end;
and whether /healthz stayed under 100 ms at p99. The mix includes budget-sized requests that the
server must refuse promptly (their expected status is 422). Writes bench/results/load.json.

/healthz is measured twice: inside the mix, where its latency includes the load generator's own
queueing (64 clients on one Python event loop, on the server's cores), and by a separate probe
process that asks every 50 ms on its own connection, as a liveness probe does: what the server
alone adds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import random
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.integration.conftest import free_port, start, stop  # noqa: E402

OK = frozenset({200})
SHAPE = {"input_size": 16, "kernel_size": 4, "stride": 2, "padding": 1}
# (weight, label, method, path, body, expected statuses)
MIX: list[tuple[int, str, str, str, Any, frozenset[int]]] = [
    (30, "shape", "POST", "/v1/shape", SHAPE, frozenset({200})),
    (20, "search", "POST", "/v1/search", {"input_size": 7, "output_size": 14}, frozenset({200})),
    (
        5,
        "plan",
        "POST",
        "/v1/plan",
        {"input_size": 4, "output_size": 64, "layers": 4, "limit": 3},
        frozenset({200}),
    ),
    (5, "shape/batch", "POST", "/v1/shape/batch", {"queries": [SHAPE] * 200}, frozenset({200})),
    (
        5,
        "search/batch",
        "POST",
        "/v1/search/batch",
        {"queries": [{"input_size": n, "output_size": 2 * n, "limit": 3} for n in range(4, 24)]},
        frozenset({200}),
    ),
    (20, "healthz", "GET", "/healthz", None, frozenset({200})),
    # Budget-sized: refused up front, and promptly.
    (
        1,
        "budget:plan",
        "POST",
        "/v1/plan",
        {
            "input_size": 1,
            "output_size": 1048576,
            "layers": {"min": 1, "max": 16},
            "kernel_size": {"min": 1, "max": 1024},
            "stride": {"min": 1, "max": 1024},
        },
        frozenset({422}),
    ),
    (
        1,
        "budget:search",
        "POST",
        "/v1/search",
        {"input_size": [7], "output_size": [14], "kernel_size": {"max": 316}, "stride": {"max": 316}},
        frozenset({422}),
    ),
    (
        1,
        "budget:search/batch",
        "POST",
        "/v1/search/batch",
        {"queries": [{"input_size": 7, "output_size": 14, "limit": 1000}] * 1000},
        frozenset({422}),
    ),
]


@dataclass
class Route:
    latencies: list[float] = field(default_factory=list)
    unexpected: int = 0
    statuses: dict[int, int] = field(default_factory=dict)


def resident_mb(pid: int) -> float:
    """RSS of the server process and its children (uvicorn workers), from /proc."""
    total = 0
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    for each in pids:
        for line in Path(f"/proc/{each}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total / 1024


async def client(url: str, until: float, routes: dict[str, Route], rng: random.Random) -> None:
    weights = [m[0] for m in MIX]
    async with httpx.AsyncClient(base_url=url, timeout=60) as http:
        while time.monotonic() < until:
            _, label, method, path, body, expected = rng.choices(MIX, weights)[0]
            began = time.perf_counter()
            try:
                response = await http.request(method, path, json=body)
                status = response.status_code
            except httpx.HTTPError:
                status = 0
            route = routes.setdefault(label, Route())
            route.latencies.append(time.perf_counter() - began)
            route.statuses[status] = route.statuses.get(status, 0) + 1
            if status not in expected:
                route.unexpected += 1


PROBE_INTERVAL_S = 0.05


def probe(url: str, seconds: float, out: Any) -> None:
    """A liveness probe: GET /healthz every PROBE_INTERVAL_S on one connection; sends latencies."""
    latencies, failures = [], 0
    until = time.monotonic() + seconds
    with httpx.Client(base_url=url, timeout=10) as http:
        while time.monotonic() < until:
            began = time.perf_counter()
            try:
                ok = http.get("/healthz").status_code == 200
            except httpx.HTTPError:
                ok = False
            latencies.append(time.perf_counter() - began)
            failures += not ok
            time.sleep(PROBE_INTERVAL_S)
    out.send((latencies, failures))


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


async def run(url: str, clients: int, seconds: float) -> dict[str, Route]:
    routes: dict[str, Route] = {}
    until = time.monotonic() + seconds
    await asyncio.gather(*(client(url, until, routes, random.Random(n)) for n in range(clients)))
    return routes


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = ["-m", "service", "--host", "127.0.0.1", "--port", str(port), "--workers", str(args.workers)]
    server = start(command, url, env={"TCONV_VERIFY_MODE": "off", "TCONV_LOG_LEVEL": "warning"})
    try:
        rss_start = resident_mb(server.pid)
        receiving, sending = multiprocessing.Pipe(duplex=False)
        prober = multiprocessing.get_context("spawn").Process(
            target=probe, args=(url, args.seconds, sending), daemon=True
        )
        prober.start()
        began = time.monotonic()
        routes = asyncio.run(run(url, args.clients, args.seconds))
        elapsed = time.monotonic() - began
        probed, probe_failures = receiving.recv()
        prober.join(timeout=30)
        rss_end = resident_mb(server.pid)
    finally:
        stop(server)
    rows = {
        label: {
            "requests": len(r.latencies),
            "unexpected": r.unexpected,
            "statuses": r.statuses,
            "p50_ms": round(percentile(r.latencies, 50) * 1000, 1),
            "p99_ms": round(percentile(r.latencies, 99) * 1000, 1),
        }
        for label, r in sorted(routes.items())
    }
    total = sum(row["requests"] for row in rows.values())
    unexpected = sum(row["unexpected"] for row in rows.values())
    summary = {
        "command": " ".join(sys.argv),
        "clients": args.clients,
        "seconds": round(elapsed, 1),
        "workers": args.workers,
        "requests": total,
        "unexpected": unexpected,
        "rss_mb_start": round(rss_start),
        "rss_mb_end": round(rss_end),
        "healthz_p99_under_100ms": rows.get("healthz", {}).get("p99_ms", 0) < 100,
        "probe": {
            "requests": len(probed),
            "unexpected": probe_failures,
            "p50_ms": round(percentile(probed, 50) * 1000, 1),
            "p99_ms": round(percentile(probed, 99) * 1000, 1),
            "max_ms": round(max(probed) * 1000, 1),
        },
        "routes": rows,
    }
    print("| route | requests | unexpected | p50 ms | p99 ms | statuses |")
    print("|---|---|---|---|---|---|")
    for label, row in rows.items():
        cells = [
            label,
            f"{row['requests']:,}",
            row["unexpected"],
            row["p50_ms"],
            row["p99_ms"],
            row["statuses"],
        ]
        print("| " + " | ".join(str(cell) for cell in cells) + " |")
    print(
        f"{total:,} requests in {elapsed:.1f} s, {unexpected} unexpected; "
        f"RSS {rss_start:.0f} -> {rss_end:.0f} MB"
    )
    print(f"/healthz probe (own process, every {PROBE_INTERVAL_S * 1000:.0f} ms): {summary['probe']}")
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "load.json").write_text(json.dumps(summary, indent=2) + "\n")
    return 1 if unexpected or probe_failures else 0


if __name__ == "__main__":
    sys.exit(main())
