"""solver.portability against onnxruntime, jax and keras (JAX backend), all on the CPU.

For generated PyTorch-valid layers (1-D to 3-D, dilation, padding, output_padding, groups), each
target's verdict is ``exact`` exactly when its runtime, fed the encoding (service.targets) and
PyTorch's own weights, produces PyTorch's output size and values within float32 tolerance; a
``refused`` layer is one the runtime rejects or gets wrong. The runtimes are dev dependencies:
a missing one fails here (TargetUnavailableError), it is not skipped.
"""

from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "jax")  # before anything imports keras

from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import example, given, settings
from hypothesis import strategies as st

from service.solver.enumeration import DimParams
from service.solver.portability import TARGETS, dim_refusal, layer_refusal, verdict
from service.solver.rules import check_layer
from service.targets import RUNNERS, TargetRefusedError
from tests.differential.torch_truth import MODULES

pytestmark = pytest.mark.torch

Case = tuple[tuple[int, ...], tuple[DimParams, ...], int, int, int]  # sizes, layer, groups, cin, cout


@st.composite
def valid_layers(draw: Any) -> Case:
    ndim = draw(st.integers(1, 3))
    layer = []
    for _ in range(ndim):
        k, s, d = draw(st.integers(1, 4)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
        p = draw(st.integers(0, 4))
        op = draw(st.integers(0, max(s, d) - 1))
        layer.append(DimParams(k, s, d, p, op))
    sizes = tuple(draw(st.integers(1, 5)) for _ in range(ndim))
    groups = draw(st.sampled_from([1, 1, 2]))
    cin, cout = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    check = check_layer(
        sizes,
        kernel_size=tuple(p.kernel_size for p in layer),
        stride=tuple(p.stride for p in layer),
        padding=tuple(p.padding for p in layer),
        output_padding=tuple(p.output_padding for p in layer),
        dilation=tuple(p.dilation for p in layer),
        in_channels=cin,
        out_channels=cout,
        groups=groups,
    )
    if not check.is_valid:
        # Few are invalid: the output-size rule, only (op is drawn legal).
        layer = [q._replace(padding=0) for q in layer]
    return sizes, tuple(layer), groups, cin, cout


def torch_run(
    case: Case, *, bias: bool = True
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    sizes, layer, groups, cin, cout = case
    module = MODULES[len(sizes)](
        cin,
        cout,
        [p.kernel_size for p in layer],
        stride=[p.stride for p in layer],
        padding=[p.padding for p in layer],
        output_padding=[p.output_padding for p in layer],
        dilation=[p.dilation for p in layer],
        groups=groups,
        bias=bias,
    )
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(2, cin, *sizes, generator=generator)
    with torch.no_grad():
        y = module(x)
    weight = module.weight.detach().numpy()
    b = module.bias.detach().numpy() if bias else None
    return x.numpy(), y.numpy(), weight, b


def runtime_matches(target: str, case: Case, *, bias: bool = True) -> tuple[bool, str]:
    """Whether the target reproduces torch (size and values), and what it said or did otherwise."""
    x, truth, weight, b = torch_run(case, bias=bias)
    try:
        got = RUNNERS[target](case[1], x, weight, b, groups=case[2])
    except TargetRefusedError as exc:
        return False, f"refused: {exc}"
    if got.shape != truth.shape:
        return False, f"shape {got.shape}, torch {truth.shape}"
    gap = float(np.abs(got - truth).max()) if truth.size else 0.0
    return bool(np.allclose(got, truth, rtol=1e-4, atol=1e-4)), f"max abs difference {gap:.3g}"


def _case(
    sizes: tuple[int, ...], layer: list[DimParams], groups: int = 1, cin: int = 1, cout: int = 1
) -> Case:
    return sizes, tuple(layer), groups, cin, cout


# onnxruntime issue 14208's layer; the smallest stride <= output_padding < dilation; Keras's
# cross-dimension stride/dilation rule; JAX's negative padding; groups; folding op into the pad.
EDGES = [
    _case((5, 5), [DimParams(2, 1, 2, 3, 1)] * 2, 1, 1, 3),
    _case((1,), [DimParams(1, 1, 2, 0, 1)]),
    _case((3, 3), [DimParams(3, 2, 1, 1, 0), DimParams(3, 1, 2, 1, 0)]),
    _case((4,), [DimParams(1, 2, 1, 3, 1)]),
    _case((3, 2, 2), [DimParams(3, 2, 1, 1, 1)] * 3, 2, 4, 2),
    _case((4,), [DimParams(3, 2, 3, 2, 2)]),
]


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("case", EDGES, ids=lambda case: str(case[1][0]))
def test_edge_layers_agree_with_the_runtime(target: str, case: Case) -> None:
    expected = verdict(target, case[1], case[2])
    matches, said = runtime_matches(target, case)
    assert matches == (expected.status == "exact"), (expected, said)


@pytest.mark.parametrize("target", TARGETS)
@settings(max_examples=25)
@given(case=valid_layers(), bias=st.booleans())
def test_verdicts_agree_with_the_runtime(target: str, case: Case, bias: bool) -> None:
    expected = verdict(target, case[1], case[2])
    matches, said = runtime_matches(target, case, bias=bias)
    assert matches == (expected.status == "exact"), (case, expected, said)


def test_every_refusal_names_its_rule() -> None:
    # The refusing rules are the verdict's reasons, so filters and answers cannot drift apart.
    layer = (DimParams(2, 1, 2, 0, 1), DimParams(3, 2, 1, 0, 0))
    keras = verdict("keras", layer, 2)
    assert keras.status == "refused"
    assert keras.reason is not None
    for part in (layer_refusal("keras", (1, 2), (2, 1), 2), dim_refusal("keras", layer[0], 0)):
        assert part is not None
        assert part in keras.reason
    assert verdict("jax", layer, 2).status == "exact"


@example(case=_case((5,), [DimParams(3, 1, 3, 0, 2)]))
@settings(max_examples=15)
@given(case=valid_layers())
def test_keras_is_never_exact_where_onnx_refuses(case: Case) -> None:
    # Both refuse output_padding − padding >= stride: the one rule they share, measured once more.
    if verdict("onnx", case[1], case[2]).status == "refused":
        assert verdict("keras", case[1], case[2]).status == "refused"
        assert not runtime_matches("keras", case)[0]
