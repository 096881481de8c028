"""PyTorch's validity rules for a ConvTranspose layer; each failure names the rule and the numbers.

The rules are those the CPU kernels enforce (checked against torch 2.13 in
tests/differential): per dimension ``output_padding < max(stride, dilation)``
(ATen's ``NaiveConvolutionTranspose{2,3}d.cpp`` accepts output_padding smaller than
*either* stride or dilation, unlike the module's ``output_size=`` helper, which only
tries ``< stride``) and an output of at least one element; for the module, groups must
divide both channel counts.
"""

from __future__ import annotations

from typing import NamedTuple

from service.solver.sizes import Dims, formula


class RuleViolation(NamedTuple):
    """One broken rule: a stable ``code``, the spatial ``dim`` (None for channel rules), a message."""

    code: str
    message: str
    dim: int | None = None


class LayerCheck(NamedTuple):
    """The verdict on one layer applied to one input size."""

    output_size: Dims
    derivations: tuple[str, ...]
    violations: tuple[RuleViolation, ...]

    @property
    def is_valid(self) -> bool:
        return not self.violations


def check_layer(
    input_size: Dims,
    *,
    kernel_size: Dims,
    stride: Dims,
    padding: Dims,
    output_padding: Dims,
    dilation: Dims,
    in_channels: int = 1,
    out_channels: int = 1,
    groups: int = 1,
) -> LayerCheck:
    """Apply torch's rules to a layer whose fields are already tuples of equal length.

    Every violated rule is reported, in dimension order, channel rules first.

    >>> check_layer((5,), kernel_size=(3,), stride=(2,), padding=(1,),
    ...             output_padding=(3,), dilation=(1,)).violations[0].message
    'dim 0: output_padding 3 must be < max(stride 2, dilation 1) = 2 (over by 2)'
    """
    violations: list[RuleViolation] = []
    for name, channels in (("in_channels", in_channels), ("out_channels", out_channels)):
        if channels % groups:
            violations.append(
                RuleViolation(
                    code=f"{name}_not_divisible_by_groups",
                    message=f"{name} {channels} must be divisible by groups {groups}"
                    f" (remainder {channels % groups})",
                )
            )
    sizes: list[int] = []
    texts: list[str] = []
    # Inlined arithmetic (sizes.forward_size / sizes.formula): this runs once per item of a
    # 10,000-layer batch.
    for dim, (i, k, s, p, op, d) in enumerate(
        zip(input_size, kernel_size, stride, padding, output_padding, dilation, strict=True)
    ):
        out = (i - 1) * s - 2 * p + d * (k - 1) + op + 1
        text = formula(i, k, s, p, op, d)
        sizes.append(out)
        texts.append(text)
        # Why max(stride, dilation): ATen checks `op < stride || op < dilation`.
        if op >= s and op >= d:
            bound = max(s, d)
            violations.append(
                RuleViolation(
                    code="output_padding_too_large",
                    message=f"dim {dim}: output_padding {op} must be < max(stride {s}, dilation {d})"
                    f" = {bound} (over by {op - bound + 1})",
                    dim=dim,
                )
            )
        if out < 1:
            violations.append(
                RuleViolation(
                    code="output_too_small",
                    message=f"dim {dim}: output size {out} must be >= 1 (short by {1 - out}): {text}",
                    dim=dim,
                )
            )
    return LayerCheck(output_size=tuple(sizes), derivations=tuple(texts), violations=tuple(violations))
