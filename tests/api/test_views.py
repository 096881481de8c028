"""The basic view is exactly the projection of the full answer, for every answering endpoint;
batches default to basic, single requests to full, and a batch takes ``view`` once."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from service.api.answers.search import answer_search
from service.api.answers.shape import shape_answer
from service.api.answers.views import basic_invert, basic_plan, basic_search, basic_shape
from service.solver.search import Budget
from service.wire.schemas import (
    InvertBasicResponse,
    PlanBasicResponse,
    SearchBasicResponse,
    SearchQuery,
    ShapeBasicResponse,
    ShapeQuery,
)

_DIM = st.tuples(
    st.integers(1, 40),
    st.integers(1, 9),
    st.integers(1, 5),
    st.integers(0, 6),
    st.integers(0, 5),
    st.integers(1, 3),
)
_LAYERS = st.integers(1, 3).flatmap(lambda n: st.lists(_DIM, min_size=n, max_size=n))


def _shape_query(dims: list[tuple[int, ...]], groups: int) -> dict[str, Any]:
    fields = ("input_size", "kernel_size", "stride", "padding", "output_padding", "dilation")
    query: dict[str, Any] = {name: [d[n] for d in dims] for n, name in enumerate(fields)}
    return {**query, "groups": groups, "in_channels": 4, "out_channels": 6}


@given(_LAYERS, st.sampled_from([1, 2, 3]))
def test_basic_shape_is_the_projection_of_full(dims: list[tuple[int, ...]], groups: int) -> None:
    query = ShapeQuery.model_validate(_shape_query(dims, groups)).model_dump()
    basic = shape_answer(query, basic=True)
    assert basic == basic_shape(shape_answer(query))
    assert ShapeBasicResponse.model_validate(basic).model_dump() == basic


@settings(max_examples=60)
@given(
    st.integers(1, 3),
    st.integers(1, 20),
    st.integers(1, 70),
    st.booleans(),
    st.sampled_from(["balanced", "quality", "cost", "conventional"]),
    st.sampled_from([1, 2]),
)
def test_basic_search_is_the_projection_of_full(
    ndim: int, i: int, o: int, tie_dims: bool, objective: str, groups: int
) -> None:
    request = SearchQuery.model_validate(
        {
            "input_size": [i] * ndim,
            "output_size": [o + ndim - 1] + [o] * (ndim - 1),
            "tie_dims": tie_dims,
            "objective": objective,
            "groups": groups,
            "in_channels": 3,
            "out_channels": 4,
        }
    )
    basic = answer_search(request, Budget(), basic=True)
    assert basic == basic_search(answer_search(request, Budget()))
    assert SearchBasicResponse.model_validate(basic).model_dump(exclude_none=True) == basic


def _both(client: TestClient, path: str, body: dict[str, Any]) -> tuple[Any, Any]:
    full = client.post(path, json=body)
    basic = client.post(path, json={**body, "view": "basic"})
    assert full.status_code == basic.status_code == 200, (full.text, basic.text)
    assert client.post(path, json={**body, "view": "full"}).json() == full.json()
    return full.json(), basic.json()


@settings(max_examples=25)
@given(st.integers(1, 8), st.sampled_from([8, 16, 17, 40, 64]), st.integers(1, 3), st.booleans())
def test_basic_plan_is_the_projection_of_full(
    client: TestClient, i: int, o: int, layers: int, tie: bool
) -> None:
    body = {
        "input_size": i,
        "output_size": o,
        "layers": layers,
        "tie_dims": tie,
        "limit": 4,
        "kernel_size": {"max": 5},
        "stride": {"max": 4},
    }
    full, basic = _both(client, "/v1/plan", body)
    assert basic == basic_plan(full)
    assert PlanBasicResponse.model_validate(basic).model_dump() == basic


@settings(max_examples=25)
@given(
    st.integers(1, 300),
    st.lists(st.tuples(st.integers(1, 7), st.integers(1, 3), st.integers(0, 3)), min_size=1, max_size=4),
)
def test_basic_invert_is_the_projection_of_full(
    client: TestClient, size: int, convs: list[tuple[int, int, int]]
) -> None:
    body = {"input_size": size, "conv": [{"kernel_size": k, "stride": s, "padding": p} for k, s, p in convs]}
    full, basic = _both(client, "/v1/invert", body)
    assert basic == basic_invert(full)
    assert InvertBasicResponse.model_validate(basic).model_dump() == basic


def test_single_requests_default_to_full_and_batches_to_basic(client: TestClient) -> None:
    layer = {"input_size": 7, "kernel_size": 4, "stride": 2, "padding": 1}
    single = client.post("/v1/shape", json=layer).json()
    assert "overlap" in single
    [basic] = client.post("/v1/shape/batch", json={"queries": [layer]}).json()["results"]
    assert basic == basic_shape(single) == {"valid": True, "output_size": [14, 14], "error": None}
    [full] = client.post("/v1/shape/batch", json={"queries": [layer], "view": "full"}).json()["results"]
    assert full == single

    query = {"input_size": 7, "output_size": 14, "limit": 2}
    single_search = client.post("/v1/search", json=query).json()
    [lean] = client.post("/v1/search/batch", json={"queries": [query]}).json()["results"]
    assert lean == basic_search(single_search)
    assert set(lean) == {"total", "candidates"}
    [rich] = client.post("/v1/search/batch", json={"queries": [query], "view": "full"}).json()["results"]
    assert rich == single_search


def test_an_unreachable_basic_search_keeps_reason_and_nearest(client: TestClient) -> None:
    body = client.post(
        "/v1/search", json={"input_size": 7, "output_size": 500, "stride": 2, "view": "basic"}
    ).json()
    assert body["total"] == 0
    assert body["candidates"] == []
    assert body["reason"]
    assert {near["direction"] for near in body["nearest"]} <= {"below", "above"}
    assert set(body["nearest"][0]["example"]) == {"rank", "layer", "output_size", "score"}


def test_a_batch_item_cannot_set_its_own_view(client: TestClient) -> None:
    layer = {"input_size": 7, "kernel_size": 3}
    results = client.post("/v1/shape/batch", json={"queries": [layer, {**layer, "view": "full"}]}).json()[
        "results"
    ]
    assert results[0]["valid"] is True
    assert results[1]["error"]["details"][0]["field"] == "view"
    searched = client.post(
        "/v1/search/batch", json={"queries": [{"input_size": 7, "output_size": 14, "view": "basic"}]}
    ).json()["results"]
    assert searched[0]["error"]["details"][0]["field"] == "view"


def test_an_unknown_view_is_refused(client: TestClient) -> None:
    response = client.post("/v1/shape", json={"input_size": 7, "kernel_size": 3, "view": "lean"})
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "view"
