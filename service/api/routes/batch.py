"""POST /v1/shape/batch and /v1/search/batch: many questions in one call, answered in order."""

import contextlib

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from service.api.admission import check_search_batch
from service.api.answers.search import search_batch_json
from service.api.answers.shape import shape_batch_json
from service.api.deps import budget_of, settings_of
from service.api.gc_pause import gc_paused
from service.api.routes.ids import operation_id
from service.http.responses import ModelResponse
from service.http.routing import OrjsonRequest, OrjsonRoute
from service.wire.schemas import (
    ErrorResponse,
    SearchBatchRequest,
    SearchBatchResponse,
    ShapeBatchRequest,
    ShapeBatchResponse,
)

router = APIRouter(
    prefix="/v1", tags=["batch"], route_class=OrjsonRoute, generate_unique_id_function=operation_id
)


class _ShapeItemsRequest(OrjsonRequest):
    # The answers read whole-number floats column by column (answers/shape.py).
    whole_numbers_here = False


class _ShapeBatchRoute(OrjsonRoute):
    request_class = _ShapeItemsRequest

    def handling(self) -> contextlib.AbstractContextManager[object]:
        # Parsing and validating 10,000 items allocate some 60,000 containers, none of them in a
        # cycle, and the collector's passes over them took half the mixed NAS-filter batch's time
        # (bench/nas_filter.py); see gc_pause.py.
        return gc_paused()


async def shape_batch(request: ShapeBatchRequest) -> ModelResponse:
    """Each item answered as /v1/shape would, in the batch's ``view`` (default ``basic``); a
    malformed item is ``{"error": ...}`` alone."""
    return ModelResponse(
        await run_in_threadpool(shape_batch_json, request.queries, basic=request.view == "basic")
    )


router.add_api_route(
    "/shape/batch",
    shape_batch,
    methods=["POST"],
    responses={422: {"model": ErrorResponse, "description": "Not a list of 1 to 10,000 queries."}},
    response_model=ShapeBatchResponse,
    response_class=ModelResponse,
    summary="Validate up to 10,000 layers in one call (the NAS filter)",
    route_class_override=_ShapeBatchRoute,
)


@router.post(
    "/search/batch",
    responses={
        422: {
            "model": ErrorResponse,
            "description": "Not a list of 1 to 1,000 queries, or over the batch budget (`batch_too_large`).",
        }
    },
    response_model=SearchBatchResponse,
    response_class=ModelResponse,
    summary="Up to 1,000 searches in one call, answered in order",
)
async def search_batch(request: SearchBatchRequest, http: Request) -> ModelResponse:
    """Each item answered as /v1/search would, in the batch's ``view`` (default ``basic``); one
    item's failure does not fail the others. The batch's summed work is capped by
    ``TCONV_MAX_BATCH_SEARCH_WORK`` (combinations searched) and by one search's
    ``TCONV_MAX_SEARCH_WORK`` (ranking, the nearest sizes' examples included, so a batch may be
    refused part-way), each a 422 ``batch_too_large``; its answer (the sum of the items' ``limit``)
    by ``TCONV_MAX_ANSWER_BYTES``.
    """
    check_search_batch(request.queries, settings_of(http).max_answer_bytes)
    body = await run_in_threadpool(
        search_batch_json,
        request.queries,
        budget_of(http),
        max_work=settings_of(http).max_batch_search_work,
        basic=request.view == "basic",
    )
    return ModelResponse(body)
