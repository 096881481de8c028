"""/v1/search/batch on the batched core: items parsed as SearchQuery parses them, each answered as
alone, the batch's summed ranking work capped as a whole."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from hypothesis import example, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from service.api.answers.search import SearchItem, answer_search, answer_search_batch, parse_search_items
from service.api.config import Settings
from service.api.main import create_app
from service.http.errors import batch_item_error
from service.solver import limits
from service.solver.errors import SolverError
from service.solver.search import Budget
from service.wire.schemas import SearchQuery

_INTS = st.sampled_from([-1, 0, 1, 2, 3, 7, 14, 1024, limits.MAX_SIZE, limits.MAX_SIZE + 1])
_ODD = st.sampled_from([True, 2.0, "3", None, {}])
_SIZE = st.one_of(_INTS, _ODD, st.lists(st.one_of(_INTS, _ODD), max_size=4))
_SETTING = st.fixed_dictionaries(
    {},
    optional={
        "kernel_size": st.one_of(_INTS, st.just({"min": 2, "max": 5}), st.just({"min": 5, "max": 2})),
        "stride": st.one_of(st.just([1, 2]), st.just({"max": 3}), _ODD),
        "limit": st.one_of(_INTS, _ODD),
        "offset": st.sampled_from([0, 3, -1]),
        "objective": st.sampled_from(["balanced", "cost", "latency", "fastest"]),
        "tie_dims": st.sampled_from([True, False, 1]),
        "groups": st.sampled_from([1, 2]),
        "in_channels": st.sampled_from([2, 3]),
        "portable_to": st.sampled_from([[], ["onnx"], ["keras"], ["nope"]]),
        "unknown": st.just(1),
    },
)
_ITEM = st.builds(
    lambda sizes, setting: {**sizes, **setting},
    st.fixed_dictionaries({}, optional={"input_size": _SIZE, "output_size": _SIZE}),
    _SETTING,
)
# Few distinct settings and sizes, so that items share them as a real batch's do.
_ITEMS = st.lists(st.one_of(_ITEM, st.sampled_from([None, 3, "x", []])), min_size=1, max_size=12)


def _validated(query: Any) -> SearchQuery | str:
    try:
        return SearchQuery.model_validate(query)
    except ValidationError as exc:
        return f"refused: {len(exc.errors())} errors"


@settings(max_examples=300)
@given(_ITEMS)
# Items sharing their settings share one model: each must still get its own sizes.
@example(
    [
        {"input_size": 3, "output_size": 7},
        {"input_size": [2, 5], "output_size": 14},
        {"input_size": 1, "output_size": 2},
    ]
)
def test_items_are_parsed_exactly_as_search_query_parses_each(items: list[Any]) -> None:
    for item, parsed in zip(items, parse_search_items(items), strict=True):
        alone = _validated(item)
        if isinstance(alone, SearchQuery):
            assert isinstance(parsed, SearchItem)
            # The settings' model is shared by the items that share them; the sizes are the item's.
            sizes = {"input_size": parsed.input_size, "output_size": parsed.output_size}
            assert parsed.settings.model_copy(update=sizes).model_dump() == alone.model_dump()
        else:
            assert not isinstance(parsed, SearchItem)
            assert parsed["error"]["code"] == "invalid_request"


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(1, 12), st.integers(1, 40), st.sampled_from([{}, {"limit": 2}, {"tie_dims": False}])
        ),
        min_size=1,
        max_size=10,
    ),
    st.booleans(),
)
def test_each_batch_item_is_answered_as_alone(
    queries: list[tuple[int, int, dict[str, Any]]], basic: bool
) -> None:
    items = [{"input_size": i, "output_size": o, **extra} for i, o, extra in queries]
    budget = Budget(max_work=4_000_000)
    answers = answer_search_batch(items, budget, max_work=10**9, basic=basic)
    for item, answer in zip(items, answers, strict=True):
        assert answer == answer_search(SearchQuery.model_validate(item), budget, basic=basic)


def test_the_batch_ranking_work_is_capped_as_a_whole() -> None:
    # Each item is well within the per-search ranking budget; together they are not.
    item = {"input_size": 64, "output_size": 128, "kernel_size": {"max": 64}, "stride": {"max": 8}}
    items = [{**item, "output_size": 128 + n} for n in range(40)]
    with TestClient(create_app(Settings(max_search_work=20_000, verify_mode="off"))) as small:
        assert small.post("/v1/search", json=item).status_code == 200
        response = small.post("/v1/search/batch", json={"queries": items})
        assert small.post("/v1/search/batch", json={"queries": items[:1]}).status_code == 200
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "batch_too_large"
    assert "20,000" in error["message"]
    assert "split the batch" in error["message"]


def test_settings_that_cannot_be_compared_as_bytes_are_validated_alone() -> None:
    huge = {"input_size": 7, "output_size": 14, "limit": 10**30}
    odd = {"input_size": 7, "output_size": 14, "stride": {"max": 2, "min": 2**70}}
    answers = answer_search_batch([huge, odd, {"input_size": 7, "output_size": 14}], Budget(), max_work=10**9)
    assert answers[0]["error"]["code"] == answers[1]["error"]["code"] == "invalid_request"
    assert answers[2]["total"] == 15


def test_a_fault_in_the_shared_pass_fails_only_the_items_it_concerns(monkeypatch: Any) -> None:
    from service.api.answers import search as answers

    real = answers.search_many

    def broken(queries: Any, **options: Any) -> Any:
        if any(query[0] == (5, 5) for query in queries):
            raise RuntimeError("injected")
        return real(queries, **options)

    monkeypatch.setattr(answers, "search_many", broken)
    items = [{"input_size": 5, "output_size": 10}, {"input_size": 7, "output_size": 14}]
    failed, answered = answer_search_batch(items, Budget(), max_work=10**9)
    assert failed["error"]["code"] == "internal_error"
    assert answered["total"] == 15


def test_items_refused_before_the_search_name_what_v1_search_names() -> None:
    """Sizes that disagree, a budget the bounds exceed, latency, a channel rule, with and without
    shared settings, some items refused for two reasons: a batch checks an item as /v1/search
    does (``answer_search``: the sizes, then the objective and the channel rules, then the triple
    budget of the item's dimensions: 40,000 triples fit in 1 or 2 dimensions, not 3), so each
    item names the same refusal, or gets the same answer, as it would alone."""
    wide = {"kernel_size": {"max": 200}, "stride": {"max": 200}}
    items: list[dict[str, Any]] = [
        {"input_size": [4, 5], "output_size": [8, 10, 12]},
        {"input_size": [4, 5], "output_size": [8, 10, 12], **wide},
        {"input_size": 4, "output_size": [8, 10, 12], **wide},
        {"input_size": [4, 5], "output_size": [8, 10, 12], "objective": "latency"},
        {"input_size": 4, "output_size": [8, 10, 12], "objective": "latency", **wide},
        {"input_size": 4, "output_size": 8, "objective": "latency"},
        {"input_size": [4, 4, 4], "output_size": 8, "in_channels": 3, "groups": 2},
        {"input_size": [4, 4, 4], "output_size": 8, "in_channels": 3, "groups": 2, **wide},
        {"input_size": 4, "output_size": [8, 9]},
        {"input_size": 4, "output_size": 8},
    ]
    budget = Budget(max_triples=100_000)
    answers = answer_search_batch(items, budget, max_work=10**9)
    assert [answer.get("error", {}).get("code") for answer in answers] == [
        "dimension_mismatch",
        "dimension_mismatch",
        "space_too_large",
        "dimension_mismatch",
        "objective_unavailable",
        "objective_unavailable",
        None,
        None,
        None,
        None,
    ]
    for item, answer in zip(items, answers, strict=True):
        try:
            alone = answer_search(SearchQuery.model_validate(item), budget, basic=True)
        except SolverError as exc:
            alone = batch_item_error(exc.code, exc.message)
        assert answer == alone, item
    for blocked in answers[6:8]:  # the channel rule answers, whatever the bounds
        assert blocked["total"] == 0
        assert "groups" in blocked["reason"]
