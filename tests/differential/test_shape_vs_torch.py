"""/v1/shape against real torch modules on the CPU, 1-D to 3-D, valid and invalid layers."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.differential.torch_truth import module_output

pytestmark = pytest.mark.torch


@st.composite
def shape_requests(draw: st.DrawFn) -> dict[str, object]:
    ndim = draw(st.integers(1, 3))
    small = st.integers(1, 5)

    def per_dim(strategy: st.SearchStrategy[int]) -> list[int]:
        return draw(st.lists(strategy, min_size=ndim, max_size=ndim))

    groups = draw(st.sampled_from([1, 1, 2, 3]))
    return {
        "input_size": per_dim(st.integers(1, 7)),
        "kernel_size": per_dim(small),
        "stride": per_dim(st.integers(1, 4)),
        "padding": per_dim(st.integers(0, 6)),
        # Around the max(stride, dilation) bound, on both sides of it.
        "output_padding": per_dim(st.integers(0, 5)),
        "dilation": per_dim(st.integers(1, 4)),
        "in_channels": draw(st.sampled_from([1, 2, 3, 6])),
        "out_channels": draw(st.sampled_from([1, 2, 3, 6])),
        "groups": groups,
    }


@settings(max_examples=1500)
@given(request=shape_requests())
def test_shape_agrees_with_torch(client: TestClient, request: dict[str, object]) -> None:
    response = client.post("/v1/shape", json=request)
    assert response.status_code == 200, response.text
    body = response.json()
    truth = module_output(**request)  # type: ignore[arg-type]
    assert body["valid"] == (truth is not None), (body, truth)
    if truth is None:
        assert body["output_size"] is None
        assert body["error"]["code"] in {
            "output_padding_too_large",
            "output_too_small",
            "in_channels_not_divisible_by_groups",
            "out_channels_not_divisible_by_groups",
        }
    else:
        assert tuple(body["output_size"]) == truth
        assert body["error"] is None


def test_meta_accepts_what_cpu_refuses() -> None:
    """Why the truth is the CPU kernel: on torch 2.13 the meta device skips the op rule."""
    import torch

    layer = torch.nn.ConvTranspose2d(1, 1, 3, stride=2, padding=1, output_padding=3)
    if tuple(layer.to("meta")(torch.zeros(1, 1, 5, 5, device="meta")).shape[2:]) != (12, 12):
        pytest.skip("this torch's meta device now enforces the rule")
    assert (
        module_output(
            (5, 5), kernel_size=(3, 3), stride=(2, 2), padding=(1, 1), output_padding=(3, 3), dilation=(1, 1)
        )
        is None
    )
