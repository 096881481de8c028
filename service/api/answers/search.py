"""/v1/search and /v1/search/batch answers: solver results as JSON-ready dicts.

Shared by the single and batch endpoints, so a batch item is answered exactly as the single
endpoint would answer it. The dicts have the shapes ``SearchResponse`` and ``CandidateOut``
document (tests/api/test_fast_paths.py validates them against the models); building models
and dumping them again cost more than the search itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError

from service.api.answers.views import basic_search
from service.api.dims import dims, ndim_of
from service.api.explain import (
    JSON,
    cost_dict,
    derivation_text,
    layer_dict,
    module_name,
    overlap_dict,
    portability_dict,
    snippet,
)
from service.api.gc_pause import gc_paused
from service.http.errors import batch_item_error, internal_error_item, validation_error_item
from service.http.responses import dumps
from service.solver.enumeration import SearchBounds, triple_budget_error
from service.solver.errors import SolverError
from service.solver.portability import layer_refusal
from service.solver.ranking import RankedCandidate
from service.solver.rules import check_layer
from service.solver.search import Budget, search
from service.solver.sizes import Dims
from service.wire.schemas import ChannelContext, LayerBounds, SearchQuery


def candidate_dict(
    found: RankedCandidate,
    context: ChannelContext,
    input_size: Dims,
    output_size: Sequence[int],
    *,
    basic: bool = False,
) -> JSON:
    """A candidate in the full view or, with ``basic``, the basic one (views.basic_candidate)."""
    layer = found.layer
    head: JSON = {
        "rank": found.rank,
        "layer": layer_dict(layer),
        "output_size": list(output_size),
        "score": found.score,
    }
    if basic:
        return head
    return {
        **head,
        "score_terms": found.terms,
        "derivation": [derivation_text(i, p) for i, p in zip(input_size, layer, strict=True)],
        "snippet": snippet(
            tuple(layer), context.in_channels, context.out_channels, context.groups, context.bias
        ),
        "cost": cost_dict(
            input_size,
            [p.kernel_size for p in layer],
            in_channels=context.in_channels,
            out_channels=context.out_channels,
            groups=context.groups,
            batch_size=context.batch_size,
            bias=context.bias,
        ),
        "overlap": overlap_dict(input_size, layer),
        "portability": portability_dict(tuple(layer), context.groups),
        "verification": None,
    }


def channel_reason(context: ChannelContext) -> str | None:
    if context.groups == 1:
        return None
    check = check_layer(
        (1,),
        kernel_size=(1,),
        stride=(1,),
        padding=(0,),
        output_padding=(0,),
        dilation=(1,),
        in_channels=context.in_channels,
        out_channels=context.out_channels,
        groups=context.groups,
    )
    return "; ".join(v.message for v in check.violations) or None


def groups_reason(targets: Sequence[str], groups: int) -> str | None:
    """A target that refuses every layer with these groups (Keras has none), else None."""
    refusals = [reason for target in targets if (reason := layer_refusal(target, (1,), (1,), groups))]
    return "; ".join(refusals) or None


def search_bounds(request: LayerBounds) -> SearchBounds:
    return SearchBounds(
        kernel_size=request.kernel_size.to_bound(1),
        stride=request.stride.to_bound(1),
        dilation=request.dilation.to_bound(1),
        padding=request.padding.to_bound(0) if request.padding is not None else None,
        output_padding=request.output_padding.to_bound(0) if request.output_padding is not None else None,
        portable_to=tuple(dict.fromkeys(request.portable_to)),
    )


def search_ndim(request: SearchQuery) -> int:
    sizes = [request.input_size, request.output_size]
    return max((len(size) for size in sizes if isinstance(size, tuple)), default=2)


def search_work(request: SearchQuery) -> int:
    """Upper bound on the (kernel, stride, dilation) triples the solver visits, times dimensions."""
    return search_bounds(request).triple_count * search_ndim(request)


def _sizes(request: SearchQuery) -> tuple[Dims, Dims]:
    ndim = ndim_of(input_size=request.input_size, output_size=request.output_size)
    return dims(request.input_size, ndim, "input_size"), dims(request.output_size, ndim, "output_size")


def answer_search(
    request: SearchQuery, budget: Budget, *, basic: bool = False, bounds: SearchBounds | None = None
) -> JSON:
    """The /v1/search answer (objective ``latency`` is verification.search_by_latency's), in the
    full view or, with ``basic``, the basic one (views.basic_search of the full answer).
    ``bounds``: the request's ``search_bounds``, when the caller has them already."""
    input_size, output_size = _sizes(request)
    if request.objective == "latency":
        # Only /v1/search can measure (see api.verification); batches and solver calls cannot.
        raise SolverError(
            "objective_unavailable",
            "objective 'latency' measures every candidate on the worker and is answered by /v1/search "
            "only; use 'balanced', 'quality', 'cost' or 'conventional' here",
            field="objective",
        )
    answer: JSON = {
        "total": 0,
        "candidates": [],
        "objective": request.objective,
        "tie_dims": request.tie_dims,
        "module": module_name(len(input_size)),
        "input_size": list(input_size),
        "output_size": list(output_size),
        "offset": request.offset,
        "limit": request.limit,
        "reason": None,
        "nearest": [],
    }
    blocked = channel_reason(request) or groups_reason(request.portable_to, request.groups)
    if blocked:
        # Like /v1/shape, a rule PyTorch enforces is an answer: nothing in the space is valid.
        answer["reason"] = blocked
        return basic_search(answer) if basic else answer
    result = search(
        input_size,
        output_size,
        bounds=search_bounds(request) if bounds is None else bounds,
        tie_dims=request.tie_dims,
        objective=request.objective,
        offset=request.offset,
        limit=request.limit,
        budget=budget,
    )
    candidates = [
        candidate_dict(found, request, input_size, output_size, basic=basic) for found in result.candidates
    ]
    nearest = [
        {
            "direction": near.direction,
            "output_size": list(near.output_size),
            "example": candidate_dict(near.example, request, input_size, near.output_size, basic=basic),
        }
        for near in result.nearest
    ]
    if basic:
        lean: JSON = {"total": result.total, "candidates": candidates}
        if result.total == 0:
            lean["reason"], lean["nearest"] = result.reason, nearest
        return lean
    answer["total"] = result.total
    answer["candidates"] = candidates
    answer["reason"] = result.reason
    answer["nearest"] = nearest
    return answer


def _error_item(exc: ValidationError | SolverError) -> JSON:
    if isinstance(exc, ValidationError):
        return validation_error_item(exc)
    return batch_item_error(exc.code, exc.message)


def answer_search_batch(
    queries: Sequence[Any], budget: Budget, *, max_work: int, basic: bool = True
) -> list[JSON]:
    """Every item as /v1/search would answer it; the whole batch's work is capped up front."""
    parsed: list[tuple[SearchQuery, SearchBounds] | JSON] = []
    work = 0
    for query in queries:
        try:
            item = SearchQuery.model_validate(query)
        except ValidationError as exc:
            parsed.append(_error_item(exc))
            continue
        # An item over its own budget fails alone (as /v1/search would) and costs the batch nothing.
        bounds, ndim = search_bounds(item), search_ndim(item)
        over = triple_budget_error(bounds, ndim, budget.max_triples)
        if over is None:
            parsed.append((item, bounds))
            work += bounds.triple_count * ndim  # search_work
        else:
            parsed.append(_error_item(over))
    if work > max_work:
        raise SolverError(
            "batch_too_large",
            f"the batch holds {work:,} (kernel_size, stride, dilation) combinations × dimensions; the "
            f"budget per batch is {max_work:,}: split it or narrow the bounds",
            field="queries",
        )
    results: list[JSON] = []
    for entry in parsed:
        if not isinstance(entry, tuple):
            results.append(entry)
            continue
        try:
            results.append(answer_search(entry[0], budget, basic=basic, bounds=entry[1]))
        except SolverError as exc:
            results.append(_error_item(exc))
        except Exception as exc:  # one item never fails the batch
            results.append(internal_error_item(exc))
    return results


def search_batch_json(queries: Sequence[Any], budget: Budget, *, max_work: int, basic: bool = True) -> bytes:
    """The /v1/search/batch body, built and encoded with the collector paused (gc_pause.py)."""
    with gc_paused():
        return dumps({"results": answer_search_batch(queries, budget, max_work=max_work, basic=basic)})
