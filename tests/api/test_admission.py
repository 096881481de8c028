"""Admission before work: requests too big to answer are refused up front, with what to narrow."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from service.api.admission import CANDIDATE_BYTES
from service.api.config import Settings
from service.api.main import create_app
from service.http.errors import MAX_ERROR_DETAILS
from service.solver.enumeration import Bound, DimParams, SearchBounds
from service.solver.overlap import overlap_work
from service.solver.plans import PlanOptions, _Planner, table_size


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with TestClient(create_app(Settings(verify_mode="off"))) as test_client:
        yield test_client


# The two plans of the issue: 20 GB until the kernel killed the process, and 12.9 minutes.
HEAVY_PLANS: list[dict[str, Any]] = [
    {
        "input_size": 1,
        "output_size": 1048576,
        "layers": {"min": 1, "max": 16},
        "kernel_size": {"min": 1, "max": 1024},
        "stride": {"min": 1, "max": 1024},
    },
    {
        "input_size": 4,
        "output_size": 64,
        "layers": {"min": 1, "max": 2},
        "kernel_size": {"min": 1, "max": 64},
        "stride": {"min": 1, "max": 64},
    },
    {"input_size": 4, "output_size": 64, "kernel_size": 1, "stride": 1, "dilation": {"min": 1, "max": 1024}},
]


@pytest.mark.parametrize("body", HEAVY_PLANS)
def test_plans_whose_tables_are_over_budget_are_refused(client: TestClient, body: dict[str, Any]) -> None:
    response = client.post("/v1/plan", json=body)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "space_too_large"
    assert "layer tables" in error["message"]
    assert "narrow kernel_size, stride, dilation or padding" in error["message"]


def _layers(entry: tuple[int, list[list[tuple[int, DimParams]]]]) -> list[DimParams]:
    """Every layer of one offset's entry (with an unbounded limit, class 0 keeps them all)."""
    count, per_class = entry
    assert len(per_class[0]) == count
    return [params for _, params in per_class[0]]


def _bound(lo: int, hi: int) -> st.SearchStrategy[Bound]:
    ranges = st.tuples(st.integers(lo, hi), st.integers(lo, hi)).map(lambda t: Bound(min(t), max(t)))
    values = st.lists(st.integers(lo, hi), min_size=1, max_size=4).map(Bound.of_values)
    return ranges | values


@settings(max_examples=40)
@given(
    kernel=_bound(1, 9),
    stride=_bound(1, 9),
    dilation=_bound(1, 4),
    padding=st.none() | _bound(0, 12),
    output_padding=st.none() | _bound(0, 6),
    classes=st.integers(1, 3),
)
def test_table_entries_counts_what_the_planner_builds(
    kernel: Bound,
    stride: Bound,
    dilation: Bound,
    padding: Bound | None,
    output_padding: Bound | None,
    classes: int,
) -> None:
    bounds = SearchBounds(kernel, stride, dilation, padding, output_padding)
    planner = _Planner(
        (16,) * classes, bounds, PlanOptions(1, 2), step_score=lambda n, p: 0, limit=10**9, max_edges=10**12
    )
    built = [p for _, offsets, table in planner.tables for c in offsets for p in _layers(table[c])]
    size = table_size(bounds)
    assert size.layers == len(built)
    assert size.work == sum(overlap_work(p.kernel_size, p.stride) for p in built)


def test_error_lists_are_capped_with_a_count_of_the_rest(client: TestClient) -> None:
    body = {"input_size": 7, "kernel_size": 3, **{f"unknown_{n}": n for n in range(5000)}}
    response = client.post("/v1/shape", json=body)
    assert response.status_code == 422
    details = response.json()["error"]["details"]
    assert len(details) == MAX_ERROR_DETAILS + 1
    assert details[-1] == {"field": "body", "rule": "more_errors", "message": "and 4,980 more errors"}
    assert len(response.content) < 10_000


def test_search_batch_answer_budget() -> None:
    items = 4
    app = create_app(Settings(verify_mode="off", max_answer_bytes=items * 10 * CANDIDATE_BYTES))
    with TestClient(app) as client:
        fits = [{"input_size": 7, "output_size": 14}] * items  # the default limit, 10 each
        assert client.post("/v1/search/batch", json={"queries": fits}).status_code == 200
        over = client.post(
            "/v1/search/batch", json={"queries": [*fits, {"input_size": 7, "output_size": 14}]}
        )
    assert over.status_code == 422
    error = over.json()["error"]
    assert error["code"] == "batch_too_large"
    assert "TCONV_MAX_ANSWER_BYTES" in error["message"]


def test_the_largest_default_search_batch_is_refused(client: TestClient) -> None:
    queries = [{"input_size": 7, "output_size": 14, "limit": 1000}] * 1000
    response = client.post("/v1/search/batch", json={"queries": queries})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "batch_too_large"


def test_a_search_whose_ranking_is_over_the_work_budget_is_refused(client: TestClient) -> None:
    # Within the triple and option budgets (99,856 triples, 71,288 options) but about 6 s of
    # ranking: large strides make each option's overlap sweep long.
    body = {"input_size": [7], "output_size": [14], "kernel_size": {"max": 316}, "stride": {"max": 316}}
    response = client.post("/v1/search", json=body)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "space_too_large"
    assert "narrow stride or kernel_size" in error["message"]
    narrowed = {**body, "stride": {"max": 16}}
    assert client.post("/v1/search", json=narrowed).status_code == 200
