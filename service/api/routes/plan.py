"""POST /v1/plan: stacks of ConvTranspose layers from one size to another, best first."""

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from service.api.answers.plan import answer_plan
from service.api.deps import settings_of
from service.api.explain import JSON
from service.api.gc_pause import gc_paused
from service.api.routes.ids import operation_id
from service.http.responses import ModelResponse
from service.http.routing import OrjsonRoute
from service.wire.schemas import ErrorResponse, PlanBasicResponse, PlanRequest, PlanResponse

router = APIRouter(
    prefix="/v1", tags=["plan"], route_class=OrjsonRoute, generate_unique_id_function=operation_id
)


@router.post(
    "/plan",
    responses={
        422: {
            "model": ErrorResponse,
            "description": "A field out of its domain, a search over the budget (`space_too_large`), "
            "or an option /v1/plan does not support.",
        }
    },
    response_model=PlanResponse | PlanBasicResponse,
    response_class=ModelResponse,
    summary="Plan multi-layer decoders: every stack of 1..N layers from input_size to output_size",
)
async def plan(request: PlanRequest, http: Request) -> ModelResponse:
    """A search over intermediate sizes (dynamic programming), never over layer tuples: ``total``
    is the exact number of plans within the bounds, and ``plans`` the best ``limit`` of them by the
    objective summed over layers, each with the size after every layer and an ``nn.Sequential``.
    Layers are scored as for a long input (their steady-state overlap), apart from `cost`, which
    sums each layer's MACs for its real input size and channels.
    """
    return ModelResponse(
        await run_in_threadpool(_answer, request, max_transitions=settings_of(http).max_plan_transitions)
    )


def _answer(request: PlanRequest, *, max_transitions: int) -> PlanResponse | JSON:
    # The planner's graph is tens of thousands of dicts that live for one request: the collector
    # would rescan them for nothing (see gc_pause.py; about 25 % of the 4 -> 256 benchmark).
    with gc_paused():
        return answer_plan(request, max_transitions=max_transitions)
