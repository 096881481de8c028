"""The periodic pattern that ranking judges equals what torch shows over a long all-ones input:
away from the borders, the count at output position q depends on q mod stride only, and equals
``periodic_pattern``'s count for that residue class."""

from __future__ import annotations

import pytest
import torch
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from service.solver.overlap import periodic_pattern

pytestmark = pytest.mark.torch


@settings(max_examples=80)
@given(st.integers(1, 9), st.integers(1, 6), st.integers(1, 4))
def test_periodic_pattern_is_the_long_input_interior(kernel_size: int, stride: int, dilation: int) -> None:
    reach = dilation * (kernel_size - 1)
    input_size = reach // stride + 2 * stride + 3  # an interior of several whole periods
    ones = torch.ones(1, 1, input_size, dtype=torch.float64)
    weight = torch.ones(1, 1, kernel_size, dtype=torch.float64)
    out = torch.nn.functional.conv_transpose1d(ones, weight, stride=stride, dilation=dilation)[0, 0]
    interior = range(reach, (input_size - 1) * stride + 1)  # every tap reaches from inside the input
    assert len(interior) >= stride
    seen: dict[int, set[int]] = {}
    for q in interior:
        seen.setdefault(q % stride, set()).add(int(out[q]))
    assert all(len(values) == 1 for values in seen.values())
    assert (
        tuple(seen[r].pop() for r in range(stride)) == periodic_pattern(kernel_size, stride, dilation).counts
    )


def test_the_answer_flags_the_pattern_and_keeps_the_own_input_counts(client: TestClient) -> None:
    # 4 -> 8 with kernel 7, stride 2: one interior pixel at 4 pixels, uneven over any long input.
    body = client.post(
        "/v1/shape", json={"input_size": 4, "kernel_size": 7, "stride": 2, "padding": 2, "output_padding": 1}
    ).json()
    overlap = body["overlap"]
    assert overlap["artifacts"] == {"holes": False, "checkerboard": True}
    assert overlap["dims"][0]["periodic_counts"] == [4, 3]
    assert overlap["checkerboard"] is False  # the own input's interior is a single pixel
    assert overlap["dims"][0]["interior_counts"] == [4]
