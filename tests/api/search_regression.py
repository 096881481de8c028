"""Generated search requests and a digest of each answer, to hold a rewrite of the search to the
answers it gave before (tests/api/test_search_regression.py).

    .venv/bin/python -m tests.api.search_regression record   # rewrite search_regression.json

Requests cover 1-D to 3-D, tied and untied, every objective, default and custom bounds (ranges and
explicit values), portable_to, offsets and limits, reachable and unreachable sizes, spaces past
the sorting threshold (histogram ranking) and items over the budget. Each answer is recorded in
both views: the full view through ``answer_search`` (one by one), the basic view through
``answer_search_batch`` (in chunks), as sha256 digests of their canonical JSON.
"""

from __future__ import annotations

import hashlib
import json
import random
import sys
from pathlib import Path
from typing import Any

import orjson

from service.api.answers.search import answer_search, answer_search_batch
from service.solver.errors import SolverError
from service.solver.search import Budget
from service.wire.schemas import SearchQuery

FIXTURE = Path(__file__).with_name("search_regression.json")
SEED = 13
COUNT = 2400
CHUNK = 200
OBJECTIVES = ("balanced", "quality", "cost", "conventional")
TARGETS = ((), (), (), ("onnx",), ("keras",), ("jax",), ("onnx", "keras"), ("keras", "jax"))


def _bound(rng: random.Random, lo: int, hi: int) -> Any:
    form = rng.randrange(4)
    if form == 0:
        a = rng.randint(lo, hi)
        return {"min": a, "max": rng.randint(a, hi)}
    if form == 1:
        return {"max": rng.randint(lo, hi)}
    if form == 2:
        return sorted(rng.sample(range(lo, hi + 1), rng.randint(1, min(4, hi - lo + 1))))
    return rng.randint(lo, hi)


def generate(count: int = COUNT, seed: int = SEED) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    requests: list[dict[str, Any]] = []
    for n in range(count):
        ndim = rng.choice((1, 2, 2, 3))
        square = rng.random() < 0.5
        inputs = [rng.randint(1, 40)] * ndim if square else [rng.randint(1, 40) for _ in range(ndim)]
        outputs = []
        for i in inputs:
            if rng.random() < 0.5:  # near a reachable size
                outputs.append(max(1, (i - 1) * rng.randint(1, 8) + rng.randint(-3, 9)))
            else:
                outputs.append(rng.randint(1, 320))
        if square and rng.random() < 0.7:
            outputs = [outputs[0]] * ndim
        request: dict[str, Any] = {
            "input_size": inputs[0] if ndim == 2 and square and rng.random() < 0.5 else inputs,
            "output_size": outputs,
        }
        if ndim == 2 and square and isinstance(request["input_size"], int):
            request["output_size"] = outputs[0]
        if rng.random() < 0.3:
            request["tie_dims"] = False
        if rng.random() < 0.6:
            request["objective"] = rng.choice(OBJECTIVES)
        if rng.random() < 0.4:
            request["kernel_size"] = _bound(rng, 1, 12)
        if rng.random() < 0.4:
            request["stride"] = _bound(rng, 1, 10)
        if rng.random() < 0.3:
            request["dilation"] = _bound(rng, 1, 4)
        if rng.random() < 0.15:
            request["padding"] = _bound(rng, 0, 12)
        if rng.random() < 0.15:
            request["output_padding"] = _bound(rng, 0, 6)
        targets = rng.choice(TARGETS)
        if targets:
            request["portable_to"] = list(targets)
        if rng.random() < 0.3:
            request["limit"] = rng.randint(1, 40)
        if rng.random() < 0.15:
            request["offset"] = rng.randint(0, 300)
        if n % 97 == 0:  # a large untied space: histogram ranking, deep pages
            request.update(
                input_size=[rng.randint(4, 16)] * 3,
                tie_dims=False,
                kernel_size={"min": 1, "max": 12},
                stride={"min": 1, "max": 6},
                dilation={"min": 1, "max": 3},
                offset=rng.choice((0, 0, 50, 5000)),
            )
            request["output_size"] = [2 * request["input_size"][0]] * 3
            request.pop("padding", None)
            request.pop("output_padding", None)
        if n % 211 == 0:  # over the budget
            request.update(kernel_size={"max": 1024}, stride={"max": 1024})
        if n % 53 == 0:
            request.update(groups=2, in_channels=4, out_channels=rng.choice((4, 6, 3)))
        requests.append(request)
    return requests


def _digest(answer: Any) -> str:
    return hashlib.sha256(orjson.dumps(answer, option=orjson.OPT_SORT_KEYS)).hexdigest()[:24]


def _full(request: dict[str, Any], budget: Budget) -> Any:
    try:
        return answer_search(SearchQuery.model_validate(request), budget)
    except SolverError as exc:
        return {"error": exc.code, "message": exc.message}


def digests(requests: list[dict[str, Any]]) -> dict[str, list[str]]:
    budget = Budget()
    full = [_digest(_full(request, budget)) for request in requests]
    basic: list[str] = []
    for start in range(0, len(requests), CHUNK):
        chunk = requests[start : start + CHUNK]
        basic.extend(_digest(answer) for answer in answer_search_batch(chunk, budget, max_work=10**9))
    return {"full": full, "basic": basic}


def main() -> None:
    if sys.argv[1:] != ["record"]:
        raise SystemExit(__doc__)
    requests = generate()
    FIXTURE.write_text(json.dumps({"seed": SEED, "count": COUNT, **digests(requests)}, indent=0) + "\n")
    print(f"recorded {len(requests)} requests in {FIXTURE}")


if __name__ == "__main__":
    main()
