"""/v1/search is complete and sound against a brute-force torch enumeration of small spaces."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.differential.torch_truth import brute_force

pytestmark = pytest.mark.torch


def all_candidates(client: TestClient, request: dict[str, Any]) -> tuple[int, list[dict[str, Any]]]:
    """Page through the whole ranked list."""
    candidates: list[dict[str, Any]] = []
    total = None
    while total is None or len(candidates) < total:
        page = client.post("/v1/search", json={**request, "offset": len(candidates), "limit": 1000})
        assert page.status_code == 200, page.text
        body = page.json()
        total = body["total"]
        if not body["candidates"]:
            break
        candidates.extend(body["candidates"])
    assert total is not None
    return total, candidates


def as_layer(candidate: dict[str, Any]) -> tuple[tuple[int, ...], ...]:
    layer = candidate["layer"]
    return tuple(tuple(layer[f]) for f in ("kernel_size", "stride", "padding", "output_padding", "dilation"))


def bound(values: list[int]) -> dict[str, Any]:
    ordered = sorted(set(values))
    if ordered == list(range(ordered[0], ordered[-1] + 1)):
        return {"min": ordered[0], "max": ordered[-1]}
    return {"values": ordered}


@st.composite
def small_spaces(draw: st.DrawFn) -> dict[str, Any]:
    ndim = draw(st.sampled_from([1, 2, 2, 3]))
    tie_dims = draw(st.booleans()) if ndim < 3 else True
    # Keep the brute force to a few thousand torch calls per example.
    k_max, s_max, d_max = {1: (5, 4, 3), 2: (3, 3, 2), 3: (2, 2, 2)}[ndim]
    if not tie_dims:
        k_max, s_max, d_max = 2, 3, 2
    kernels = draw(st.lists(st.integers(1, k_max), min_size=1, max_size=k_max))
    strides = draw(st.lists(st.integers(1, s_max), min_size=1, max_size=s_max))
    dilations = draw(st.lists(st.integers(1, d_max), min_size=1, max_size=d_max))
    input_size = draw(st.lists(st.integers(1, 6), min_size=ndim, max_size=ndim))
    # Aim near sizes the space can reach, so most examples have solutions.
    output_size = [
        max(1, (i - 1) * draw(st.sampled_from(strides)) + draw(st.integers(-2, 3))) for i in input_size
    ]
    request: dict[str, Any] = {
        "input_size": input_size,
        "output_size": output_size,
        "kernel_size": bound(kernels),
        "stride": bound(strides),
        "dilation": bound(dilations),
        "tie_dims": tie_dims,
    }
    if draw(st.integers(0, 3)) == 0:
        request["padding"] = bound(draw(st.lists(st.integers(0, 3), min_size=1, max_size=3)))
    if draw(st.integers(0, 3)) == 0:
        request["output_padding"] = bound(draw(st.lists(st.integers(0, 3), min_size=1, max_size=3)))
    return request


def _members(spec: dict[str, Any] | None) -> list[int] | None:
    if spec is None:
        return None
    return spec["values"] if "values" in spec else list(range(spec["min"], spec["max"] + 1))


@settings(max_examples=250)
@given(request=small_spaces())
def test_search_is_complete_and_sound(client: TestClient, request: dict[str, Any]) -> None:
    total, candidates = all_candidates(client, request)
    kernels, strides, dilations = (_members(request[f]) for f in ("kernel_size", "stride", "dilation"))
    assert kernels
    assert strides
    assert dilations
    truth = brute_force(
        request["input_size"],
        request["output_size"],
        triples=[(k, s, d) for k in kernels for s in strides for d in dilations],
        tie_dims=request["tie_dims"],
        padding=_members(request.get("padding")),
        output_padding=_members(request.get("output_padding")),
    )
    found = [as_layer(c) for c in candidates]
    assert total == len(truth)
    assert len(found) == len(set(found)), "a layer is listed twice"
    assert set(found) == truth
    assert [c["rank"] for c in candidates] == list(range(1, total + 1))
    assert all(c["output_size"] == request["output_size"] for c in candidates)
    scores = [c["score"] for c in candidates]
    assert scores == sorted(scores)
