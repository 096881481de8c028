"""POST /v1/search: every valid layer for a size change, ranked and paged."""

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from service.api.answers import answer_search, search_work
from service.api.deps import BudgetDep, SettingsDep
from service.api.responses import ModelResponse
from service.api.schemas import ErrorResponse, SearchRequest, SearchResponse

router = APIRouter(prefix="/v1", tags=["search"])


@router.post(
    "/search",
    responses={
        422: {
            "model": ErrorResponse,
            "description": "A field out of its domain, or a space over the budget "
            "(`space_too_large`, which says which bound to narrow).",
        }
    },
    summary="Find and rank every ConvTranspose layer that maps input_size to output_size",
    response_model=SearchResponse,
    response_class=ModelResponse,
)
async def search(request: SearchRequest, budget: BudgetDep, settings: SettingsDep) -> ModelResponse:
    """Complete and sound: every layer within the bounds that PyTorch accepts with exactly
    ``output_size`` is in the ranked list, and nothing else. ``total`` is exact; the order is
    deterministic (score, then parameters dimension by dimension). When ``total`` is 0 the
    response says which bound blocks the request and offers the nearest reachable sizes.
    """
    if search_work(request) <= settings.inline_search_work:
        # Bounded and sub-millisecond: a thread hop would cost more than the search.
        return ModelResponse(answer_search(request, budget))
    return ModelResponse(await run_in_threadpool(answer_search, request, budget))
