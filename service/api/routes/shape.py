"""POST /v1/shape: the forward calculator."""

from fastapi import APIRouter

from service.api.answers.shape import answer_shape
from service.api.routes.ids import operation_id
from service.http.responses import ModelResponse
from service.http.routing import OrjsonRoute
from service.wire.schemas import ErrorResponse, ShapeBasicResponse, ShapeRequest, ShapeResponse

router = APIRouter(
    prefix="/v1", tags=["shape"], route_class=OrjsonRoute, generate_unique_id_function=operation_id
)


@router.post(
    "/shape",
    responses={
        422: {"model": ErrorResponse, "description": "A field out of its domain (names field and rule)."}
    },
    summary="Output size of a ConvTranspose layer, or the rule PyTorch would refuse it by",
    response_model=ShapeResponse | ShapeBasicResponse,
    response_class=ModelResponse,
)
async def shape(request: ShapeRequest) -> ModelResponse:
    """PyTorch's output size for ``input_size`` through the layer, with each dimension's derivation.

    A layer PyTorch rejects (output_padding >= max(stride, dilation), output < 1, groups not
    dividing the channels) is an answer: ``valid: false`` with the failed rule and by how much.
    """
    return ModelResponse(answer_shape(request))
