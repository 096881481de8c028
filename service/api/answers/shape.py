"""/v1/shape answers, single and batched: the NAS filter answers 10,000 layers per call.

A single request is a batch of one. The batch is checked at once by ``SHAPE_ITEMS``, a schema
pydantic-core runs without calling back into Python; only an item it refuses goes through
``ShapeQuery`` (wire/schemas.py), whose validators word the error. Both accept exactly the same
requests (tests/api/test_fast_paths.py checks that over generated input). The accepted items are
stacked into arrays (``sizes.stack_layers``) and judged by one call of ``rules.check_layers``.
Answers are JSON-ready dicts shaped as ``ShapeResponse`` (or ``ShapeBasicResponse``) documents.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Any, NotRequired

import numpy as np
from pydantic import ConfigDict, Field, StrictBool, StrictInt, TypeAdapter, ValidationError
from typing_extensions import TypedDict

from service.api.explain import JSON, cost_dict, module_name, overlap_dict, portability_dict
from service.api.gc_pause import gc_paused
from service.http.errors import batch_item_error, internal_error_item, validation_error_item
from service.http.responses import dumps
from service.solver import limits
from service.solver.enumeration import DimParams
from service.solver.errors import SolverError
from service.solver.rules import LayerChecks, RuleViolation, check_layers, violations_of
from service.solver.sizes import Dims, LayerStack, formula, stack_layers
from service.wire.schemas import Dtype, ShapeQuery, ShapeRequest

_Size = Annotated[StrictInt, Field(ge=1, le=limits.MAX_SIZE)]
_Kernel = Annotated[StrictInt, Field(ge=1, le=limits.MAX_KERNEL_SIZE)]
_Stride = Annotated[StrictInt, Field(ge=1, le=limits.MAX_STRIDE)]
_Padding = Annotated[StrictInt, Field(ge=0, le=limits.MAX_PADDING)]
_OutputPadding = Annotated[StrictInt, Field(ge=0, le=limits.MAX_OUTPUT_PADDING)]
_Dilation = Annotated[StrictInt, Field(ge=1, le=limits.MAX_DILATION)]
_Channels = Annotated[StrictInt, Field(ge=1, le=limits.MAX_CHANNELS)]
_DIMS = Field(min_length=1, max_length=limits.MAX_SPATIAL_DIMS)


class _ShapeItem(TypedDict):
    """ShapeQuery's rules, natively: an int or 1..3 ints per field, strict ints, no extras."""

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
SHAPE_ITEMS: TypeAdapter[list[_ShapeItem]] = TypeAdapter(list[_ShapeItem])
_CHANNEL_DEFAULTS = {"in_channels": 1, "out_channels": 1, "groups": 1}


def _accepted(queries: Sequence[Any], results: list[JSON | None]) -> dict[int, Mapping[str, Any]]:
    """The items the schema accepts, by index; each refused item's error goes into ``results``."""
    try:
        SHAPE_ITEMS.validate_python(queries)
    except ValidationError as exc:
        refused = {error["loc"][0] for error in exc.errors()}
    else:
        return dict(enumerate(queries))
    # Accepted items come out of a strict schema unchanged, so the request's own dicts are used.
    accepted = {n: query for n, query in enumerate(queries) if n not in refused}
    for n in sorted(refused, key=int):
        assert isinstance(n, int)
        try:
            # The friendly validators say what is wrong; they refuse what SHAPE_ITEMS refuses
            # (and should they accept an item after all, it is answered).
            accepted[n] = ShapeQuery.model_validate(queries[n]).model_dump()
        except ValidationError as item_error:
            results[n] = validation_error_item(item_error)
    return dict(sorted(accepted.items()))


def answer_shape_batch(queries: Sequence[Any], *, basic: bool = True) -> list[JSON]:
    """Every item as /v1/shape would answer it, in order; a malformed item fails alone."""
    results: list[JSON | None] = [None] * len(queries)
    accepted = _accepted(queries, results)
    items = list(accepted.values())
    stack = stack_layers(items)
    fields = stack.fields
    channels = {
        name: np.array([item.get(name, default) for item in items], dtype=np.int64)
        for name, default in _CHANNEL_DEFAULTS.items()
    }
    checks = check_layers(**fields, **channels)
    codes, dims = checks.first_violation()
    outputs = checks.output_size.tolist()
    rows = None if basic else {name: array.tolist() for name, array in stack.fields.items()}
    for row, n in enumerate(accepted):
        if row in stack.errors:
            results[n] = batch_item_error("dimension_mismatch", stack.errors[row])
            continue
        ndim = stack.ndim[row]
        valid = codes[row] is None
        if basic:
            results[n] = {
                "valid": valid,
                "output_size": outputs[row][:ndim] if valid else None,
                "error": None if valid else {"code": codes[row], "dim": dims[row]},
            }
        else:
            assert rows is not None
            layer = {name: tuple(values[row][:ndim]) for name, values in rows.items()}
            derivations = tuple(map(formula, *layer.values()))
            try:
                broken = () if valid else _violations(items[row], stack, checks, row, derivations)
                results[n] = _full_answer(items[row], layer, outputs[row][:ndim], derivations, broken)
            except Exception as exc:  # one item's explanation never fails the batch
                results[n] = internal_error_item(exc)
    return [answer for answer in results if answer is not None]


def _violations(
    item: Mapping[str, Any], stack: LayerStack, checks: LayerChecks, row: int, derivations: tuple[str, ...]
) -> tuple[RuleViolation, ...]:
    get = item.get
    return violations_of(
        checks,
        row,
        ndim=stack.ndim[row],
        stride=stack.fields["stride"],
        output_padding=stack.fields["output_padding"],
        dilation=stack.fields["dilation"],
        in_channels=get("in_channels", 1),
        out_channels=get("out_channels", 1),
        groups=get("groups", 1),
        derivations=derivations,
    )


def _full_answer(
    item: Mapping[str, Any],
    layer: dict[str, Dims],
    output_size: list[int],
    derivations: tuple[str, ...],
    violations: Sequence[RuleViolation],
) -> JSON:
    input_size, kernel_size, stride, padding, output_padding, dilation = layer.values()
    ndim = len(input_size)
    get = item.get
    errors = [{"code": v.code, "message": v.message, "dim": v.dim} for v in violations]
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
            for i, o, text in zip(input_size, output_size, derivations, strict=True)
        ],
        "cost": None,
        "overlap": None,
        "portability": None,
    }
    if not errors:
        answer["output_size"] = output_size
        answer["cost"] = cost_dict(
            input_size,
            kernel_size,
            in_channels=get("in_channels", 1),
            out_channels=get("out_channels", 1),
            groups=get("groups", 1),
            batch_size=get("batch_size", 1),
            bias=get("bias", True),
        )
        params = tuple(map(DimParams, kernel_size, stride, dilation, padding, output_padding))
        answer["overlap"] = overlap_dict(input_size, params)
        answer["portability"] = portability_dict(params, get("groups", 1))
    return answer


def shape_answer(query: Mapping[str, Any], *, basic: bool = False) -> JSON:
    """The /v1/shape answer to a request that passed validation (fields may be missing: defaults):
    a batch of one. Fields whose arrays disagree are the 422 ``dimension_mismatch``."""
    [answer] = answer_shape_batch([query], basic=basic)
    if "error" in answer and "valid" not in answer:
        error = answer["error"]
        raise SolverError(error["code"], error["message"], field="input_size")
    return answer


def shape_batch_json(queries: Sequence[Any], *, basic: bool = True) -> bytes:
    """The /v1/shape/batch body. The answers are built, encoded and freed with the collector
    paused (see gc_pause.py), so it never scans them."""
    with gc_paused():
        return dumps({"results": answer_shape_batch(queries, basic=basic)})


def answer_shape(request: ShapeRequest) -> JSON:
    """The /v1/shape answer, a dict shaped as ShapeResponse or ShapeBasicResponse."""
    return shape_answer(request.model_dump(exclude={"view"}), basic=request.view == "basic")
