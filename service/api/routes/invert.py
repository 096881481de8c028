"""POST /v1/invert: mirror a Conv encoder into ConvTranspose layers that restore every size."""

from fastapi import APIRouter

from service.api.answers.invert import answer_invert
from service.api.routes.ids import operation_id
from service.http.responses import ModelResponse
from service.http.routing import OrjsonRoute
from service.wire.schemas import ErrorResponse, InvertBasicResponse, InvertRequest, InvertResponse

router = APIRouter(
    prefix="/v1", tags=["invert"], route_class=OrjsonRoute, generate_unique_id_function=operation_id
)


@router.post(
    "/invert",
    responses={422: {"model": ErrorResponse, "description": "A field out of its domain."}},
    response_model=InvertResponse | InvertBasicResponse,
    response_class=ModelResponse,
    summary="Undo a Conv layer's (or an encoder's) shape change exactly",
)
async def invert(request: InvertRequest) -> ModelResponse:
    """The size after each encoder layer and, in decoder order, the ConvTranspose layer (same
    kernel, stride, padding, dilation) whose output_padding restores each size exactly. Also the
    nearest input sizes at which every stage is exact, so a plain mirrored decoder lines up
    with every skip connection. An encoder torch would refuse is 200 with ``valid: false``.
    """
    return ModelResponse(answer_invert(request))
