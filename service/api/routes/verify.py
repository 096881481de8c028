"""POST /v1/verify: confirm layers in real PyTorch, in-process or on the configured worker."""

import time

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from service.api.deps import verifier_of
from service.api.routes.ids import operation_id
from service.http.metrics import observe_verification, request_id
from service.http.responses import ModelResponse
from service.http.routing import OrjsonRoute
from service.wire.schemas import ErrorResponse, VerifyRequest, VerifyResponse
from service.worker.errors import WorkerBusyError, busy_response

router = APIRouter(
    prefix="/v1", tags=["verify"], route_class=OrjsonRoute, generate_unique_id_function=operation_id
)


@router.post(
    "/verify",
    summary="Build each layer in real PyTorch, run it, and compare with the solver",
    response_model=VerifyResponse,
    response_class=ModelResponse,
    responses={503: {"model": ErrorResponse, "description": "The worker's queue is full; see Retry-After."}},
)
async def verify(body: VerifyRequest, http: Request) -> ModelResponse | JSONResponse:
    """One result per layer, in order: ``confirmed`` (PyTorch ran it and produced exactly the
    predicted, non-empty size), ``failed`` (PyTorch refused it or produced something else; ``error``
    is PyTorch's message) or ``unavailable`` (not run, with the reason; a worker that cannot be
    reached is never a 5xx). ``meta`` never confirms what the CPU and CUDA kernels refuse.
    """
    began = time.perf_counter()
    try:
        answer = await verifier_of(http).verify(body, request_id=request_id.get())
    except WorkerBusyError as exc:
        return busy_response(exc)
    observe_verification(answer.results, time.perf_counter() - began)
    return ModelResponse(answer)
