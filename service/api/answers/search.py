"""/v1/search and /v1/search/batch answers: solver results as JSON-ready dicts.

Shared by the single and batch endpoints, so a batch item is answered exactly as the single
endpoint would answer it. The dicts have the shapes ``SearchResponse`` and ``CandidateOut``
document (tests/api/test_fast_paths.py validates them against the models); building models
and dumping them again cost more than the search itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, NamedTuple

import orjson
from pydantic import Field, StrictInt, TypeAdapter, ValidationError
from typing_extensions import TypedDict

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
from service.solver import limits
from service.solver.cancel import CancelledError, checkpoint
from service.solver.enumeration import SearchBounds, triple_budget_error
from service.solver.errors import SolverError
from service.solver.memo import Memo
from service.solver.portability import groups_refusal
from service.solver.ranking import RankedCandidate
from service.solver.rules import channels_refusal
from service.solver.search import BatchWork, Budget, SearchResult, search_many
from service.solver.sizes import Dims
from service.wire.schemas import ChannelContext, LayerBounds, Range, SearchQuery

# A layer's JSON form, shared by every answer that shows the layer (the same layers recur across
# the sizes of a batch and of successive requests); answers never mutate it.
_LAYERS: Memo[JSON] = Memo(max_entries=1 << 14, max_item=1)


def candidate_dict(
    found: RankedCandidate,
    context: ChannelContext,
    input_size: Dims,
    output_size: list[int],
    *,
    basic: bool = False,
) -> JSON:
    """A candidate in the full view or, with ``basic``, the basic one (views.basic_candidate).
    ``output_size`` goes into the answer as it is (not copied)."""
    layer = found.layer
    shown = _LAYERS.get(layer)
    if shown is None:
        shown = _LAYERS.put(layer, layer_dict(layer), 1)
    head: JSON = {
        "rank": found.rank,
        "layer": shown,
        "output_size": output_size,
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
    return channels_refusal(context.in_channels, context.out_channels, context.groups)


def _range_key(bound: Range | None) -> tuple[int | None, int | None, tuple[int, ...] | None] | None:
    if bound is None:
        return None
    return (bound.min, bound.max, None if bound.values is None else tuple(bound.values))


# Requests name few distinct bounds (most send none): each SearchBounds is built once, from the
# request's Range fields, and kept (it is immutable).
_BOUNDS: Memo[SearchBounds] = Memo(max_entries=1 << 10, max_item=1)


def search_bounds(request: LayerBounds) -> SearchBounds:
    key = (
        _range_key(request.kernel_size),
        _range_key(request.stride),
        _range_key(request.dilation),
        _range_key(request.padding),
        _range_key(request.output_padding),
        tuple(request.portable_to),
    )
    bounds = _BOUNDS.get(key)
    if bounds is None:
        bounds = SearchBounds(
            kernel_size=request.kernel_size.to_bound(1),
            stride=request.stride.to_bound(1),
            dilation=request.dilation.to_bound(1),
            padding=request.padding.to_bound(0) if request.padding is not None else None,
            output_padding=request.output_padding.to_bound(0) if request.output_padding is not None else None,
            portable_to=tuple(dict.fromkeys(request.portable_to)),
        )
        _BOUNDS.put(key, bounds, 1)
    return bounds


def search_ndim(request: SearchQuery) -> int:
    return _ndim(request.input_size, request.output_size)


def _ndim(input_size: int | tuple[int, ...], output_size: int | tuple[int, ...]) -> int:
    return max((len(size) for size in (input_size, output_size) if isinstance(size, tuple)), default=2)


def search_work(request: SearchQuery, bounds: SearchBounds | None = None) -> int:
    """Upper bound on the (kernel, stride, dilation) triples the solver visits, times dimensions.
    ``bounds``: the request's ``search_bounds``, when the caller has them already."""
    return (search_bounds(request) if bounds is None else bounds).triple_count * search_ndim(request)


def _sizes(request: SearchQuery) -> tuple[Dims, Dims]:
    return _item_sizes(request.input_size, request.output_size)


def answer_search(
    request: SearchQuery,
    budget: Budget,
    *,
    basic: bool = False,
    bounds: SearchBounds | None = None,
    result: SearchResult | SolverError | None = None,
    sizes: tuple[Dims, Dims] | None = None,
) -> JSON:
    """The /v1/search answer (objective ``latency`` is verification.search_by_latency's), in the
    full view or, with ``basic``, the basic one (views.basic_search of the full answer).
    ``bounds``: the request's ``search_bounds``, when the caller has them already; ``result``: the
    solver's answer to it, when a batch has searched it already (``search_many``), with ``sizes``,
    its sizes as ``search_many`` had them. A batch searches only settings that no channel rule
    blocks (``answered_without_search``), so with a ``result`` those rules are not checked again."""
    input_size, output_size = _sizes(request) if sizes is None else sizes
    if request.objective == "latency":
        # Only /v1/search can measure (see api.verification); batches and solver calls cannot.
        raise SolverError(
            "objective_unavailable",
            "objective 'latency' measures every candidate on the worker and is answered by /v1/search "
            "only; use 'balanced', 'quality', 'cost' or 'conventional' here",
            field="objective",
        )
    blocked = (
        None
        if result is not None
        else channel_reason(request) or groups_refusal(request.portable_to, request.groups)
    )
    if blocked:
        # Like /v1/shape, a rule PyTorch enforces is an answer: nothing in the space is valid.
        answer = _full_answer(request, input_size, output_size, 0, [], blocked, [])
        return basic_search(answer) if basic else answer
    if result is None:
        (result,) = search_many(
            [(input_size, output_size)],
            bounds=search_bounds(request) if bounds is None else bounds,
            tie_dims=request.tie_dims,
            objective=request.objective,
            offset=request.offset,
            limit=request.limit,
            budget=budget,
        )
    if isinstance(result, SolverError):
        raise result
    # One list per size, shared by the candidates that show it (answers are encoded, not mutated).
    shown = list(output_size)
    candidates = [
        candidate_dict(found, request, input_size, shown, basic=basic) for found in result.candidates
    ]
    nearest = []
    for near in result.nearest:
        near_size = list(near.output_size)
        nearest.append(
            {
                "direction": near.direction,
                "output_size": near_size,
                "example": candidate_dict(near.example, request, input_size, near_size, basic=basic),
            }
        )
    if basic:
        lean: JSON = {"total": result.total, "candidates": candidates}
        if result.total == 0:
            lean["reason"], lean["nearest"] = result.reason, nearest
        return lean
    return _full_answer(request, input_size, output_size, result.total, candidates, result.reason, nearest)


def _full_answer(
    request: SearchQuery,
    input_size: Dims,
    output_size: Dims,
    total: int,
    candidates: list[JSON],
    reason: str | None,
    nearest: list[JSON],
) -> JSON:
    return {
        "total": total,
        "candidates": candidates,
        "objective": request.objective,
        "tie_dims": request.tie_dims,
        "module": module_name(len(input_size)),
        "input_size": list(input_size),
        "output_size": list(output_size),
        "offset": request.offset,
        "limit": request.limit,
        "reason": reason,
        "nearest": nearest,
    }


def _error_item(exc: ValidationError | SolverError) -> JSON:
    if isinstance(exc, ValidationError):
        return validation_error_item(exc)
    return batch_item_error(exc.code, exc.message)


_Size = Annotated[StrictInt, Field(ge=1, le=limits.MAX_SIZE)]
_SizeField = _Size | Annotated[list[_Size], Field(min_length=1, max_length=limits.MAX_SPATIAL_DIMS)]


class _Sizes(TypedDict):
    """The two sizes of a search item, as ``Size`` accepts them (strict ints, 1 to 3 of them);
    the item's other fields are its settings, checked once per distinct settings."""

    input_size: _SizeField
    output_size: _SizeField


SEARCH_SIZES: TypeAdapter[list[_Sizes]] = TypeAdapter(list[_Sizes])
_SIZE_FIELDS = ("input_size", "output_size")


def _as_size(value: int | list[int]) -> int | tuple[int, ...]:
    return tuple(value) if isinstance(value, list) else value  # as Size's validator makes it


def _settings_key(query: dict[str, Any]) -> bytes | None:
    """The item's fields other than its sizes, as comparable bytes; None when they cannot be
    encoded (an integer past 64 bits, say): then the item is validated on its own."""
    if len(query) == 2:  # the sizes alone (SEARCH_SIZES requires both): default settings
        return b""
    rest = {key: value for key, value in query.items() if key not in _SIZE_FIELDS}
    try:
        return orjson.dumps(rest, option=orjson.OPT_SORT_KEYS)
    except TypeError:  # orjson.JSONEncodeError
        return None


class SearchItem(NamedTuple):
    """A valid item: its sizes, as ``SearchQuery`` holds them, and a model with its settings,
    shared by the items that share them (its own sizes are the first such item's)."""

    settings: SearchQuery
    input_size: int | tuple[int, ...]
    output_size: int | tuple[int, ...]


def parse_search_items(queries: Sequence[Any]) -> list[SearchItem | JSON]:
    """Each item as ``SearchQuery`` validates it, or its error item.

    A search item's fields are checked each on its own (no rule joins two of them), so the sizes of
    every item are checked at once by ``SEARCH_SIZES``, natively, and the other fields (the
    settings: bounds, objective, page, channels) once per distinct settings: a batch's items mostly
    share theirs, and share one model of them. An item refused by either goes through
    ``SearchQuery`` whole, whose validators word the error (and answer it, should they accept it
    after all).
    """
    try:
        SEARCH_SIZES.validate_python(queries)
    except ValidationError as exc:
        refused = {error["loc"][0] for error in exc.errors()}
    else:
        refused = set()
    settings: dict[bytes, SearchQuery | None] = {}
    parsed: list[SearchItem | JSON] = []
    for n, query in enumerate(queries):
        key = _settings_key(query) if n not in refused and type(query) is dict else None
        if key is not None:
            shared = settings.get(key)
            if shared is not None:
                parsed.append(
                    SearchItem(shared, _as_size(query["input_size"]), _as_size(query["output_size"]))
                )
                continue
            if key in settings:  # these settings were refused: their error item, worded once more
                key = None
        try:
            model = SearchQuery.model_validate(query)
        except ValidationError as exc:
            if key is not None:
                settings[key] = None
            parsed.append(_error_item(exc))
            continue
        if key is not None:
            settings[key] = model
        parsed.append(SearchItem(model, model.input_size, model.output_size))
    return parsed


def answer_search_batch(
    queries: Sequence[Any], budget: Budget, *, max_work: int, basic: bool = True
) -> list[JSON]:
    """Every item as /v1/search would answer it; the whole batch's work is capped up front.

    Items with the same settings are searched together (``search_many``), so the batch shares the
    solver's phases; each item's answer is then built as /v1/search builds it. The batch's summed
    ranking work is capped by the per-request ``budget.max_work``: ``batch_too_large`` before any
    settings group is ranked past it.
    """
    parsed = parse_search_items(queries)
    results: list[JSON | None] = [None] * len(parsed)
    groups: dict[int, list[tuple[int, tuple[Dims, Dims]]]] = {}
    models: dict[int, SearchQuery] = {}
    bounds_of: dict[int, SearchBounds] = {}
    unsearched: dict[int, bool] = {}
    work = 0
    for n, item in enumerate(parsed):
        if not isinstance(item, SearchItem):
            results[n] = item
            continue
        model = item.settings
        settings = id(model)
        bounds = bounds_of.get(settings)
        if bounds is None:
            bounds = bounds_of[settings] = search_bounds(model)
            models[settings] = model
        try:
            sizes = _item_sizes(item.input_size, item.output_size)
        except SolverError as exc:  # as answer_search would refuse the item, before it searches
            results[n] = _error_item(exc)
            continue
        if settings not in unsearched:
            unsearched[settings] = answered_without_search(model)
        if not unsearched[settings]:  # else answer_search refuses or answers it: no budget applies
            ndim = len(sizes[0])
            # An item over its own budget fails alone (as /v1/search would) and costs the batch
            # nothing.
            over = triple_budget_error(bounds, ndim, budget.max_triples)
            if over is not None:
                results[n] = _error_item(over)
                continue
            work += bounds.triple_count * ndim  # search_work
        groups.setdefault(settings, []).append((n, sizes))
    if work > max_work:
        raise SolverError(
            "batch_too_large",
            f"the batch holds {work:,} (kernel_size, stride, dilation) combinations × dimensions; the "
            f"budget per batch is {max_work:,}: split it or narrow the bounds",
            field="queries",
        )
    ranking = BatchWork(budget.max_work)
    for settings, members in groups.items():
        checkpoint()
        model, bounds = models[settings], bounds_of[settings]
        try:
            found = _search_group(model, [sizes for _, sizes in members], bounds, budget, ranking)
        except (SolverError, CancelledError):
            raise
        except Exception:
            # A fault in the shared pass: each item is searched alone below, so that one item's
            # fault fails that item only (issue 14).
            found = [None] * len(members)
        for (n, sizes), result in zip(members, found, strict=True):
            try:
                results[n] = answer_search(
                    model, budget, basic=basic, bounds=bounds, result=result, sizes=sizes
                )
            except SolverError as exc:
                results[n] = _error_item(exc)
            except CancelledError:
                raise  # the caller has gone: no item is answered
            except Exception as exc:  # one item never fails the batch
                results[n] = internal_error_item(exc)
    return [result for result in results if result is not None]


def _item_sizes(input_size: int | tuple[int, ...], output_size: int | tuple[int, ...]) -> tuple[Dims, Dims]:
    """``_sizes`` of an item's sizes; two bare ints (most items) are 2-D without the general path."""
    if type(input_size) is int and type(output_size) is int:
        return (input_size, input_size), (output_size, output_size)
    ndim = ndim_of(input_size=input_size, output_size=output_size)
    return dims(input_size, ndim, "input_size"), dims(output_size, ndim, "output_size")


def answered_without_search(model: SearchQuery) -> bool:
    """``answer_search`` refuses the objective (latency) or answers from a channel rule alone."""
    return bool(
        model.objective == "latency"
        or channel_reason(model)
        or groups_refusal(model.portable_to, model.groups)
    )


def _search_group(
    model: SearchQuery,
    queries: list[tuple[Dims, Dims]],
    bounds: SearchBounds,
    budget: Budget,
    ranking: BatchWork,
) -> list[SearchResult | SolverError | None]:
    """The solver's answers to items sharing their settings (``model``'s), searched as one batch;
    None where ``answer_search`` answers without searching (a channel rule blocks, latency)."""
    if answered_without_search(model):
        return [None] * len(queries)
    return list(
        search_many(
            queries,
            bounds=bounds,
            tie_dims=model.tie_dims,
            objective=model.objective,
            offset=model.offset,
            limit=model.limit,
            budget=budget,
            batch_work=ranking,
        )
    )


def search_batch_json(queries: Sequence[Any], budget: Budget, *, max_work: int, basic: bool = True) -> bytes:
    """The /v1/search/batch body, built and encoded with the collector paused (gc_pause.py)."""
    with gc_paused():
        return dumps({"results": answer_search_batch(queries, budget, max_work=max_work, basic=basic)})
