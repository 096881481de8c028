"""The array core judges a stack of layers of mixed dimensionality exactly as it judges each
layer alone (``check_layer``, itself tested against torch in tests/differential)."""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from service.solver.rules import check_layer, check_layers
from service.solver.sizes import LAYER_FIELDS, normalise, stack_layers

_BOUNDS = {
    "input_size": (1, 12),
    "kernel_size": (1, 6),
    "stride": (1, 4),
    "padding": (0, 4),
    "output_padding": (0, 4),
    "dilation": (1, 3),
}


@st.composite
def _item(draw: st.DrawFn) -> dict[str, Any]:
    ndim = draw(st.integers(1, 3))
    item: dict[str, Any] = {}
    for name, (lo, hi) in _BOUNDS.items():
        if name not in ("input_size", "kernel_size") and draw(st.booleans()):
            continue  # left to its default
        length = draw(st.sampled_from([ndim, ndim, ndim, ndim % 3 + 1]))
        item[name] = draw(
            st.one_of(st.integers(lo, hi), st.lists(st.integers(lo, hi), min_size=length, max_size=length))
        )
    for name in ("in_channels", "out_channels", "groups"):
        item[name] = draw(st.integers(1, 6))
    return item


@given(st.lists(_item(), min_size=1, max_size=30))
def test_a_stack_is_judged_as_each_layer_alone(items: list[dict[str, Any]]) -> None:
    stack = stack_layers(items)
    channels = {
        name: np.array([item[name] for item in items]) for name in ("in_channels", "out_channels", "groups")
    }
    checks = check_layers(**stack.fields, **channels)
    codes, dims = checks.first_violation()
    valid = checks.is_valid.tolist()
    for row, item in enumerate(items):
        spatial = {name: item.get(name, default) for name, default in (("input_size", 1), *_defaults())}
        try:
            fields = normalise(spatial)
        except ValueError as exc:
            refused = str(exc)
        else:
            refused = None
        assert stack.errors.get(row) == refused
        if refused is not None:
            continue
        alone = check_layer(
            fields["input_size"],
            **{name: fields[name] for name in LAYER_FIELDS},
            in_channels=item["in_channels"],
            out_channels=item["out_channels"],
            groups=item["groups"],
        )
        ndim = stack.ndim[row]
        assert ndim == len(fields["input_size"])
        assert tuple(checks.output_size[row, :ndim].tolist()) == alone.output_size
        assert valid[row] == alone.is_valid
        first = alone.violations[0] if alone.violations else None
        assert (codes[row], dims[row]) == ((first.code, first.dim) if first else (None, None))


def _defaults() -> list[tuple[str, int]]:
    return [("kernel_size", 1), ("stride", 1), ("padding", 0), ("output_padding", 0), ("dilation", 1)]
