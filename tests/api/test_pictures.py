"""GET /v1/overlap.svg: a picture of the overlap map, validated exactly as /v1/shape validates."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
from fastapi.testclient import TestClient

SVG = "{http://www.w3.org/2000/svg}"
ROOT = Path(__file__).resolve().parents[2]


def picture(client: TestClient, **query: Any) -> Any:
    return client.get("/v1/overlap.svg", params={k: str(v) for k, v in query.items()})


def marked(svg: str, cls: str) -> int:
    root = ElementTree.fromstring(svg)
    return sum(1 for node in root.iter() if cls in (node.get("class") or "").split())


def test_a_standalone_svg_with_nothing_from_outside(client: TestClient) -> None:
    response = picture(client, input_size=7, kernel_size=3, stride=2, padding=1)
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/svg+xml"
    root = ElementTree.fromstring(response.text)
    assert root.tag == f"{SVG}svg"
    assert "href" not in response.text  # no link, image or font to fetch
    assert "<script" not in response.text
    assert "<style" not in response.text
    # 7 → 13 in both dimensions: one cell per output pixel.
    assert marked(response.text, "count") + marked(response.text, "hole") == 13 * 13


def test_checkerboard_is_marked_and_an_even_layer_is_not(client: TestClient) -> None:
    checkerboard = picture(client, input_size=7, kernel_size=3, stride=2, padding=1, output_padding=1).text
    even = picture(client, input_size=7, kernel_size=4, stride=2, padding=1).text
    assert marked(checkerboard, "uneven") > 0
    assert "checkerboard" in checkerboard
    assert marked(even, "uneven") == 0
    assert "no checkerboard" in even


def test_holes_are_crossed(client: TestClient) -> None:
    svg = picture(client, input_size=5, kernel_size=1, stride=2).text
    assert marked(svg, "hole") == 9 * 9 - 5 * 5  # only the pixels an input lands on are reached


def test_one_dimension_is_bars_and_three_a_slice(client: TestClient) -> None:
    # A trailing comma makes a one-element array: input_size=6, is 1-D (a bare 6 is square 2-D).
    bars = picture(client, input_size="6,", kernel_size=3, stride=2).text
    assert marked(bars, "count") == 13
    assert "ConvTranspose1d" in bars
    cube = picture(client, input_size="4,4,4", kernel_size=3, stride=2).text
    assert "ConvTranspose3d" in cube
    assert marked(cube, "count") + marked(cube, "hole") == 9 * 9  # the middle depth slice


def test_per_dimension_values_are_comma_separated(client: TestClient) -> None:
    svg = picture(client, input_size="6,4", kernel_size="3,2", stride="2,2").text
    assert marked(svg, "count") + marked(svg, "hole") == 13 * 8
    assert picture(client, input_size="6,,", kernel_size=3).status_code == 422


def test_diagram_draws_every_tap_of_each_distinct_dimension(client: TestClient) -> None:
    square = picture(client, input_size=5, kernel_size=3, stride=2, padding=1, diagram="true").text
    assert marked(square, "tap") == 5 * 3  # both dimensions are the same: drawn once
    assert marked(square, "cropped") > 0
    mixed = picture(client, input_size="5,4", kernel_size="3,2", stride=2, diagram="true").text
    assert marked(mixed, "tap") == 5 * 3 + 4 * 2
    assert marked(picture(client, input_size=5, kernel_size=3).text, "tap") == 0


def test_a_diagram_too_wide_to_draw_says_so(client: TestClient) -> None:
    # dilation 300 spreads 3 taps over 602 positions, of which padding 299 keeps 4.
    svg = picture(client, input_size="2,", kernel_size=3, dilation=300, padding=299, diagram="true").text
    assert "span of 602 positions is too long to draw" in svg
    assert marked(svg, "tap") == 0
    assert marked(svg, "count") + marked(svg, "hole") == 4


@pytest.mark.parametrize(
    ("query", "body"),
    [
        ({"input_size": "a", "kernel_size": "3"}, {"input_size": "a", "kernel_size": 3}),
        ({"input_size": "7", "kernel_size": "0"}, {"input_size": 7, "kernel_size": 0}),
        (
            {"input_size": "7", "kernel_size": "3", "padding": "-1"},
            {"input_size": 7, "kernel_size": 3, "padding": -1},
        ),
        ({"input_size": "7", "kernel_size": "1,2,3,4"}, {"input_size": 7, "kernel_size": [1, 2, 3, 4]}),
        ({"input_size": "7,7", "kernel_size": "3,3,3"}, {"input_size": [7, 7], "kernel_size": [3, 3, 3]}),
    ],
)
def test_bad_fields_get_shapes_422(client: TestClient, query: dict[str, str], body: dict[str, Any]) -> None:
    drawn = client.get("/v1/overlap.svg", params=query)
    shaped = client.post("/v1/shape", json=body)
    assert drawn.status_code == shaped.status_code == 422
    assert drawn.json()["error"]["code"] == shaped.json()["error"]["code"]
    assert drawn.json()["error"]["message"] == shaped.json()["error"]["message"]


def test_a_layer_torch_refuses_has_shapes_error(client: TestClient) -> None:
    layer = {"input_size": 5, "kernel_size": 3, "stride": 2, "output_padding": 3}
    drawn = picture(client, **layer)
    answer = client.post("/v1/shape", json=layer).json()
    assert answer["valid"] is False
    assert drawn.status_code == 422
    assert drawn.json()["error"]["code"] == answer["error"]["code"] == "output_padding_too_large"
    assert drawn.json()["error"]["message"] == answer["error"]["message"]


def test_too_large_to_draw_is_a_422_that_says_so(client: TestClient) -> None:
    response = picture(client, input_size=100, kernel_size=3, stride=2)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "too_large_to_draw"
    assert "201" in response.json()["error"]["message"]


def test_documented_as_an_svg_image(client: TestClient) -> None:
    operation = client.get("/openapi.json").json()["paths"]["/v1/overlap.svg"]["get"]
    assert "image/svg+xml" in operation["responses"]["200"]["content"]
    assert {p["name"] for p in operation["parameters"]} >= {"input_size", "kernel_size", "stride", "diagram"}


def test_committed_pictures_are_what_the_service_draws_now() -> None:
    # The README and guides show docs/img/; `make pictures` redraws them after a drawing change.
    result = subprocess.run(
        [sys.executable, "scripts/make_pictures.py", "--check"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
