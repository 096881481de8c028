"""/v1/shape answers, single and batched: the NAS filter answers 10,000 layers per call.

An item is first checked by ``SHAPE_ITEM``, a schema pydantic-core runs without calling back
into Python; only an item it refuses goes through ``ShapeRequest`` (schemas.py), whose
validators word the error. Both accept exactly the same requests (tests/api/test_fast_paths.py
checks that over generated input), so the fast path changes speed only.
Answers are JSON-ready dicts shaped as ``ShapeResponse`` documents.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Any, NotRequired

import orjson
from pydantic import ConfigDict, Field, StrictBool, StrictInt, TypeAdapter, ValidationError
from typing_extensions import TypedDict

from service.api.dims import dims
from service.api.errors import batch_item_error, internal_error_item, validation_error_item
from service.api.explain import JSON, cost_dict, module_name, overlap_dict
from service.api.gc_pause import gc_paused
from service.api.responses import dumps
from service.api.schemas import Dtype, ShapeRequest
from service.solver import limits
from service.solver.enumeration import DimParams
from service.solver.errors import SolverError
from service.solver.rules import check_layer

_Size = Annotated[StrictInt, Field(ge=1, le=limits.MAX_SIZE)]
_Kernel = Annotated[StrictInt, Field(ge=1, le=limits.MAX_KERNEL_SIZE)]
_Stride = Annotated[StrictInt, Field(ge=1, le=limits.MAX_STRIDE)]
_Padding = Annotated[StrictInt, Field(ge=0, le=limits.MAX_PADDING)]
_OutputPadding = Annotated[StrictInt, Field(ge=0, le=limits.MAX_OUTPUT_PADDING)]
_Dilation = Annotated[StrictInt, Field(ge=1, le=limits.MAX_DILATION)]
_Channels = Annotated[StrictInt, Field(ge=1, le=limits.MAX_CHANNELS)]
_DIMS = Field(min_length=1, max_length=limits.MAX_SPATIAL_DIMS)


class _ShapeItem(TypedDict):
    """ShapeRequest's rules, natively: an int or 1..3 ints per field, strict ints, no extras."""

    __pydantic_config__ = ConfigDict(extra="forbid")  # type: ignore[misc]

    input_size: _Size | Annotated[list[_Size], _DIMS]
    kernel_size: _Kernel | Annotated[list[_Kernel], _DIMS]
    stride: NotRequired[_Stride | Annotated[list[_Stride], _DIMS]]
    padding: NotRequired[_Padding | Annotated[list[_Padding], _DIMS]]
    output_padding: NotRequired[_OutputPadding | Annotated[list[_OutputPadding], _DIMS]]
    dilation: NotRequired[_Dilation | Annotated[list[_Dilation], _DIMS]]
    in_channels: NotRequired[_Channels]
    out_channels: NotRequired[_Channels]
    groups: NotRequired[_Channels]
    batch_size: NotRequired[Annotated[StrictInt, Field(ge=1, le=limits.MAX_BATCH_SIZE)]]
    bias: NotRequired[StrictBool]
    dtype: NotRequired[Dtype]


SHAPE_ITEM: TypeAdapter[Mapping[str, Any]] = TypeAdapter(_ShapeItem)


_LAYER_FIELDS = ("kernel_size", "stride", "padding", "output_padding", "dilation")


def shape_answer(query: Mapping[str, Any]) -> JSON:
    """The /v1/shape answer to a request that passed validation (fields may be missing: defaults)."""
    get = query.get
    input_value = query["input_size"]
    if type(input_value) is int:
        # A bare int takes its dimensions from the layer's array fields, as in /v1/verify.
        ndim = next((len(v) for f in _LAYER_FIELDS if type(v := get(f, 1)) is not int), 2)
    else:
        ndim = len(input_value)
    input_size = dims(input_value, ndim, "input_size")
    kernel_size = dims(query["kernel_size"], ndim, "kernel_size")
    stride = dims(get("stride", 1), ndim, "stride")
    padding = dims(get("padding", 0), ndim, "padding")
    output_padding = dims(get("output_padding", 0), ndim, "output_padding")
    dilation = dims(get("dilation", 1), ndim, "dilation")
    in_channels, out_channels, groups = get("in_channels", 1), get("out_channels", 1), get("groups", 1)
    check = check_layer(
        input_size,
        kernel_size=kernel_size,
        stride=stride,
        padding=padding,
        output_padding=output_padding,
        dilation=dilation,
        in_channels=in_channels,
        out_channels=out_channels,
        groups=groups,
    )
    errors = [{"code": v.code, "message": v.message, "dim": v.dim} for v in check.violations]
    answer: JSON = {
        "valid": not errors,
        "output_size": None,
        "error": errors[0] if errors else None,
        "errors": errors,
        "module": module_name(ndim),
        "layer": {
            "kernel_size": list(kernel_size),
            "stride": list(stride),
            "padding": list(padding),
            "output_padding": list(output_padding),
            "dilation": list(dilation),
        },
        "dimensions": [
            {"input_size": i, "output_size": o, "derivation": text}
            for i, o, text in zip(input_size, check.output_size, check.derivations, strict=True)
        ],
        "cost": None,
        "overlap": None,
    }
    if not errors:
        answer["output_size"] = list(check.output_size)
        answer["cost"] = cost_dict(
            input_size,
            kernel_size,
            in_channels=in_channels,
            out_channels=out_channels,
            groups=groups,
            batch_size=get("batch_size", 1),
            bias=get("bias", True),
        )
        answer["overlap"] = overlap_dict(
            input_size, list(map(DimParams, kernel_size, stride, dilation, padding, output_padding))
        )
    return answer


def _shape_item(query: Any) -> JSON:
    try:
        try:
            checked = SHAPE_ITEM.validate_python(query)
        except ValidationError:
            # The friendly validators say what is wrong; they refuse what SHAPE_ITEM refuses.
            checked = ShapeRequest.model_validate(query).model_dump()
        return shape_answer(checked)
    except ValidationError as exc:
        return validation_error_item(exc)
    except SolverError as exc:
        return batch_item_error(exc.code, exc.message)
    except Exception as exc:  # one item never fails the batch
        return internal_error_item(exc)


def answer_shape_batch(queries: Sequence[Any]) -> list[JSON]:
    """Every item as /v1/shape would answer it, in order; a malformed item fails alone.

    A NAS search space is a product of a few choices, so its proposals repeat: an item equal to
    an earlier one (as JSON) shares that item's answer instead of being answered again.
    """
    answered: dict[bytes, JSON] = {}
    results = []
    for query in queries:
        key = orjson.dumps(query, option=orjson.OPT_SORT_KEYS)
        answer = answered.get(key)
        if answer is None:
            answer = answered[key] = _shape_item(query)
        results.append(answer)
    return results


def shape_batch_json(queries: Sequence[Any]) -> bytes:
    """The /v1/shape/batch body. The answers are built, encoded and freed with the collector
    paused (see gc_pause.py), so it never scans them."""
    with gc_paused():
        return dumps({"results": answer_shape_batch(queries)})
