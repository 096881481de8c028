"""POST /v1/search: every valid layer for a size change, ranked and paged."""

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from service.api.answers.search import answer_search, search_bounds, search_work
from service.api.answers.views import basic_search
from service.api.deps import budget_of, settings_of, verifier_of
from service.api.routes.ids import operation_id
from service.api.verification import attach_verification, search_by_latency
from service.http.metrics import CANDIDATES, SEARCH_SPACE, request_id
from service.http.responses import ModelResponse
from service.http.routing import OrjsonRoute
from service.wire.schemas import ErrorResponse, SearchBasicResponse, SearchRequest, SearchResponse

router = APIRouter(
    prefix="/v1", tags=["search"], route_class=OrjsonRoute, generate_unique_id_function=operation_id
)


@router.post(
    "/search",
    responses={
        422: {
            "model": ErrorResponse,
            "description": "A field out of its domain, or a space over the budget "
            "(`space_too_large`, which says which bound to narrow), or `objective_unavailable` "
            "(latency without a verification worker).",
        },
        503: {
            "model": ErrorResponse,
            "description": "objective=latency only: the worker could not measure every candidate.",
        },
    },
    summary="Find and rank every ConvTranspose layer that maps input_size to output_size",
    response_model=SearchResponse | SearchBasicResponse,
    response_class=ModelResponse,
)
async def search(body: SearchRequest, http: Request) -> ModelResponse:
    """Complete and sound: every layer within the bounds that PyTorch accepts with exactly
    ``output_size`` is in the ranked list, and nothing else. ``total`` is exact; the order is
    deterministic (score, then parameters dimension by dimension). When ``total`` is 0 the
    response says which bound blocks the request and offers the nearest reachable sizes.

    ``verify: "meta" | "device"`` attaches the worker's verdict to each candidate of the page
    (``unavailable`` with the reason when the worker is down: still a 200).
    """
    rid = request_id.get()
    budget, settings, verifier = budget_of(http), settings_of(http), verifier_of(http)
    basic = body.view == "basic"
    if body.objective == "latency":
        response = await search_by_latency(body, budget, settings, verifier, rid)
        if basic:
            response = basic_search(response)
    else:
        bounds = search_bounds(body)  # once: the work estimate and the search share it
        if search_work(body, bounds) <= settings.inline_search_work:
            # Bounded and sub-millisecond: a thread hop would cost more than the search.
            answer = answer_search(body, budget, basic=basic, bounds=bounds)
        else:
            answer = await run_in_threadpool(answer_search, body, budget, basic=basic, bounds=bounds)
        response = await attach_verification(answer, body, verifier, rid)
    SEARCH_SPACE.observe(response["total"])
    CANDIDATES.inc(len(response["candidates"]))
    return ModelResponse(response)
