"""The hot paths change speed only: the column reader accepts exactly the batch items that
ShapeQuery accepts (once whole-number floats are read as ints, as the HTTP layer reads them),
the dict answers validate against the documented models, and the explanation dicts equal what
the solver's own overlap and cost functions say."""

from __future__ import annotations

import gc
import threading
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import example, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from service.api.answers.search import answer_search
from service.api.answers.shape import answer_shape_batch, read_shape_items, shape_answer
from service.api.explain import cost_dict, overlap_dict
from service.api.gc_pause import gc_paused
from service.http.routing import whole_numbers_as_ints
from service.solver import limits
from service.solver.cost import layer_cost
from service.solver.enumeration import DimParams
from service.solver.overlap import overlap_of_layer
from service.solver.search import Budget
from service.wire.schemas import SearchRequest, SearchResponse, ShapeQuery, ShapeResponse

# Values near every bound, whole-number floats (ints to JSON Schema), and what strict ints refuse.
_INTS = st.sampled_from(
    [-1, 0, 1, 2, 3, 7, 1023, 1024, 1025, limits.MAX_SIZE, limits.MAX_SIZE + 1, 2**63, -(2**64)]
)
_ODD = st.sampled_from([True, False, 2.0, 3.0, -0.0, 2.5, 1e300, 2.0**53, "3", None, {}, [[2]]])
_VALUE = st.one_of(_INTS, _ODD, st.lists(st.one_of(_INTS, _INTS, _ODD), max_size=4))
_FIELDS = [
    "input_size",
    "kernel_size",
    "stride",
    "padding",
    "output_padding",
    "dilation",
    "in_channels",
    "out_channels",
    "groups",
    "batch_size",
    "bias",
    "dtype",
    "unknown",
]
_REQUEST = st.dictionaries(
    st.sampled_from(_FIELDS),
    st.one_of(_VALUE, st.sampled_from(["float32", "float16", "int8"])),
    max_size=8,
)
# Well-formed items with at most one odd value, so that a batch mixes accepted and refused items
# column by column and each refusal has one cause.
_SMALL = st.integers(1, 4)
_DIMS = st.one_of(_SMALL, st.lists(_SMALL, min_size=1, max_size=3))
_WELL_FORMED = st.fixed_dictionaries(
    {"input_size": _DIMS, "kernel_size": _DIMS},
    optional={
        **dict.fromkeys(("stride", "padding", "output_padding", "dilation"), _DIMS),
        **dict.fromkeys(("in_channels", "out_channels", "groups", "batch_size"), _SMALL),
        "bias": st.booleans(),
        "dtype": st.sampled_from(["float32", "bfloat16"]),
    },
)
_ODD_VALUE = st.one_of(
    _INTS,
    _ODD,
    st.lists(_SMALL, min_size=0, max_size=5),
    st.lists(st.one_of(_SMALL, _INTS, _ODD), min_size=1, max_size=3),
    st.sampled_from(["float16", "int8"]),
)
_ONE_ODD = st.tuples(_WELL_FORMED, st.sampled_from(_FIELDS), _ODD_VALUE).map(
    lambda odd: {**odd[0], odd[1]: odd[2]}
)


def _accepts(validate: Any, query: dict[str, Any]) -> bool:
    try:
        validate(query)
    except ValidationError:
        return False
    return True


@settings(max_examples=400)
@example([{"input_size": 3, "kernel_size": [1, 1, 1, 1]}, {"input_size": 3, "kernel_size": []}])
@example([{"input_size": 3, "kernel_size": 2, "stride": True}])
@example(
    [{"input_size": [3, 3], "kernel_size": 2, "padding": [1, 2.5]}, {"input_size": 3, "kernel_size": [2.0]}]
)
@example([{"input_size": 2**63, "kernel_size": 2.0**53, "groups": 1.0, "bias": 1}])
@example(
    [{"input_size": [3, 3], "kernel_size": ["3],[4", 2]}, {"input_size": 3, "kernel_size": [2, 2, 2, 2]}]
)
@example([{"input_size": [[3], 4], "kernel_size": 2}, {"input_size": [3, -1], "kernel_size": [-0.0]}])
@given(st.lists(st.one_of(_REQUEST, _WELL_FORMED, _ONE_ODD), min_size=1, max_size=12))
def test_the_column_reader_accepts_exactly_what_shape_query_accepts(queries: list[dict[str, Any]]) -> None:
    refused = read_shape_items(queries).refused.tolist()
    for query, was_refused in zip(queries, refused, strict=True):
        accepted = _accepts(ShapeQuery.model_validate, whole_numbers_as_ints(query))
        assert accepted == (not was_refused), query


@settings(max_examples=300)
@given(st.lists(st.one_of(_WELL_FORMED, _WELL_FORMED, _ONE_ODD), min_size=1, max_size=12), st.booleans())
def test_each_item_of_a_batch_gets_the_answer_of_its_validated_form_alone(
    queries: list[dict[str, Any]], basic: bool
) -> None:
    # The column reader reads each value where it lies in the batch's text; the oracle reads one
    # item through ShapeQuery, ints only, in a batch of one.
    answers = answer_shape_batch(queries, basic=basic)
    for query, answer in zip(queries, answers, strict=True):
        try:
            validated = ShapeQuery.model_validate(whole_numbers_as_ints(query)).model_dump()
        except ValidationError:
            assert answer["error"]["code"] == "invalid_request", (query, answer)
            continue
        assert answer == answer_shape_batch([validated], basic=basic)[0], query


_SMALL_DIMS = st.integers(1, 3).flatmap(
    lambda n: st.tuples(
        *[
            st.tuples(
                st.integers(1, 40),
                st.integers(1, 9),
                st.integers(1, 5),
                st.integers(1, 3),
                st.integers(0, 6),
                st.integers(0, 5),
            )
        ]
        * n
    )
)


@given(_SMALL_DIMS, st.integers(1, 4), st.integers(1, 8), st.integers(1, 8), st.booleans())
def test_shape_answers_match_the_models_and_the_solver(
    dims: tuple[tuple[int, ...], ...], groups: int, cin: int, cout: int, scalar: bool
) -> None:
    input_size, kernel, stride, dilation, padding, output_padding = (list(x) for x in zip(*dims, strict=True))
    query: dict[str, Any] = {
        "input_size": input_size,
        "kernel_size": kernel[0] if scalar and len(set(kernel)) == 1 else kernel,
        "stride": stride,
        "padding": padding,
        "output_padding": output_padding,
        "dilation": dilation,
        "groups": groups,
        "in_channels": cin,
        "out_channels": cout,
    }
    answer = shape_answer(query)
    assert answer == shape_answer(ShapeQuery.model_validate(query).model_dump())
    assert answer == shape_answer({name: _as_floats(value) for name, value in query.items()})
    assert ShapeResponse.model_validate(answer).model_dump() == answer
    if answer["valid"]:
        layer = [DimParams(*p) for p in zip(kernel, stride, dilation, padding, output_padding, strict=True)]
        overlap = overlap_of_layer(input_size, layer)
        got = overlap_dict(input_size, layer)
        assert (got["min_count"], got["max_count"], got["holes"]) == (
            overlap.min_count,
            overlap.max_count,
            overlap.holes,
        )
        assert (got["checkerboard"], got["uniform_interior"]) == (
            overlap.is_checkerboard,
            overlap.uniform_interior,
        )
        cost = layer_cost(tuple(input_size), tuple(kernel), in_channels=cin, out_channels=cout, groups=groups)
        assert cost_dict(
            input_size, kernel, in_channels=cin, out_channels=cout, groups=groups, batch_size=1, bias=True
        ) == {"parameters": cost.parameters, "macs": cost.macs}


def test_a_refused_item_is_worded_by_the_friendly_validator() -> None:
    [item] = answer_shape_batch([{"input_size": 7, "kernel_size": 0}])
    assert item["error"]["code"] == "invalid_request"
    assert item["error"]["details"][0]["field"] == "kernel_size"
    assert "1..1024" in item["error"]["message"]


def test_gc_is_paused_inside_and_restored_after_overlapping_and_failing_sections() -> None:
    assert gc.isenabled()
    entered, release = threading.Event(), threading.Event()

    def other_batch() -> None:
        with gc_paused():
            entered.set()
            release.wait(5)

    thread = threading.Thread(target=other_batch)
    thread.start()
    entered.wait(5)
    seen: list[bool] = []

    def failing_batch() -> None:
        with gc_paused():
            seen.append(gc.isenabled())
            raise RuntimeError("a batch that fails")

    with pytest.raises(RuntimeError):
        failing_batch()
    assert seen == [False]
    assert not gc.isenabled()  # the other batch still runs
    release.set()
    thread.join(5)
    assert gc.isenabled()


@given(
    st.integers(1, 3),
    st.integers(1, 24),
    st.integers(1, 80),
    st.booleans(),
    st.sampled_from(["balanced", "quality", "cost", "conventional"]),
)
def test_search_answers_are_what_the_schema_documents(
    ndim: int, i: int, o: int, tie_dims: bool, objective: str
) -> None:
    request = SearchRequest.model_validate(
        {"input_size": [i] * ndim, "output_size": [o] * ndim, "tie_dims": tie_dims, "objective": objective}
    )
    answer = answer_search(request, Budget())
    assert SearchResponse.model_validate(answer).model_dump() == answer
    assert answer["candidates"] or answer["nearest"] or answer["reason"]


def test_repeated_batch_items_get_the_answer_each_would_get_alone() -> None:
    items: list[dict[str, Any]] = [
        {"input_size": 7, "kernel_size": 4, "stride": 2, "padding": 1},
        {"padding": 1, "stride": 2, "kernel_size": 4, "input_size": 7},  # the same, reordered
        {"input_size": 7, "kernel_size": 4, "stride": 2, "padding": 1.5},  # not the same: refused
        {"input_size": 7, "kernel_size": 4, "stride": 2, "padding": 1},
        {
            "input_size": 7.0,
            "kernel_size": [4.0, 4],
            "stride": 2,
            "padding": 1,
        },  # the same as JSON Schema reads it
    ]
    answers = answer_shape_batch(items)
    assert answers == [answer_shape_batch([item])[0] for item in items]
    assert answers[0] == answers[1] == answers[3] == answers[4] != answers[2]
    assert "error" in answers[2]


def test_a_malformed_item_is_refused_before_its_arrays_are_compared() -> None:
    mismatched = {"input_size": [7, 7], "kernel_size": [3]}
    [alone, with_typo, with_bool] = answer_shape_batch(
        [mismatched, {**mismatched, "typo": 1}, {**mismatched, "bias": 1, "groups": 2}]
    )
    assert alone["error"]["code"] == "dimension_mismatch"
    assert with_typo["error"]["code"] == with_bool["error"]["code"] == "invalid_request"
    assert [d["field"] for d in with_bool["error"]["details"]] == ["bias"]


def test_a_refused_item_among_floats_is_worded_without_the_whole_numbers() -> None:
    [item] = answer_shape_batch([{"input_size": 7.0, "kernel_size": 0, "stride": [2.0, 2]}])
    assert [detail["field"] for detail in item["error"]["details"]] == ["kernel_size"]


def _as_floats(value: Any) -> Any:
    if type(value) is int:
        return float(value)
    return [_as_floats(v) for v in value] if type(value) is list else value


def test_a_batch_over_http_reads_whole_number_floats_in_its_items(client: TestClient) -> None:
    # The shape batch route skips the routing layer's walk over the document: the column reader
    # reads these, and the friendly wording of a refused item does not mention them.
    body = (
        '{"queries": [{"input_size": 7, "kernel_size": 4, "stride": 2, "padding": 1},'
        ' {"input_size": 7.0, "kernel_size": [4.0, 4e0], "stride": 2, "padding": 1.0},'
        ' {"input_size": 7.0, "kernel_size": 0, "stride": 2.5}], "view": "full"}'
    )
    headers = {"content-type": "application/json"}
    results = client.post("/v1/shape/batch", content=body, headers=headers).json()["results"]
    single = {"input_size": 7, "kernel_size": 4, "stride": 2, "padding": 1}
    assert results[0] == results[1] == client.post("/v1/shape", json=single).json()
    assert [detail["field"] for detail in results[2]["error"]["details"]] == ["kernel_size", "stride"]
