"""GET /v1/overlap.svg: one layer's overlap map as a picture, for READMEs, notebooks and the playground."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import ValidationError

from service.api.answers.shape import shape_answer
from service.api.routes.ids import operation_id
from service.api.svg import drawing_limit_error, overlap_svg
from service.solver.enumeration import DimParams
from service.solver.errors import SolverError
from service.wire.schemas import ErrorResponse, ShapeQuery

router = APIRouter(prefix="/v1", tags=["pictures"], generate_unique_id_function=operation_id)

PER_DIMENSION = (
    "An integer (for input_size: a square 2-D size), or comma-separated integers, one per dimension; "
    "a trailing comma makes a one-element array (`input_size=7,` is 1-D)."
)


def _query_value(text: str) -> object:
    """``"3"`` -> 3, ``"3,4"`` -> [3, 4], ``"3,"`` -> [3]; a part that is not an integer is passed
    on as text, so ShapeQuery refuses it with the same message /v1/shape gives."""
    parts = [part.strip() for part in text.split(",")]
    is_array = len(parts) > 1
    if is_array and parts[-1] == "":
        parts.pop()
    # isdigit() alone admits "²" and other Unicode digits, which int() refuses (a 500, found by fuzzing).
    values: list[object] = [
        int(part) if part.isascii() and part.lstrip("-").isdigit() else part for part in parts
    ]
    return values if is_array else values[0]


@router.get(
    "/overlap.svg",
    response_class=Response,
    responses={
        200: {
            "content": {"image/svg+xml": {"schema": {"type": "string"}}},
            "description": "A standalone SVG: 1-D as bars, 2-D as a grid, 3-D as its middle depth slice.",
        },
        422: {
            "model": ErrorResponse,
            "description": "A field out of its domain (as /v1/shape words it), a layer PyTorch refuses "
            "(the code and message of /v1/shape's `error`), or a layer too large to draw "
            "(`too_large_to_draw`).",
        },
    },
    summary="A layer's overlap map (the all-ones experiment) as SVG",
)
def overlap_picture(
    input_size: Annotated[str, Query(description="Input size. " + PER_DIMENSION, examples=["7"])],
    kernel_size: Annotated[str, Query(description="Kernel size. " + PER_DIMENSION, examples=["3"])],
    stride: Annotated[str, Query(description="Stride. " + PER_DIMENSION)] = "1",
    padding: Annotated[str, Query(description="Padding. " + PER_DIMENSION)] = "0",
    output_padding: Annotated[str, Query(description="Output padding. " + PER_DIMENSION)] = "0",
    dilation: Annotated[str, Query(description="Dilation. " + PER_DIMENSION)] = "1",
    diagram: Annotated[
        bool,
        Query(
            description="Also draw how each dimension is built: input pixels spread by the stride, "
            "kernel footprints, padding cropped from both ends, output_padding added."
        ),
    ] = False,
) -> Response:
    """Ones in, ones weights, no bias: each output pixel shows how many (input pixel, kernel tap)
    pairs reach it, the counts /v1/shape's `overlap` summarises. Holes (nothing reaches the pixel)
    are crossed in red; interior pixels below the interior's highest count, the thin squares of a
    checkerboard, are outlined in orange. The layer fields are validated as /v1/shape validates
    them; a layer PyTorch would refuse has no picture (422 with /v1/shape's error code)."""
    fields = {
        "input_size": input_size,
        "kernel_size": kernel_size,
        "stride": stride,
        "padding": padding,
        "output_padding": output_padding,
        "dilation": dilation,
    }
    try:
        request = ShapeQuery.model_validate({name: _query_value(text) for name, text in fields.items()})
    except ValidationError as exc:
        raise RequestValidationError(exc.errors()) from exc
    answer = shape_answer(request.model_dump())
    if not answer["valid"]:
        error = answer["error"]
        raise SolverError(error["code"], error["message"])
    layer_fields = answer["layer"]
    layer = [
        DimParams(k, s, d, p, op)
        for k, s, d, p, op in zip(
            layer_fields["kernel_size"],
            layer_fields["stride"],
            layer_fields["dilation"],
            layer_fields["padding"],
            layer_fields["output_padding"],
            strict=True,
        )
    ]
    sizes = [dimension["input_size"] for dimension in answer["dimensions"]]
    too_large = drawing_limit_error(sizes, layer, answer["output_size"])
    if too_large:
        raise SolverError("too_large_to_draw", too_large, field="input_size")
    return Response(
        overlap_svg(sizes, layer, diagram=diagram),
        media_type="image/svg+xml",
        # A pure function of the query: caches may keep it.
        headers={"Cache-Control": "public, max-age=86400"},
    )
