"""Whether a PyTorch ConvTranspose layer exports exactly to ONNX, JAX and Keras, and how.

Each target's rules are the ones its runtime enforces, found by running it (onnxruntime 1.32,
jax 0.10, keras 3.15 on the JAX backend; tests/differential/test_portability_vs_runtimes.py
holds them to it), not the ones its specification states. ``exact`` means the encoding below
gives PyTorch's output size and values (float32 tolerance) from PyTorch's own weights.

Per dimension, PyTorch's output is the full transposed convolution, extended by zeros at the
end, cropped by ``padding`` at the start and kept for ``out`` elements. Every encoding writes it
the same way, as a crop of ``begin`` and ``end`` of that (zero-extended) full output:

    begin = p,  end = p − op            (end < 0 means extend by −end)

- ONNX ``ConvTranspose``: ``pads`` must be >= 0 and onnxruntime refuses ``output_padding >=
  stride`` (even where ``output_padding < dilation`` is legal in PyTorch), so the extension
  ``op`` is moved into the end pad as far as the pad allows: ``output_padding = max(0, op − p)``,
  ``pads = (p, p − op + output_padding)``. Exact iff ``op − p < stride`` in every dimension.
- Keras ``Conv{N}DTranspose(padding="valid", output_padding=...)`` then ``Cropping{N}D``: the
  same split, with Keras's ``output_padding < strides``; and Keras refuses ``max(strides) > 1``
  with ``max(dilation_rate) > 1`` over the whole layer, and has no ``groups``.
- JAX ``lax.conv_general_dilated`` with ``lhs_dilation=stride``, ``rhs_dilation=dilation`` and
  explicit (possibly negative) padding ``(d·(k−1) − p, d·(k−1) − p + op)``: every layer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import NamedTuple

from service.solver.params import DimParams

TARGETS = ("onnx", "jax", "keras")

ONNX_OPSET = 17


class Verdict(NamedTuple):
    """One target's verdict: ``exact`` or ``refused``, with the rule that refuses."""

    status: str
    reason: str | None = None


class OnnxEncoding(NamedTuple):
    """The attributes of one ONNX ``ConvTranspose`` node (opset >= 17)."""

    kernel_shape: tuple[int, ...]
    strides: tuple[int, ...]
    dilations: tuple[int, ...]
    pads: tuple[int, ...]  # all begins, then all ends, as ONNX orders them
    output_padding: tuple[int, ...]
    group: int


class JaxEncoding(NamedTuple):
    """Arguments of ``jax.lax.conv_general_dilated`` (stride 1; the kernel flipped, I/O swapped)."""

    padding: tuple[tuple[int, int], ...]
    lhs_dilation: tuple[int, ...]
    rhs_dilation: tuple[int, ...]
    feature_group_count: int


class KerasEncoding(NamedTuple):
    """Keras 3 ``Conv{N}DTranspose(padding="valid")``, then ``Cropping{N}D`` when any crop is not 0."""

    kernel_size: tuple[int, ...]
    strides: tuple[int, ...]
    dilation_rate: tuple[int, ...]
    output_padding: tuple[int, ...]
    cropping: tuple[tuple[int, int], ...]


def folded_output_padding(params: DimParams) -> int:
    """The output_padding left once the end pad (``padding``) has absorbed what it can.

    >>> folded_output_padding(DimParams(3, 1, 2, 0, 1)), folded_output_padding(DimParams(3, 1, 2, 1, 1))
    (1, 0)
    """
    return max(0, params.output_padding - params.padding)


def dim_refusal(target: str, params: DimParams, dim: int = 0) -> str | None:
    """The rule of ``target`` that one dimension breaks on its own, or None.

    >>> dim_refusal("onnx", DimParams(2, 1, 2, 0, 1))
    'dim 0: onnxruntime needs output_padding < stride: output_padding 1 − padding 0 = 1 must be < stride 1'
    >>> dim_refusal("onnx", DimParams(2, 1, 2, 3, 1)) is None
    True
    """
    if target == "jax":
        return None
    left = folded_output_padding(params)
    if left < params.stride:
        return None
    runtime = "onnxruntime" if target == "onnx" else "Keras"
    return (
        f"dim {dim}: {runtime} needs output_padding < stride: output_padding {params.output_padding} − "
        f"padding {params.padding} = {left} must be < stride {params.stride}"
    )


def layer_refusal(target: str, strides: Sequence[int], dilations: Sequence[int], groups: int) -> str | None:
    """The rule of ``target`` that the layer as a whole breaks (across dimensions), or None.

    >>> layer_refusal("keras", (2, 1), (1, 2), 1)
    'Keras refuses strides > 1 together with dilation_rate > 1 (strides (2, 1), dilation_rate (1, 2))'
    """
    if target != "keras":
        return None
    if groups != 1:
        return f"Keras Conv*DTranspose has no groups argument (groups {groups})"
    if max(strides) > 1 and max(dilations) > 1:
        return (
            f"Keras refuses strides > 1 together with dilation_rate > 1 (strides {tuple(strides)}, "
            f"dilation_rate {tuple(dilations)})"
        )
    return None


def verdict(target: str, layer: Sequence[DimParams], groups: int = 1) -> Verdict:
    """Whether ``target`` reproduces a PyTorch-valid layer exactly, and if not, why.

    >>> verdict("keras", [DimParams(3, 2, 1, 1, 1)] * 2)
    Verdict(status='exact', reason=None)
    """
    reasons = [
        reason
        for reason in (
            layer_refusal(target, [p.stride for p in layer], [p.dilation for p in layer], groups),
            *(dim_refusal(target, p, dim) for dim, p in enumerate(layer)),
        )
        if reason is not None
    ]
    return Verdict("refused", "; ".join(reasons)) if reasons else Verdict("exact")


ALL_EXACT: Mapping[str, Verdict] = MappingProxyType(dict.fromkeys(TARGETS, Verdict("exact")))


def portability(layer: Sequence[DimParams], groups: int = 1) -> Mapping[str, Verdict]:
    """Every target's verdict on the layer; ``ALL_EXACT`` itself when every target ports it.

    >>> portability([DimParams(4, 2, 1, 1, 0)] * 2) is ALL_EXACT
    True
    """
    # Most layers port everywhere: one pass over the dimensions settles it (every answer pays it).
    strided = dilated = False
    for p in layer:
        if p.output_padding - p.padding >= p.stride:
            break
        strided, dilated = strided or p.stride > 1, dilated or p.dilation > 1
    else:
        if groups == 1 and not (strided and dilated):
            return ALL_EXACT
    return {target: verdict(target, layer, groups) for target in TARGETS}


def option_filter(targets: Sequence[str], *, tie_dims: bool) -> Callable[[DimParams], bool] | None:
    """A predicate on one dimension's option: it breaks no rule of any of ``targets``.

    With ``tie_dims`` every dimension shares (kernel, stride, dilation), so the layer-wide
    stride/dilation rule is a rule on each option too; untied, it spans dimensions and the
    caller applies it (``enumeration.build_space``). None when nothing is filtered.

    >>> ports = option_filter(["keras"], tie_dims=True)
    >>> ports(DimParams(3, 2, 1, 1, 1)), ports(DimParams(3, 2, 2, 1, 1)), ports(DimParams(3, 2, 1, 0, 2))
    (True, False, False)
    """
    strict = [t for t in targets if t != "jax"]
    if not strict:
        return None
    per_layer = tie_dims and "keras" in strict

    def ports(params: DimParams) -> bool:
        if per_layer and layer_refusal("keras", (params.stride,), (params.dilation,), 1) is not None:
            return False
        return all(dim_refusal(target, params) is None for target in strict)

    return ports


def onnx_encoding(layer: Sequence[DimParams], groups: int = 1) -> OnnxEncoding:
    """The ConvTranspose node for the layer (meaningful when ``verdict("onnx", ...)`` is exact).

    >>> node = onnx_encoding([DimParams(3, 1, 2, 1, 1)])
    >>> node.pads, node.output_padding
    ((1, 0), (0,))
    """
    ops = tuple(folded_output_padding(p) for p in layer)
    return OnnxEncoding(
        kernel_shape=tuple(p.kernel_size for p in layer),
        strides=tuple(p.stride for p in layer),
        dilations=tuple(p.dilation for p in layer),
        pads=(
            *(p.padding for p in layer),
            *(p.padding - p.output_padding + op for p, op in zip(layer, ops, strict=True)),
        ),
        output_padding=ops,
        group=groups,
    )


def jax_encoding(layer: Sequence[DimParams], groups: int = 1) -> JaxEncoding:
    """``conv_general_dilated`` arguments for the layer (exact for every PyTorch-valid layer).

    >>> jax_encoding([DimParams(4, 2, 1, 1, 0)]).padding
    ((2, 2),)
    """
    return JaxEncoding(
        padding=tuple(
            (
                p.dilation * (p.kernel_size - 1) - p.padding,
                p.dilation * (p.kernel_size - 1) - p.padding + p.output_padding,
            )
            for p in layer
        ),
        lhs_dilation=tuple(p.stride for p in layer),
        rhs_dilation=tuple(p.dilation for p in layer),
        feature_group_count=groups,
    )


def keras_encoding(layer: Sequence[DimParams]) -> KerasEncoding:
    """The Keras layer and the crop after it (meaningful when ``verdict("keras", ...)`` is exact).

    >>> keras_encoding([DimParams(3, 2, 1, 1, 1)]).cropping
    ((1, 0),)
    """
    ops = tuple(folded_output_padding(p) for p in layer)
    return KerasEncoding(
        kernel_size=tuple(p.kernel_size for p in layer),
        strides=tuple(p.stride for p in layer),
        dilation_rate=tuple(p.dilation for p in layer),
        output_padding=ops,
        cropping=tuple(
            (p.padding, p.padding - p.output_padding + op) for p, op in zip(layer, ops, strict=True)
        ),
    )


def groups_refusal(targets: Sequence[str], groups: int) -> str | None:
    """A target that refuses every layer with these groups (Keras has none), else None."""
    refusals = [reason for target in targets if (reason := layer_refusal(target, (1,), (1,), groups))]
    return "; ".join(refusals) or None
