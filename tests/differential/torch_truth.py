"""Ground truth from real PyTorch on the CPU (the meta device skips the output_padding rule)."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence

import torch
import torch.nn.functional as F  # noqa: N812

torch.set_num_threads(1)

MODULES = {1: torch.nn.ConvTranspose1d, 2: torch.nn.ConvTranspose2d, 3: torch.nn.ConvTranspose3d}
FUNCTIONS = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}

Layer = tuple[
    tuple[int, ...], ...
]  # (kernel_size, stride, padding, output_padding, dilation), per-dim tuples


def module_output(
    input_size: Sequence[int],
    *,
    kernel_size: Sequence[int],
    stride: Sequence[int],
    padding: Sequence[int],
    output_padding: Sequence[int],
    dilation: Sequence[int],
    in_channels: int = 1,
    out_channels: int = 1,
    groups: int = 1,
) -> tuple[int, ...] | None:
    """Build the torch module and run it: its output spatial size, or None if torch refuses."""
    try:
        module = MODULES[len(input_size)](
            in_channels,
            out_channels,
            tuple(kernel_size),
            stride=tuple(stride),
            padding=tuple(padding),
            output_padding=tuple(output_padding),
            dilation=tuple(dilation),
            groups=groups,
        )
        with torch.no_grad():
            out = module(torch.zeros(1, in_channels, *input_size))
    except (RuntimeError, ValueError):
        return None
    return tuple(out.shape[2:]) if out.numel() > 0 else None


def brute_force(
    input_size: Sequence[int],
    output_size: Sequence[int],
    *,
    triples: Iterable[tuple[int, int, int]],
    tie_dims: bool,
    padding: Sequence[int] | None,
    output_padding: Sequence[int] | None,
) -> set[Layer]:
    """Every layer in the space that torch runs with exactly ``output_size``, by trying them all.

    ``padding`` None: 0..d·(k−1) per candidate; ``output_padding`` None: the legal range, found
    by offering torch 0..max(s, d) (one past the legal bound) and keeping what it accepts.
    """
    ndim = len(input_size)
    x = torch.zeros((1, 1, *input_size))
    run = FUNCTIONS[ndim]
    target = tuple(output_size)
    weights: dict[tuple[int, ...], torch.Tensor] = {}

    def dim_choices(k: int, s: int, d: int) -> list[tuple[int, int, int, int, int]]:
        pads = padding if padding is not None else range(d * (k - 1) + 1)
        ops = output_padding if output_padding is not None else range(max(s, d) + 1)
        return [(k, s, d, p, op) for p in pads for op in ops]

    triples = list(triples)
    if tie_dims:
        per_layer = (
            combo for k, s, d in triples for combo in itertools.product(dim_choices(k, s, d), repeat=ndim)
        )
    else:
        per_dim = [c for k, s, d in triples for c in dim_choices(k, s, d)]
        per_layer = itertools.product(per_dim, repeat=ndim)
    found: set[Layer] = set()
    for combo in per_layer:
        kernel = tuple(c[0] for c in combo)
        if kernel not in weights:
            weights[kernel] = torch.zeros((1, 1, *kernel))
        try:
            out = run(
                x,
                weights[kernel],
                stride=tuple(c[1] for c in combo),
                padding=tuple(c[3] for c in combo),
                output_padding=tuple(c[4] for c in combo),
                dilation=tuple(c[2] for c in combo),
            )
        except RuntimeError:
            continue
        if out.numel() > 0 and tuple(out.shape[2:]) == target:
            found.add(tuple(tuple(c[j] for c in combo) for j in (0, 1, 3, 4, 2)))
    return found
