"""Layers of a verify request as normalised jobs, and what the solver expects of each (no torch).

The worker runs these jobs; the API (which may not import torch) uses the same expectations to
check what a remote worker reports.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from service.api.schemas import LayerIn, VerificationOut, VerifyRequest
from service.solver.rules import LayerCheck, check_layer
from service.solver.sizes import Dims, broadcast, resolve_ndim

FIELDS = ("kernel_size", "stride", "padding", "output_padding", "dilation")


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
    fields = {name: getattr(layer, name) for name in FIELDS}
    # The same rule as every other endpoint: arrays set the dimensionality, a bare int is 2-D.
    ndim = resolve_ndim(input_size=request.input_size, **fields)
    return Job(
        input_size=broadcast(request.input_size, ndim, name="input_size"),
        layer=tuple(broadcast(value, ndim, name=name) for name, value in fields.items()),
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


DTYPE_BYTES = {"float32": 4, "float64": 8, "float16": 2, "bfloat16": 2}


def peak_memory_estimate(job: Job, output_size: Dims) -> int:
    """An upper estimate of the bytes running ``job`` holds at once: input (and its float32 CPU
    original), weights, output, and the col2im buffer of the CPU kernel ((out_channels × taps) ×
    input pixels per sample, which dominates for large kernels); backward doubles them, numerics
    adds a float64 copy of each.

    >>> job = Job((512, 512), ((8, 8), (4, 4), (0, 0), (0, 0), (1, 1)), 16, 16, 1, 1, True,
    ...           "float32", "cpu", False, False, False, 1)
    >>> round(peak_memory_estimate(job, (2052, 2052)) / 2**20)  # measured: about 1,060 MB RSS
    1360
    """
    kernel_size = job.layer[0]
    pixels, taps = math.prod(job.input_size), math.prod(kernel_size)
    inputs = job.batch_size * job.in_channels * pixels
    weights = job.in_channels * (job.out_channels // max(job.groups, 1)) * taps
    outputs = job.batch_size * job.out_channels * math.prod(max(o, 0) for o in output_size)
    columns = job.out_channels * taps * pixels
    elements = inputs + weights + outputs + columns
    total = DTYPE_BYTES[job.dtype] * elements + 4 * inputs
    if job.backward:
        total += DTYPE_BYTES[job.dtype] * elements
    if job.numerics:
        total += 8 * elements
    return total


def work_estimate(job: Job) -> int:
    """Multiply-accumulates ``job`` runs: forward once, a warm-up and ``repeats`` more when timed,
    three times as many with backward, once more in float64 for numerics."""
    kernel_size = job.layer[0]
    macs = (
        job.batch_size
        * job.in_channels
        * (job.out_channels // max(job.groups, 1))
        * math.prod(kernel_size)
        * math.prod(job.input_size)
    )
    runs = 1 + (1 + job.repeats if job.timing else 0)
    return macs * runs * (3 if job.backward else 1) + (macs if job.numerics else 0)
