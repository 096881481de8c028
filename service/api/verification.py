"""Verification in the API: attach worker results to search candidates, and rank by latency."""

from __future__ import annotations

import time

from fastapi import HTTPException

from service.api.answers.search import answer_search
from service.api.config import Settings
from service.api.explain import JSON
from service.http.metrics import observe_verification
from service.solver.errors import SolverError
from service.solver.search import Budget
from service.wire.schemas import (
    ChannelContext,
    LayerIn,
    SearchRequest,
    VerificationOut,
    VerifyRequest,
)
from service.worker import Verifier
from service.worker.errors import WorkerBusyError


def _verify_request(request: SearchRequest, candidates: list[JSON], *, timing: bool) -> VerifyRequest:
    return VerifyRequest(
        layers=[LayerIn(**{k: tuple(v) for k, v in c["layer"].items()}) for c in candidates],
        input_size=request.input_size,
        device="meta" if request.verify == "meta" else "auto",
        timing=timing,
        **request.model_dump(include=set(ChannelContext.model_fields)),
    )


async def _results(
    verifier: Verifier, request: VerifyRequest, request_id: str | None
) -> list[VerificationOut]:
    began = time.perf_counter()
    try:
        results = (await verifier.verify(request, request_id=request_id)).results
    except WorkerBusyError as exc:
        results = [VerificationOut(status="unavailable", error=str(exc))] * len(request.layers)
    observe_verification(results, time.perf_counter() - began)
    return results


async def attach_verification(
    response: JSON, request: SearchRequest, verifier: Verifier, request_id: str | None
) -> JSON:
    """Each candidate gets the worker's verdict; a worker that is down gives ``unavailable``."""
    candidates: list[JSON] = response["candidates"]
    if request.verify == "none" or not candidates:
        return response
    results = await _results(verifier, _verify_request(request, candidates, timing=False), request_id)
    for candidate, result in zip(candidates, results, strict=True):
        candidate["verification"] = result.model_dump()
    return response


async def search_by_latency(
    request: SearchRequest, budget: Budget, settings: Settings, verifier: Verifier, request_id: str | None
) -> JSON:
    """Measure every candidate on the worker and rank by median forward latency.

    Ties (equal to the microsecond) keep the ``balanced`` order, so the order is deterministic for
    one set of measurements; measurements themselves vary from run to run.
    """
    if verifier.kind == "off":
        raise SolverError(
            "objective_unavailable",
            "objective 'latency' ranks by latency measured on the verification worker, and verification "
            "is not available on this server; use 'balanced', 'quality', 'cost' or 'conventional'",
            field="objective",
        )
    cap = settings.max_latency_candidates
    balanced = request.model_copy(
        update={"objective": "balanced", "offset": 0, "limit": cap, "verify": "none"}
    )
    whole = answer_search(balanced, budget)
    if whole["total"] > cap:
        raise SolverError(
            "space_too_large",
            f"objective 'latency' measures every candidate; this space holds {whole['total']:,} and the "
            f"cap is {cap:,} (TCONV_MAX_LATENCY_CANDIDATES): narrow kernel_size, stride or dilation",
            field="objective",
        )
    echo = {"objective": "latency", "offset": request.offset, "limit": request.limit}
    candidates: list[JSON] = whole["candidates"]
    if not candidates:
        return {**whole, **echo}
    timed = request.model_copy(update={"verify": "device"})
    results = await _results(verifier, _verify_request(timed, candidates, timing=True), request_id)
    missing = [r for r in results if r.status != "confirmed" or r.latency_ms is None]
    if missing:
        raise HTTPException(
            status_code=503,
            detail=f"latency ranking needs every candidate measured; {len(missing)} of {len(results)} were "
            f"not ({missing[0].status}: {missing[0].error})",
            headers={"Retry-After": "1"},
        )
    measured = sorted(
        zip(candidates, results, strict=True),
        key=lambda pair: (round(pair[1].latency_ms or 0, 3), pair[0]["rank"]),
    )
    ranked: list[JSON] = []
    for rank, (candidate, result) in enumerate(measured, start=1):
        latency_us = round((result.latency_ms or 0) * 1000)
        ranked.append(
            {
                **candidate,
                "rank": rank,
                "score": latency_us,
                "score_terms": {"latency_us": latency_us},
                "verification": result.model_dump(),
            }
        )
    return {**whole, **echo, "candidates": ranked[request.offset : request.offset + request.limit]}
