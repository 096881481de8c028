"""Issue 13: the Python SDK's ``Client.shape_many`` over 100,000 layers against two API processes
(``python -m service --workers 2``), as a NAS backend would stream its proposals.

The layers are the NAS filter's mixed mix (1-D to 3-D, per-dimension lists), without malformed
items. ``shape_many`` sends them as ``/v1/shape/batch`` requests of its default size (1,000
layers), its default 4 at once, and yields typed answers in input order; the figure is layers per
second from the first request to the last answer, the best of two passes (the first warms both
processes). The same passes against one process are recorded beside it, for scale.

    PYTHONPATH=$PWD .venv/bin/python bench/run_all.py shape_many
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from bench._server import running_service
from bench.nas_filter import mixed_mix

# The SDK of this checkout, not whichever copy the environment has installed.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "clients" / "python"))

LAYERS = 100_000
PASSES = 2


def _passes(url: str, layers: list[dict[str, Any]]) -> tuple[float, int]:
    from tconv_client import Client

    best, valid = float("inf"), 0
    with Client(url, timeout=120) as client:
        for _ in range(PASSES):
            start = time.perf_counter()
            answers = list(client.shape_many(layers))
            best = min(best, time.perf_counter() - start)
            assert len(answers) == len(layers)
            valid = sum(1 for answer in answers if getattr(answer, "valid", False))
    return best, valid


def shape_many() -> dict[str, Any]:
    layers = mixed_mix(seed=100, count=LAYERS, malformed=0.0)
    results: dict[str, Any] = {"layers": LAYERS}
    for processes in (2, 1):
        command = [sys.executable, "-m", "service", "--host", "127.0.0.1", "--port", "{port}"]
        with running_service(command=[*command, "--workers", str(processes)]) as url:
            seconds, valid = _passes(url, layers)
        results[f"processes_{processes}"] = {
            "seconds": round(seconds, 2),
            "layers_per_s": round(LAYERS / seconds),
            "valid": valid,
        }
    return results
