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

import numpy as np
import numpy.typing as npt

from service.solver.sizes import Dims, any_dim, formula

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


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


class LayerChecks(NamedTuple):
    """The verdicts on a stack of layers: per-dimension arrays of shape (n, dims), padded past each
    layer's own dimensionality with neutral values (``sizes.stack_layers``), and per-layer arrays
    of shape (n,)."""

    output_size: IntArray
    output_padding_too_large: BoolArray
    output_too_small: BoolArray
    in_channels_not_divisible: BoolArray
    out_channels_not_divisible: BoolArray

    @property
    def is_valid(self) -> BoolArray:
        per_dim = any_dim(self.output_padding_too_large | self.output_too_small)
        return ~(per_dim | self.in_channels_not_divisible | self.out_channels_not_divisible)

    def first_violation(self) -> tuple[list[str | None], list[int | None]]:
        """Per layer, the code and dimension of the first broken rule (the order of ``violations``:
        channel rules, then dimension by dimension output_padding before output size)."""
        code, dim = self.first_violation_index()
        codes = [None if c < 0 else VIOLATION_CODES[c] for c in code.tolist()]
        dims = [None if d < 0 else d for d in dim.tolist()]
        return codes, dims

    def first_violation_index(self) -> tuple[IntArray, IntArray]:
        """``first_violation`` as arrays: an index into ``VIOLATION_CODES`` and the dimension per
        layer, -1 where there is none.

        >>> one = lambda v: np.array([[v, v]])
        >>> checks = check_layers(one(1), kernel_size=one(1), stride=one(1), padding=one(1),
        ...     output_padding=one(0), dilation=one(1), in_channels=np.array([1]),
        ...     out_channels=np.array([1]), groups=np.array([1]))
        >>> [arr.tolist() for arr in checks.first_violation_index()]
        [[1], [0]]
        """
        per_dim = self.output_padding_too_large | self.output_too_small
        broken = any_dim(per_dim)
        rows = np.arange(len(per_dim))
        first_dim = per_dim.argmax(axis=1)
        too_large = self.output_padding_too_large[rows, first_dim]
        code = np.where(broken, np.where(too_large, 0, 1), -1)
        dim = np.where(broken, first_dim, -1)
        channels = self.in_channels_not_divisible | self.out_channels_not_divisible
        code = np.where(channels, np.where(self.in_channels_not_divisible, 2, 3), code)
        dim = np.where(channels, -1, dim)
        return code.astype(np.int64), dim.astype(np.int64)


# What ``first_violation_index`` indexes.
VIOLATION_CODES = (
    "output_padding_too_large",
    "output_too_small",
    "in_channels_not_divisible_by_groups",
    "out_channels_not_divisible_by_groups",
)


def check_layers(
    input_size: IntArray,
    *,
    kernel_size: IntArray,
    stride: IntArray,
    padding: IntArray,
    output_padding: IntArray,
    dilation: IntArray,
    in_channels: IntArray,
    out_channels: IntArray,
    groups: IntArray,
) -> LayerChecks:
    """torch's rules on a stack of layers at once: the one implementation of them.

    Per dimension ``out = (in - 1)·stride − 2·padding + dilation·(kernel_size − 1) +
    output_padding + 1``; ``output_padding < max(stride, dilation)`` (ATen checks
    ``op < stride || op < dilation``); ``out >= 1``; ``groups`` divides both channel counts.

    >>> one = lambda v: np.array([[v]])
    >>> checks = check_layers(one(5), kernel_size=one(3), stride=one(2), padding=one(1),
    ...     output_padding=one(3), dilation=one(1), in_channels=np.array([1]),
    ...     out_channels=np.array([1]), groups=np.array([1]))
    >>> checks.output_size.tolist(), checks.output_padding_too_large.tolist()
    ([[12]], [[True]])
    """
    output = (input_size - 1) * stride - 2 * padding + dilation * (kernel_size - 1) + output_padding + 1
    return LayerChecks(
        output_size=output,
        output_padding_too_large=(output_padding >= stride) & (output_padding >= dilation),
        output_too_small=output < 1,
        in_channels_not_divisible=in_channels % groups != 0,
        out_channels_not_divisible=out_channels % groups != 0,
    )


def violations_of(
    checks: LayerChecks,
    n: int,
    *,
    ndim: int,
    stride: IntArray,
    output_padding: IntArray,
    dilation: IntArray,
    in_channels: int,
    out_channels: int,
    groups: int,
    derivations: tuple[str, ...],
) -> tuple[RuleViolation, ...]:
    """Layer ``n``'s broken rules, worded with its numbers: channel rules first, then dimension by
    dimension."""
    violations: list[RuleViolation] = []
    for name, channels, broken in (
        ("in_channels", in_channels, checks.in_channels_not_divisible[n]),
        ("out_channels", out_channels, checks.out_channels_not_divisible[n]),
    ):
        if broken:
            violations.append(
                RuleViolation(
                    code=f"{name}_not_divisible_by_groups",
                    message=f"{name} {channels} must be divisible by groups {groups}"
                    f" (remainder {channels % groups})",
                )
            )
    for dim in range(ndim):
        if checks.output_padding_too_large[n, dim]:
            op, s, d = int(output_padding[n, dim]), int(stride[n, dim]), int(dilation[n, dim])
            bound = max(s, d)
            violations.append(
                RuleViolation(
                    code="output_padding_too_large",
                    message=f"dim {dim}: output_padding {op} must be < max(stride {s}, dilation {d})"
                    f" = {bound} (over by {op - bound + 1})",
                    dim=dim,
                )
            )
        if checks.output_too_small[n, dim]:
            out = int(checks.output_size[n, dim])
            violations.append(
                RuleViolation(
                    code="output_too_small",
                    message=f"dim {dim}: output size {out} must be >= 1 (short by {1 - out}): "
                    f"{derivations[dim]}",
                    dim=dim,
                )
            )
    return tuple(violations)


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
    """``check_layers`` on a stack of one, whose fields are already tuples of equal length.

    Every violated rule is reported, in dimension order, channel rules first.

    >>> check_layer((5,), kernel_size=(3,), stride=(2,), padding=(1,),
    ...             output_padding=(3,), dilation=(1,)).violations[0].message
    'dim 0: output_padding 3 must be < max(stride 2, dilation 1) = 2 (over by 2)'
    """
    fields = {
        "input_size": input_size,
        "kernel_size": kernel_size,
        "stride": stride,
        "padding": padding,
        "output_padding": output_padding,
        "dilation": dilation,
    }
    arrays = {name: np.array([value], dtype=np.int64) for name, value in fields.items()}
    channels = {
        "in_channels": np.array([in_channels]),
        "out_channels": np.array([out_channels]),
        "groups": np.array([groups]),
    }
    checks = check_layers(**arrays, **channels)
    sizes = tuple(checks.output_size[0].tolist())
    texts = tuple(
        formula(i, k, s, p, op, d)
        for i, k, s, p, op, d in zip(
            input_size, kernel_size, stride, padding, output_padding, dilation, strict=True
        )
    )
    violations = violations_of(
        checks,
        0,
        ndim=len(input_size),
        stride=arrays["stride"],
        output_padding=arrays["output_padding"],
        dilation=arrays["dilation"],
        in_channels=in_channels,
        out_channels=out_channels,
        groups=groups,
        derivations=texts,
    )
    return LayerCheck(output_size=sizes, derivations=texts, violations=violations)


def channels_refusal(in_channels: int, out_channels: int, groups: int) -> str | None:
    """Why torch refuses these channels with ``groups`` (as /v1/shape words it), else None."""
    if groups == 1:
        return None
    check = check_layer(
        (1,),
        kernel_size=(1,),
        stride=(1,),
        padding=(0,),
        output_padding=(0,),
        dilation=(1,),
        in_channels=in_channels,
        out_channels=out_channels,
        groups=groups,
    )
    return "; ".join(v.message for v in check.violations) or None
