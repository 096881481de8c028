"""/v1/plan is complete and sound: brute force over layer tuples on small spaces; torch runs each plan."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
import torch
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from service.solver.enumeration import DimParams
from service.solver.ranking import steady_dim_score
from tests.differential.torch_truth import MODULES

pytestmark = pytest.mark.torch


def forward(size: int, p: DimParams) -> int:
    return (size - 1) * p.stride - 2 * p.padding + p.dilation * (p.kernel_size - 1) + p.output_padding + 1


def brute_force(request: dict[str, Any]) -> list[tuple[int, tuple[tuple[tuple[int, ...], ...], ...]]]:
    """Every tuple of layers, one by one: (score, per-dimension sizes after each layer)."""
    ins, outs = request["input_size"], request["output_size"]
    tied = request.get("tie_dims", True)
    # Tied: dimensions with the same (input, output) share their layers. Untied: each is free.
    pairs = list(dict.fromkeys(zip(ins, outs, strict=True))) if tied else list(zip(ins, outs, strict=True))
    members = [list(zip(ins, outs, strict=True)).count(pair) for pair in pairs] if tied else [1] * len(pairs)
    per_triple = [
        [DimParams(k, s, d, p, op) for p in range(d * (k - 1) + 1) for op in range(max(s, d))]
        for k in range(1, request["kernel_size"]["max"] + 1)
        for s in range(1, request["stride"]["max"] + 1)
        for d in request["dilation"]["values"]
    ]
    layer_options = []
    if tied:
        for per_class in per_triple:
            layer_options.extend(itertools.product(per_class, repeat=len(pairs)))
    else:
        every = [option for per_class in per_triple for option in per_class]
        layer_options = list(itertools.product(every, repeat=len(pairs)))
    found = []
    for count in range(request["layers"]["min"], request["layers"]["max"] + 1):
        for layers in itertools.product(layer_options, repeat=count):
            state = tuple(i for i, _ in pairs)
            sizes, score, ok = [], 0, True
            for layer in layers:
                nxt = tuple(forward(a, p) for a, p in zip(state, layer, strict=True))
                goal = [o for _, o in pairs]
                # The documented size range: non-decreasing up to the target, or (monotonic false)
                # anything from 1 up to the larger of the current and the target size.
                low = state if request["monotonic"] else (1,) * len(state)
                high = goal if request["monotonic"] else [max(a, g) for a, g in zip(state, goal, strict=True)]
                if any(not lo <= b <= hi for lo, b, hi in zip(low, nxt, high, strict=True)):
                    ok = False
                    break
                if request["objective"] == "cost":
                    pixels = 1
                    for a, m in zip(state, members, strict=True):
                        pixels *= a**m
                    score += layer[0].kernel_size ** len(ins) * pixels
                else:
                    score += sum(
                        m * steady_dim_score(request["objective"], p)
                        for m, p in zip(members, layer, strict=True)
                    )
                state = nxt
                sizes.append(state)
            if ok and state == tuple(o for _, o in pairs):
                found.append((score, tuple(sizes), layers))
    return sorted(found)


@st.composite
def plan_requests(draw: st.DrawFn) -> dict[str, Any]:
    ndim = draw(st.integers(1, 2))
    ins = draw(st.lists(st.integers(1, 5), min_size=ndim, max_size=ndim))
    outs = [i * draw(st.integers(1, 4)) + draw(st.integers(-1, 2)) for i in ins]
    min_layers = draw(st.integers(1, 2))
    tied = draw(st.booleans())
    return {
        "input_size": ins,
        "output_size": [max(o, 1) for o in outs],
        "layers": {"min": min_layers, "max": draw(st.integers(min_layers, 3 if ndim == 1 else 2))},
        "kernel_size": {"min": 1, "max": draw(st.integers(1, 3 if tied or ndim == 1 else 2))},
        "tie_dims": tied,
        "stride": {"min": 1, "max": draw(st.integers(1, 2))},
        "dilation": {"values": draw(st.sampled_from([[1], [1, 2]]))},
        "monotonic": draw(st.booleans()),
        "objective": draw(
            st.sampled_from(["balanced", "cost", "quality"] if tied else ["balanced", "quality"])
        ),
        "limit": 1000,
    }


@settings(max_examples=60)
@given(request=plan_requests())
def test_plans_are_complete_sound_and_ranked(client: TestClient, request: dict[str, Any]) -> None:
    expected = brute_force(request)
    response = client.post("/v1/plan", json=request)
    if len(expected) > 1000 or response.status_code == 422:
        assert response.status_code in (200, 422)
        return
    body = response.json()
    assert body["total"] == len(expected)
    got = body["plans"][: len(expected)]
    assert [p["score"] for p in got] == [score for score, _, _ in expected][: len(got)]
    assert [p["rank"] for p in got] == list(range(1, len(got) + 1))
    if body["total"] <= 1000:
        assert len(got) == len(expected)
    ndim = len(request["input_size"])
    for found in got[:20]:
        # Run the stack in torch: every intermediate size as reported, the last the target.
        x = torch.zeros(1, 1, *request["input_size"])
        for layer, size in zip(found["layers"], found["sizes"], strict=True):
            x = MODULES[ndim](1, 1, **layer)(x)
            assert list(x.shape[2:]) == size
        assert found["sizes"][-1] == request["output_size"]
        monotone = all(
            b >= a
            for a, b in zip([request["input_size"], *found["sizes"]], found["sizes"], strict=False)
            for a, b in zip(a, b, strict=True)
        )
        assert monotone or not request["monotonic"]


def test_dcgan_generator_4_to_64(client: TestClient) -> None:
    body = client.post(
        "/v1/plan",
        json={
            "input_size": 4,
            "output_size": 64,
            "layers": 4,
            "channels": [512, 256, 128, 64, 3],
            "limit": 3,
        },
    ).json()
    best = body["plans"][0]
    assert best["sizes"] == [[8, 8], [16, 16], [32, 32], [64, 64]]
    assert best["snippet"].startswith("nn.Sequential(nn.ConvTranspose2d(512, 256, kernel_size=2, stride=2)")
    stack = eval(best["snippet"], {"nn": torch.nn})
    assert list(stack(torch.zeros(1, 512, 4, 4)).shape) == [1, 3, 64, 64]


def test_plan_errors_are_clear(client: TestClient) -> None:
    bad = client.post(
        "/v1/plan",
        json={"input_size": 4, "output_size": 64, "layers": {"min": 2, "max": 3}, "channels": [8, 4, 2]},
    )
    assert bad.status_code == 422
    assert "fixed number of layers" in bad.json()["error"]["message"]
    untied = client.post(
        "/v1/plan", json={"input_size": 4, "output_size": 64, "tie_dims": False, "objective": "cost"}
    )
    assert untied.json()["error"]["code"] == "unsupported"
    nothing = client.post(
        "/v1/plan", json={"input_size": 4, "output_size": 5, "layers": 1, "stride": 3, "kernel_size": 1}
    ).json()
    assert nothing["total"] == 0
    assert nothing["plans"] == []


def test_a_plan_over_budget_is_a_422_that_says_how_to_narrow() -> None:
    from service.api.config import Settings
    from service.api.main import create_app

    with TestClient(create_app(Settings(verify_mode="off", max_plan_transitions=1000))) as small:
        response = small.post("/v1/plan", json={"input_size": [4, 6], "output_size": [64, 96], "layers": 4})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "space_too_large"
    assert "narrow" in response.json()["error"]["message"]
