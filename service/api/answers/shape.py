"""/v1/shape answers, single and batched: the NAS filter answers 10,000 layers per call.

A single request is a batch of one. The batch is read column by column (``read_shape_items``):
each field of every item at once, into arrays, its types and ranges checked as array
expressions (``sizes.read_column``), whole-number floats read as ints there (issue 14). Only an
item it refuses goes through ``ShapeQuery`` (wire/schemas.py), whose validators word the error.
Both accept exactly the same items (tests/api/test_fast_paths.py checks that over generated
batches). The items' arrays (``sizes.stack_layers``) are judged by one call of
``rules.check_layers``. Answers are JSON-ready dicts shaped as ``ShapeResponse`` (or
``ShapeBasicResponse``) documents; basic answers are built per kind of verdict, not per item.
"""

from __future__ import annotations

import operator
from collections.abc import Mapping, Sequence
from itertools import repeat
from typing import Any, NamedTuple, get_args

import numpy as np
import numpy.typing as npt
from pydantic import ValidationError

from service.api.explain import JSON, cost_dict, module_name, overlap_dict, portability_dict
from service.api.gc_pause import gc_paused
from service.http.errors import batch_item_error, internal_error_item, validation_error_item
from service.http.responses import dumps
from service.http.routing import whole_numbers_as_ints
from service.solver import limits
from service.solver.enumeration import DimParams
from service.solver.errors import SolverError
from service.solver.rules import VIOLATION_CODES, LayerChecks, RuleViolation, check_layers, violations_of
from service.solver.sizes import Dims, LayerStack, field_values, formula, read_column, stack_layers
from service.wire.schemas import Dtype, ShapeQuery, ShapeRequest

_FIELDS = frozenset(ShapeQuery.model_fields)
_COUNTS = {
    "in_channels": (1, limits.MAX_CHANNELS),
    "out_channels": (1, limits.MAX_CHANNELS),
    "groups": (1, limits.MAX_CHANNELS),
    "batch_size": (1, limits.MAX_BATCH_SIZE),
}
_DTYPES = frozenset(get_args(Dtype))


class ShapeItems(NamedTuple):
    """A batch's items as arrays: the layers, the per-item counts (``_COUNTS``, shape (n,)) and
    ``bias``, and the items the schema refuses (their rows hold neutral values)."""

    stack: LayerStack
    counts: dict[str, npt.NDArray[np.int64]]
    bias: list[Any]
    refused: npt.NDArray[np.bool_]


def read_shape_items(queries: Sequence[Mapping[str, Any]]) -> ShapeItems:
    """ShapeQuery's rules on every item at once: an int (or a whole-number float) or 1 to 3 of
    them per spatial field, each within its range; ints for the counts, a bool for ``bias``, a
    known ``dtype``, the two sizes required, no other field."""
    count = len(queries)
    keys: set[str] = set().union(*queries)
    stack = stack_layers(queries, keys)
    refused = stack.malformed.copy()
    counts: dict[str, npt.NDArray[np.int64]] = {}
    for name, (lo, hi) in _COUNTS.items():
        if name in keys:
            column = read_column(field_values(queries, name, 1), neutral=1, lo=lo, hi=hi, arrays=False)
            counts[name] = column.values[:, 0]
            refused |= column.malformed
        else:
            counts[name] = np.ones(count, dtype=np.int64)
    for key in keys - _FIELDS:
        refused |= np.fromiter(map(operator.contains, queries, repeat(key)), dtype=np.bool_, count=count)
    bias: list[Any] = [True] * count
    if "bias" in keys:
        bias = field_values(queries, "bias", True)
        refused |= np.array([type(value) is not bool for value in bias], dtype=np.bool_)
    if "dtype" in keys:
        dtypes = field_values(queries, "dtype", "float32")
        known = [type(value) is str and value in _DTYPES for value in dtypes]
        refused |= ~np.array(known, dtype=np.bool_)
    return ShapeItems(stack=stack, counts=counts, bias=bias, refused=refused)


def _refusals(queries: Sequence[Any], rows: list[int]) -> dict[int, JSON]:
    """The friendly validators' words for each refused item (after the whole-number floats are
    read as ints, as the column reader reads them)."""
    errors: dict[int, JSON] = {}
    for n in rows:
        try:
            ShapeQuery.model_validate(whole_numbers_as_ints(queries[n]))
        except ValidationError as exc:
            errors[n] = validation_error_item(exc)
        else:  # the two checks disagree: a bug (the property test's), and this item fails alone
            errors[n] = internal_error_item(AssertionError(f"item {n}: refused by the column reader only"))
    return errors


def answer_shape_batch(queries: Sequence[Any], *, basic: bool = True) -> list[JSON]:
    """Every item as /v1/shape would answer it, in order; a malformed item fails alone."""
    items = read_shape_items(queries)
    stack = items.stack
    checks = check_layers(
        **stack.fields,
        in_channels=items.counts["in_channels"],
        out_channels=items.counts["out_channels"],
        groups=items.counts["groups"],
    )
    errors = _refusals(queries, np.flatnonzero(items.refused).tolist())
    for n, message in stack.errors.items():
        # The schema's refusal comes first, as it always has: arrays are compared only once the
        # item is well-formed.
        errors.setdefault(n, batch_item_error("dimension_mismatch", message))
    if basic:
        return _basic_answers(stack, checks, errors)
    results: list[JSON] = []
    rows = {name: array.tolist() for name, array in stack.fields.items()}
    codes = checks.first_violation_index()[0].tolist()
    outputs = checks.output_size.tolist()
    counts = {name: array.tolist() for name, array in items.counts.items()}
    for n in range(len(queries)):
        if n in errors:
            results.append(errors[n])
            continue
        ndim = stack.ndim[n]
        layer = {name: tuple(values[n][:ndim]) for name, values in rows.items()}
        derivations = tuple(map(formula, *layer.values()))
        context = {name: values[n] for name, values in counts.items()}
        context["bias"] = items.bias[n]
        try:
            broken = () if codes[n] < 0 else _violations(context, stack, checks, n, derivations)
            results.append(_full_answer(context, layer, outputs[n][:ndim], derivations, broken))
        except Exception as exc:  # one item's explanation never fails the batch
            results.append(internal_error_item(exc))
    return results


def _basic_answers(stack: LayerStack, checks: LayerChecks, errors: dict[int, JSON]) -> list[JSON]:
    """The basic answers, built per kind of verdict rather than per item: a valid layer's answer
    per dimensionality from one slice of the outputs, a broken one shared by every layer that
    breaks the same rule in the same dimension (answers are never mutated once built)."""
    count = len(stack.ndim)
    answers = np.empty(count, dtype=object)
    code, dim = checks.first_violation_index()
    valid = code < 0
    ndim = np.array(stack.ndim, dtype=np.int64)
    for d in range(1, limits.MAX_SPATIAL_DIMS + 1):
        rows = valid & (ndim == d)
        if rows.any():
            outputs = checks.output_size[rows, :d].tolist()
            valid_answers = ({"valid": True, "output_size": size, "error": None} for size in outputs)
            # fromiter: a list of dicts would have numpy look into each dict for a shape.
            answers[rows] = np.fromiter(valid_answers, dtype=object, count=len(outputs))
    broken = np.flatnonzero(~valid)
    if broken.size:
        key = code[broken] * (limits.MAX_SPATIAL_DIMS + 1) + dim[broken] + 1
        shared = np.empty(len(VIOLATION_CODES) * (limits.MAX_SPATIAL_DIMS + 1), dtype=object)
        for k in np.unique(key).tolist():
            which, at = divmod(k, limits.MAX_SPATIAL_DIMS + 1)
            error = {"code": VIOLATION_CODES[which], "dim": at - 1 if at else None}
            shared[k] = {"valid": False, "output_size": None, "error": error}
        answers[broken] = shared[key]
    for n, error in errors.items():
        answers[n] = error
    results: list[JSON] = answers.tolist()
    return results


def _violations(
    context: Mapping[str, Any], stack: LayerStack, checks: LayerChecks, row: int, derivations: tuple[str, ...]
) -> tuple[RuleViolation, ...]:
    return violations_of(
        checks,
        row,
        ndim=stack.ndim[row],
        stride=stack.fields["stride"],
        output_padding=stack.fields["output_padding"],
        dilation=stack.fields["dilation"],
        in_channels=context["in_channels"],
        out_channels=context["out_channels"],
        groups=context["groups"],
        derivations=derivations,
    )


def _full_answer(
    context: Mapping[str, Any],
    layer: dict[str, Dims],
    output_size: list[int],
    derivations: tuple[str, ...],
    violations: Sequence[RuleViolation],
) -> JSON:
    input_size, kernel_size, stride, padding, output_padding, dilation = layer.values()
    ndim = len(input_size)
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
            in_channels=context["in_channels"],
            out_channels=context["out_channels"],
            groups=context["groups"],
            batch_size=context["batch_size"],
            bias=context["bias"],
        )
        params = tuple(map(DimParams, kernel_size, stride, dilation, padding, output_padding))
        answer["overlap"] = overlap_dict(input_size, params)
        answer["portability"] = portability_dict(params, context["groups"])
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
    # Fields at their defaults are left out: the batch reader fills those columns without reading them.
    return shape_answer(
        request.model_dump(exclude={"view"}, exclude_defaults=True), basic=request.view == "basic"
    )
