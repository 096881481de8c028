"""Layers of a verify request as normalised jobs, and what the solver expects of each (no torch).

The worker runs these jobs; the API (which may not import torch) uses the same expectations to
check what a remote worker reports.
"""

from __future__ import annotations

from dataclasses import dataclass

from service.solver.rules import LayerCheck, check_layer
from service.solver.sizes import LAYER_FIELDS as FIELDS
from service.solver.sizes import Dims, normalise
from service.wire.schemas import LayerIn, VerificationOut, VerifyRequest


@dataclass(frozen=True, slots=True)
class Job:
    """One layer of a request, normalised: everything that can change its result (the cache key)."""

    input_size: Dims
    layer: tuple[Dims, ...]  # kernel_size, stride, padding, output_padding, dilation
    in_channels: int
    out_channels: int
    groups: int
    batch_size: int
    bias: bool
    dtype: str
    device: str
    timing: bool
    backward: bool
    numerics: bool
    repeats: int
    targets: tuple[str, ...] = ()


def jobs_of(request: VerifyRequest, device: str) -> list[Job | VerificationOut]:
    """One Job per layer; a layer whose dimensionality does not match is failed here."""
    out: list[Job | VerificationOut] = []
    for layer in request.layers:
        try:
            out.append(_job(request, layer, device))
        except ValueError as exc:
            out.append(VerificationOut(status="failed", error=str(exc), device=device))
    return out


def _job(request: VerifyRequest, layer: LayerIn, device: str) -> Job:
    # The one normalisation every endpoint uses: arrays set the dimensionality, a bare int is 2-D.
    fields = normalise({"input_size": request.input_size, **{name: getattr(layer, name) for name in FIELDS}})
    return Job(
        input_size=fields["input_size"],
        layer=tuple(fields[name] for name in FIELDS),
        in_channels=request.in_channels,
        out_channels=request.out_channels,
        groups=request.groups,
        batch_size=request.batch_size,
        bias=request.bias,
        dtype=request.dtype,
        device=device,
        timing=request.timing,
        backward=request.backward,
        numerics=request.numerics,
        repeats=request.repeats,
        targets=tuple(dict.fromkeys(request.targets)),
    )


def expected_check(job: Job) -> LayerCheck:
    """The solver's verdict on the job's layer: its output size and the rules it breaks."""
    kernel_size, stride, padding, output_padding, dilation = job.layer
    return check_layer(
        job.input_size,
        kernel_size=kernel_size,
        stride=stride,
        padding=padding,
        output_padding=output_padding,
        dilation=dilation,
        in_channels=job.in_channels,
        out_channels=job.out_channels,
        groups=job.groups,
    )
