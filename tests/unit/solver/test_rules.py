"""Hand-worked cases of the forward formula and the rules' messages."""

from __future__ import annotations

import pytest

from service.solver.rules import check_layer
from service.solver.sizes import derivation, forward_size, resolve_ndim


def test_seed_article_example() -> None:
    # The article's closing experiment: 2x2 ones, kernel 2, stride 2, padding 1 -> 2x2.
    assert forward_size(2, kernel_size=2, stride=2, padding=1, output_padding=0, dilation=1) == 2
    assert derivation(7, kernel_size=4, stride=2, padding=1, output_padding=0, dilation=1) == (
        "(7-1)·2 − 2·1 + 1·(4−1) + 0 + 1 = 14"
    )


def test_output_padding_may_exceed_stride_when_dilation_is_larger() -> None:
    ok = check_layer((4,), kernel_size=(3,), stride=(1,), padding=(0,), output_padding=(2,), dilation=(3,))
    assert ok.is_valid
    assert ok.output_size == (4 - 1 + 6 + 2 + 1,)


def test_every_violation_is_reported_with_numbers() -> None:
    check = check_layer(
        (1, 5),
        kernel_size=(1, 3),
        stride=(1, 2),
        padding=(3, 1),
        output_padding=(0, 2),
        dilation=(1, 1),
        in_channels=3,
        out_channels=4,
        groups=2,
    )
    codes = [v.code for v in check.violations]
    assert codes == ["in_channels_not_divisible_by_groups", "output_too_small", "output_padding_too_large"]
    assert "short by 6" in check.violations[1].message
    assert (
        "output_padding 2 must be < max(stride 2, dilation 1) = 2 (over by 1)" in check.violations[2].message
    )


def test_resolve_ndim() -> None:
    assert resolve_ndim(input_size=[4], output_size=9) == 1
    with pytest.raises(ValueError, match="input_size has 2"):
        resolve_ndim(input_size=[4, 4], output_size=[9])
