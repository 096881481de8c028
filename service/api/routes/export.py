"""POST /v1/export: a layer or a plan written for ONNX, JAX or Keras, with an ONNX model file."""

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from service.api.answers.export import answer_export
from service.api.routes.ids import operation_id
from service.http.responses import ModelResponse
from service.http.routing import OrjsonRoute
from service.wire.schemas import ErrorResponse, ExportRequest, ExportResponse

router = APIRouter(
    prefix="/v1", tags=["export"], route_class=OrjsonRoute, generate_unique_id_function=operation_id
)


@router.post(
    "/export",
    responses={
        422: {
            "model": ErrorResponse,
            "description": "A field out of its domain, or a layer PyTorch refuses at the size it meets "
            "(`invalid_layer`).",
        }
    },
    response_model=ExportResponse,
    response_class=ModelResponse,
    summary="Write a layer (or a plan) for ONNX, JAX or Keras, exactly as PyTorch computes it",
)
async def export(request: ExportRequest) -> ModelResponse:
    """``portability`` says whether the target reproduces PyTorch's sizes and values (measured with
    onnxruntime, jax and keras; docs/portability.md). When it does, ``code`` is the equivalent code
    and, for ``onnx``, ``onnx_model_base64`` a model file whose inputs are ``x`` and PyTorch's own
    weights (``W``, ``B``); when it does not, both are null and the reason names the rule.
    """
    # Building and checking an ONNX model is CPU work: off the event loop.
    return ModelResponse(await run_in_threadpool(answer_export, request))
