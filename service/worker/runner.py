"""Build each layer in real PyTorch, run it, and classify the outcome against the solver's prediction.

This is the only module that imports torch at module level; the API reaches it only through
``make_verifier`` (in-process verification) so that a remote-worker API never loads torch.
"""

from __future__ import annotations

import copy
import gc
import importlib.metadata
import math
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from service import targets
from service.solver import limits
from service.solver.params import DimParams
from service.wire.schemas import TargetCheckOut, VerificationOut
from service.worker.jobs import Job, expected_check, jobs_of

__all__ = ["Job", "environment", "jobs_of", "resolve_device", "run_job"]

MODULES: dict[int, Any] = {
    1: torch.nn.ConvTranspose1d,
    2: torch.nn.ConvTranspose2d,
    3: torch.nn.ConvTranspose3d,
}
DTYPES = {
    "float32": torch.float32,
    "float64": torch.float64,
    "float16": torch.float16,
    "bfloat16": torch.bfloat16,
}


def resolve_device(device: str) -> str:
    """``auto`` is the GPU when there is one, else the CPU; ``cuda`` without a GPU stays ``cuda``
    (and fails per layer with torch's own message)."""
    if device == "auto":
        return "cuda:0" if torch.cuda.is_available() else "cpu"
    return "cuda:0" if device == "cuda" else device


def environment(device: str) -> dict[str, object]:
    """Device name and library versions, as the response reports them."""
    name = torch.cuda.get_device_name(0) if device.startswith("cuda") and torch.cuda.is_available() else None
    cudnn = torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None  # type: ignore[no-untyped-call]
    return {
        "device": device,
        "device_name": name or device,
        "torch_version": torch.__version__,
        "cuda_version": torch.version.cuda,
        "cudnn_version": cudnn,
    }


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return f"{type(exc).__name__}: {text.splitlines()[0]}"


def _median_ms(run: Callable[[], object], *, repeats: int, device: torch.device) -> float:
    """Median wall time of ``run``: CUDA events on a GPU (after a warm-up), perf_counter on the CPU."""
    run()  # warm-up: cuDNN algorithm choice, allocator, lazy init
    samples: list[float] = []
    if device.type == "cuda":
        for _ in range(repeats):
            start = torch.cuda.Event(enable_timing=True)  # type: ignore[no-untyped-call]
            end = torch.cuda.Event(enable_timing=True)  # type: ignore[no-untyped-call]
            start.record()
            run()
            end.record()
            end.synchronize()
            samples.append(start.elapsed_time(end))
    else:
        for _ in range(repeats):
            began = time.perf_counter()
            run()
            samples.append((time.perf_counter() - began) * 1000)
    return statistics.median(samples)


def run_job(job: Job) -> VerificationOut:
    """Run one layer; every exception (CUDA out-of-memory included) becomes a ``failed`` result."""
    kernel_size = job.layer[0]
    check = expected_check(job)
    expected = list(check.output_size) if check.is_valid else None
    result = {"device": job.device, "expected_output_size": expected}

    sizes = {
        "input": job.batch_size * job.in_channels * math.prod(job.input_size),
        "weight": job.in_channels * (job.out_channels // max(job.groups, 1)) * math.prod(kernel_size),
        "output": job.batch_size * job.out_channels * math.prod(max(o, 0) for o in check.output_size),
    }
    over = {name: n for name, n in sizes.items() if n > limits.MAX_VERIFY_ELEMENTS}
    if over:
        detail = ", ".join(f"{name} {n:,}" for name, n in over.items())
        return VerificationOut(
            status="unavailable",
            error=f"tensors over the verification cap of {limits.MAX_VERIFY_ELEMENTS:,} elements: {detail}",
            **result,
        )
    device = torch.device(job.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        # Nothing was run, so nothing is confirmed or refused: the device is simply not here.
        return VerificationOut(
            status="unavailable",
            error="this worker has no CUDA device; use device auto, cpu or meta",
            **result,
        )
    try:
        return _run(job, device, expected, check.violations[0].message if check.violations else None)
    except Exception as exc:  # torch raises RuntimeError, ValueError, OutOfMemoryError, ...
        return VerificationOut(
            status="failed",
            error=_first_line(exc),
            refused_by=[device.type],
            accepted_by=[] if expected is None else ["solver"],
            **result,
        )
    finally:
        if device.type == "cuda":
            gc.collect()
            torch.cuda.empty_cache()


def _run(job: Job, device: torch.device, expected: list[int] | None, rule: str | None) -> VerificationOut:
    kernel_size, stride, padding, output_padding, dilation = job.layer
    dtype = DTYPES[job.dtype]
    generator = torch.Generator().manual_seed(0)
    module = MODULES[len(job.input_size)](
        job.in_channels,
        job.out_channels,
        kernel_size,
        stride=stride,
        padding=padding,
        output_padding=output_padding,
        dilation=dilation,
        groups=job.groups,
        bias=job.bias,
    )
    with torch.no_grad():
        for parameter in module.parameters():
            parameter.copy_(torch.randn(parameter.shape, generator=generator) * 0.1)
    # Module.to() works in place: the float64 reference must be a copy made before it.
    reference_module = copy.deepcopy(module).to(torch.float64) if job.numerics else None
    # Export targets are compared with PyTorch's CPU float32 result, whatever the device.
    cpu_module = copy.deepcopy(module) if job.targets else None
    module = module.to(device=device, dtype=dtype)
    cpu_input = torch.randn(job.batch_size, job.in_channels, *job.input_size, generator=generator)
    x = cpu_input.to(device=device, dtype=dtype)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)

    with torch.no_grad():
        out = module(x)
    produced = list(out.shape[2:])
    base = {"device": str(device), "expected_output_size": expected, "output_size": produced}
    if expected is None:
        # The device ran what the CPU kernels refuse (meta skips the output_padding rule; CUDA
        # returns empty tensors where the CPU raises): never a confirmation.
        return VerificationOut(
            status="failed",
            error=f"{device.type} ran it, but the CPU kernels refuse it: {rule}",
            accepted_by=[device.type],
            refused_by=["cpu"],
            **base,
        )
    if out.numel() == 0 or produced != expected:
        return VerificationOut(
            status="failed",
            error=f"produced {produced} (numel {out.numel()}); the solver predicted {expected}",
            **base,
        )
    extra: dict[str, object] = {}
    if reference_module is not None and device.type != "meta":
        with torch.no_grad():
            truth = reference_module(cpu_input.to(torch.float64))
        extra["max_abs_error"] = float((out.detach().cpu().to(torch.float64) - truth).abs().max())
    if job.backward:
        x_grad = x.detach().requires_grad_(True)
        module(x_grad).sum().backward()
    if job.timing and device.type != "meta":
        with torch.no_grad():
            extra["latency_ms"] = _median_ms(lambda: module(x), repeats=job.repeats, device=device)
        if job.backward:
            x_grad = x.detach().requires_grad_(True)
            extra["backward_ms"] = _median_ms(
                lambda: module(x_grad).sum().backward(), repeats=job.repeats, device=device
            )
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        extra["peak_memory_bytes"] = int(torch.cuda.max_memory_allocated(device))
    if cpu_module is not None:
        extra["targets"] = check_targets(job, cpu_module, cpu_input)
    return VerificationOut(status="confirmed", **base, **extra)


def check_targets(job: Job, module: Any, x: torch.Tensor) -> dict[str, TargetCheckOut]:
    """Run the layer in each export target (service.targets) on PyTorch's input and weights.

    ``confirmed``: same shape, values within float32 tolerance of PyTorch on the CPU.
    """
    with torch.no_grad():
        truth = module(x).numpy()
    kernel_size, stride, padding, output_padding, dilation = job.layer
    layer = tuple(map(DimParams, kernel_size, stride, dilation, padding, output_padding))
    weight = module.weight.detach().numpy()
    bias = module.bias.detach().numpy() if module.bias is not None else None
    checks: dict[str, TargetCheckOut] = {}
    for target in job.targets:
        version = _version(target)
        try:
            got = targets.RUNNERS[target](layer, x.numpy(), weight, bias, groups=job.groups)
        except targets.TargetUnavailableError as exc:
            checks[target] = TargetCheckOut(status="unavailable", error=str(exc), version=version)
            continue
        except targets.TargetRefusedError as exc:
            checks[target] = TargetCheckOut(status="failed", error=str(exc), version=version)
            continue
        if got.shape != truth.shape:
            checks[target] = TargetCheckOut(
                status="failed",
                error=f"{target} produced {list(got.shape[2:])}; PyTorch {list(truth.shape[2:])}",
                version=version,
            )
            continue
        gap = float(np.abs(got - truth).max()) if truth.size else 0.0
        close = bool(np.allclose(got, truth, rtol=TARGET_RTOL, atol=TARGET_ATOL))
        checks[target] = TargetCheckOut(
            status="confirmed" if close else "failed",
            max_abs_difference=gap,
            error=None if close else f"values differ from PyTorch by up to {gap:.3g}",
            version=version,
        )
    return checks


# float32 over these small layers: accumulation order differs between runtimes, not the result.
TARGET_RTOL = TARGET_ATOL = 1e-4
_DISTRIBUTIONS = {"onnx": "onnxruntime", "jax": "jax", "keras": "keras"}


def _version(target: str) -> str | None:
    try:
        return importlib.metadata.version(_DISTRIBUTIONS[target])
    except importlib.metadata.PackageNotFoundError:
        return None
