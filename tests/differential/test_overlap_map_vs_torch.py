"""The pictures show the seed article's experiment as torch runs it: every pixel's count, not a summary."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import assume, given, settings

from service.solver.overlap_map import dim_counts
from tests.differential.test_overlap_vs_torch import ones_experiment, valid_layers

pytestmark = pytest.mark.torch


@settings(max_examples=150)
@given(layer=valid_layers())
def test_each_dimension_counts_equal_the_all_ones_experiment(layer: dict[str, Any]) -> None:
    for axis in range(len(layer["input_size"])):
        one = {name: [values[axis]] for name, values in layer.items()}
        fields = {name: value[0] for name, value in one.items() if name != "input_size"}
        try:
            truth = ones_experiment(one)
        except RuntimeError:
            assume(False)  # torch refuses the layer (output_padding too large, empty output)
        assert dim_counts(one["input_size"][0], **fields) == tuple(int(v) for v in truth)


CELL = re.compile(r"<title>output \((\d+), (\d+)\): (\d+)")


@pytest.mark.parametrize(
    "layer",
    [
        {
            "input_size": [5, 4],
            "kernel_size": [3, 4],
            "stride": [2, 2],
            "padding": [1, 1],
            "output_padding": [1, 0],
        },
        {
            "input_size": [4, 6],
            "kernel_size": [1, 2],
            "stride": [2, 3],
            "padding": [0, 0],
            "output_padding": [1, 2],
        },
        {
            "input_size": [3, 3],
            "kernel_size": [3, 3],
            "stride": [1, 1],
            "padding": [0, 2],
            "dilation": [2, 1],
        },
    ],
)
def test_the_svg_grid_shows_torchs_counts_pixel_by_pixel(client: TestClient, layer: dict[str, Any]) -> None:
    query = {name: ",".join(map(str, values)) for name, values in layer.items()}
    svg = client.get("/v1/overlap.svg", params=query).text
    truth = ones_experiment(
        {"stride": [1, 1], "padding": [0, 0], "output_padding": [0, 0], "dilation": [1, 1], **layer}
    )
    shown = {(int(r), int(c)): int(n) for r, c, n in CELL.findall(svg)}
    holes = {(int(r), int(c)) for r, c in re.findall(r"<title>output \((\d+), (\d+)\): hole", svg)}
    assert len(shown) + len(holes) == truth.numel()
    for (r, c), count in shown.items():
        assert count == int(truth[r, c])
    assert all(int(truth[r, c]) == 0 for r, c in holes)
