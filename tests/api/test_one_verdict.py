"""One layer, one verdict: /v1/shape, its batch (both views), /v1/search pinned to the layer and
/v1/verify (real torch on the CPU) agree on validity, dimensionality and output size, whatever
mix of ints and per-dimension arrays the layer is written with."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

_FIELDS = ("kernel_size", "stride", "padding", "output_padding", "dilation")
_BOUNDS = {
    "kernel_size": (1, 5),
    "stride": (1, 3),
    "padding": (0, 2),
    "output_padding": (0, 2),
    "dilation": (1, 2),
}


@st.composite
def _layers(draw: st.DrawFn) -> dict[str, Any]:
    ndim = draw(st.integers(1, 3))

    def value(lo: int, hi: int) -> int | list[int]:
        # A bare int, an array of this layer's length, or now and then one of another length.
        length = draw(st.sampled_from([ndim, ndim, ndim, 1, 2]))
        return draw(
            st.one_of(st.integers(lo, hi), st.lists(st.integers(lo, hi), min_size=length, max_size=length))
        )

    layer = {name: value(*_BOUNDS[name]) for name in _FIELDS}
    return {"input_size": value(1, 9), **layer}


def _as_list(value: int | list[int], ndim: int) -> list[int]:
    return [value] * ndim if isinstance(value, int) else value


@settings(max_examples=60)
@given(_layers())
def test_every_endpoint_gives_one_verdict(client: TestClient, query: dict[str, Any]) -> None:
    shape = client.post("/v1/shape", json=query)
    [full] = client.post("/v1/shape/batch", json={"queries": [query], "view": "full"}).json()["results"]
    [basic] = client.post("/v1/shape/batch", json={"queries": [query]}).json()["results"]
    layer = {name: query[name] for name in _FIELDS}
    verify = client.post(
        "/v1/verify", json={"input_size": query["input_size"], "layers": [layer], "device": "cpu"}
    )
    assert verify.status_code == 200
    [result] = verify.json()["results"]
    if shape.status_code == 422:
        assert shape.json()["error"]["code"] == "dimension_mismatch"
        assert full["error"]["code"] == basic["error"]["code"] == "dimension_mismatch"
        assert result["status"] == "failed"
        return
    answer = shape.json()
    assert full == answer
    assert basic["valid"] == answer["valid"]
    assert result["status"] == ("confirmed" if answer["valid"] else "failed")
    if not answer["valid"]:
        return
    assert result["output_size"] == answer["output_size"]
    ndim = len(answer["output_size"])
    pinned = {name: {"values": sorted(set(_as_list(query[name], ndim)))} for name in _FIELDS}
    search = client.post(
        "/v1/search",
        json={
            "input_size": _as_list(query["input_size"], ndim),
            "output_size": answer["output_size"],
            "tie_dims": False,
            "limit": 1000,
            "view": "basic",
            **pinned,
        },
    ).json()
    assert answer["layer"] in [candidate["layer"] for candidate in search["candidates"]]
