"""Encoder inversion: mirror a Conv stack into ConvTranspose layers that restore every size.

Conv (torch's CPU rule, checked in tests/differential): per dimension the padded input must
hold the dilated kernel, ``i + 2·p >= d·(k − 1) + 1``; then
``out = floor((i + 2·p − d·(k − 1) − 1) / s) + 1``. Several inputs share one output (the
floor), so the mirrored ConvTranspose needs ``output_padding = (i + 2·p − d·(k − 1) − 1) mod s``
to pick the original back; that is < stride, hence always legal.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from service.solver.params import DimParams
from service.solver.sizes import Dims


@dataclass(frozen=True, slots=True)
class ConvLayer:
    """One encoder layer, every field a per-dimension tuple."""

    kernel_size: Dims
    stride: Dims
    padding: Dims
    dilation: Dims


@dataclass(frozen=True, slots=True)
class Inversion:
    sizes: tuple[Dims, ...]
    output_paddings: tuple[Dims, ...]
    error: str | None = None
    failed_layer: int | None = None
    failed_dim: int | None = None

    @property
    def is_valid(self) -> bool:
        return self.error is None


def conv_output(input_size: int, *, kernel_size: int, stride: int, padding: int, dilation: int) -> int | None:
    """Conv output length, or None when torch refuses (kernel larger than the padded input).

    >>> conv_output(7, kernel_size=3, stride=2, padding=1, dilation=1)
    4
    """
    span = input_size + 2 * padding - dilation * (kernel_size - 1) - 1
    return None if span < 0 else span // stride + 1


def invert_encoder(input_size: Dims, layers: Sequence[ConvLayer]) -> Inversion:
    """Sizes after each encoder layer and, per layer, the output_padding its mirror needs.

    >>> inv = invert_encoder((7,), [ConvLayer((3,), (2,), (1,), (1,))])
    >>> inv.sizes, inv.output_paddings
    (((7,), (4,)), ((0,),))
    """
    sizes = [input_size]
    paddings: list[Dims] = []
    for index, layer in enumerate(layers):
        current = sizes[-1]
        out: list[int] = []
        ops: list[int] = []
        for dim, (i, k, s, p, d) in enumerate(
            zip(current, layer.kernel_size, layer.stride, layer.padding, layer.dilation, strict=True)
        ):
            size = conv_output(i, kernel_size=k, stride=s, padding=p, dilation=d)
            if size is None:
                return Inversion(
                    tuple(sizes),
                    tuple(paddings),
                    error=f"layer {index}, dim {dim}: padded input {i + 2 * p} (input {i} + 2·padding"
                    f" {p}) is smaller than the dilated kernel {d * (k - 1) + 1} (dilation {d}·(kernel"
                    f" {k}−1) + 1)",
                    failed_layer=index,
                    failed_dim=dim,
                )
            out.append(size)
            ops.append((i + 2 * p - d * (k - 1) - 1) % s)
        sizes.append(tuple(out))
        paddings.append(tuple(ops))
    return Inversion(tuple(sizes), tuple(paddings))


def exact_input_sizes(
    input_size: int, layers: Sequence[tuple[int, int, int, int]]
) -> tuple[int | None, int | None]:
    """Nearest input lengths <= and >= ``input_size`` at which every stage needs output_padding 0.

    ``layers`` holds (kernel, stride, padding, dilation) for one dimension. A stage is exact
    when its input is ``(o − 1)·s + d·(k − 1) + 1 − 2·p`` for its output o >= 1, so the exact
    inputs of the whole stack are ``A·m + B`` (m >= 1 the final size, A the product of
    strides), limited to m whose every intermediate size is >= 1: computed, not searched.

    >>> exact_input_sizes(100, [(3, 2, 1, 1)] * 5)  # five stride-2 stages: 32·m − 31
    (97, 129)
    """
    scale, offset = 1, 0  # input = scale·m + offset, built from the last layer backwards
    m_min = 1
    for k, s, p, d in reversed(layers):
        scale, offset = scale * s, offset * s + d * (k - 1) + 1 - 2 * p - s
        # This stage's input must be >= 1: scale·m + offset >= 1.
        m_min = max(m_min, -(-(1 - offset) // scale))
    below_m = (input_size - offset) // scale
    above_m = -(-(input_size - offset) // scale)
    below = scale * below_m + offset if below_m >= m_min else None
    above = scale * max(above_m, m_min) + offset
    return below, above


@dataclass(frozen=True, slots=True)
class Decoder:
    """The mirror of an encoder, in decoder order; empty when torch refuses the encoder."""

    inversion: Inversion
    layers: list[tuple[DimParams, ...]]  # one DimParams per dimension, last encoder layer first
    sizes: list[Dims]  # after each decoder layer
    exact_below: tuple[int | None, ...] | None  # per dimension, when valid (None: no smaller one)
    exact_above: tuple[int | None, ...] | None
    is_exact: bool  # every mirror needs output_padding 0


def mirror_encoder(input_size: Dims, layers: Sequence[ConvLayer]) -> Decoder:
    """The ConvTranspose decoder that restores every size of ``layers`` run on ``input_size``.

    >>> mirror_encoder((7,), [ConvLayer((3,), (2,), (1,), (1,))]).layers
    [(DimParams(kernel_size=3, stride=2, dilation=1, padding=1, output_padding=0),)]
    """
    inversion = invert_encoder(input_size, layers)
    if not inversion.is_valid:
        # A decoder exists only for an encoder torch accepts in full.
        return Decoder(inversion, [], [], None, None, False)
    decoder = [
        tuple(
            DimParams(k, s, d, p, op)
            for k, s, d, p, op in zip(
                layer.kernel_size, layer.stride, layer.dilation, layer.padding, ops, strict=True
            )
        )
        for layer, ops in zip(reversed(layers), reversed(inversion.output_paddings), strict=True)
    ]
    per_dim = [
        exact_input_sizes(
            input_size[dim],
            [(c.kernel_size[dim], c.stride[dim], c.padding[dim], c.dilation[dim]) for c in layers],
        )
        for dim in range(len(input_size))
    ]
    return Decoder(
        inversion,
        decoder,
        list(reversed(inversion.sizes[:-1])),
        tuple(b for b, _ in per_dim),
        tuple(a for _, a in per_dim),
        not any(any(ops) for ops in inversion.output_paddings),
    )
