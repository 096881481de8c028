"""The basic view (AIP-157 partial responses): the fields a machine filters on, as the
projection of the full answer.

Shape and search answers build their basic form directly, skipping the explanation they would
drop (tests/api/test_views.py holds each equal to the projection of the full answer); plans and
invert answers, whose explanation costs little next to the search, are projected from the full
answer here.
"""

from __future__ import annotations

from typing import Any

JSON = dict[str, Any]


def basic_error(error: JSON | None) -> JSON | None:
    return None if error is None else {"code": error["code"], "dim": error.get("dim")}


def basic_shape(full: JSON) -> JSON:
    return {"valid": full["valid"], "output_size": full["output_size"], "error": basic_error(full["error"])}


def basic_candidate(full: JSON) -> JSON:
    basic = {key: full[key] for key in ("rank", "layer", "output_size", "score")}
    if full.get("verification") is not None:
        basic["verification"] = full["verification"]
    return basic


def basic_search(full: JSON) -> JSON:
    basic: JSON = {"total": full["total"], "candidates": [basic_candidate(c) for c in full["candidates"]]}
    if full["total"] == 0:
        basic["reason"] = full["reason"]
        basic["nearest"] = [{**near, "example": basic_candidate(near["example"])} for near in full["nearest"]]
    return basic


def basic_plan(full: JSON) -> JSON:
    return {
        "total": full["total"],
        "plans": [{key: plan[key] for key in ("rank", "layers", "sizes", "score")} for plan in full["plans"]],
    }


def basic_invert(full: JSON) -> JSON:
    # An encoder torch refuses has no decoder and no exact sizes: the basic view says so by those.
    return {key: full[key] for key in ("sizes", "decoder", "is_exact", "exact_input_sizes")}
