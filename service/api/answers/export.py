"""/v1/export answers: a layer (or a plan) written as ONNX, JAX or Keras, from solver.portability's encodings.

The JAX and Keras code is service/targets.py's, the code the worker runs for /v1/verify targets;
tests/differential/test_export_vs_torch.py runs what this endpoint returns against PyTorch with
its own weights. onnx is imported only to build a model (``onnx_model``); torch never.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence

from service.api.dims import dims, ndim_of
from service.solver.enumeration import DimParams
from service.solver.errors import SolverError
from service.solver.portability import onnx_encoding, verdict
from service.solver.rules import check_layer
from service.solver.sizes import Dims
from service.targets import jax_code, keras_code, onnx_model
from service.wire.schemas import ExportRequest, ExportResponse, LayerIn, TargetVerdictOut

Layer = tuple[DimParams, ...]
_FIELDS = ("kernel_size", "stride", "padding", "output_padding", "dilation")


def _layers(request: ExportRequest) -> tuple[Dims, list[Layer]]:
    given: list[LayerIn] = [request.layer] if request.layer is not None else list(request.layers or [])
    arrays = {
        f"layers[{n}].{name}": value
        for n, layer in enumerate(given)
        for name in _FIELDS
        if not isinstance(value := getattr(layer, name), int)
    }
    ndim = ndim_of(input_size=request.input_size, **arrays)
    input_size = dims(request.input_size, ndim, "input_size")
    layers = []
    for n, layer in enumerate(given):
        fields = {name: dims(getattr(layer, name), ndim, f"layers[{n}].{name}") for name in _FIELDS}
        layers.append(
            tuple(
                DimParams(k, s, d, p, op)
                for k, s, p, op, d in zip(*(fields[name] for name in _FIELDS), strict=True)
            )
        )
    return input_size, layers


def _channels(request: ExportRequest, count: int) -> list[int]:
    if request.channels is None:
        return [request.in_channels] + [request.out_channels] * count
    if len(request.channels) != count + 1:
        raise SolverError(
            "invalid_request",
            f"channels: {count} layers need {count + 1} channel counts, got {len(request.channels)}",
            field="channels",
        )
    return list(request.channels)


def _check(input_size: Dims, layers: Sequence[Layer], channels: Sequence[int], groups: int) -> Dims:
    """Every layer must be one PyTorch accepts at the size it meets; returns the final size."""
    size = input_size
    for n, layer in enumerate(layers):
        check = check_layer(
            size,
            kernel_size=tuple(p.kernel_size for p in layer),
            stride=tuple(p.stride for p in layer),
            padding=tuple(p.padding for p in layer),
            output_padding=tuple(p.output_padding for p in layer),
            dilation=tuple(p.dilation for p in layer),
            in_channels=channels[n],
            out_channels=channels[n + 1],
            groups=groups,
        )
        if not check.is_valid:
            where = f"layer {n}: " if len(layers) > 1 else ""
            raise SolverError("invalid_layer", where + check.violations[0].message, field="layers")
        size = check.output_size
    return size


def onnx_code(layers: Sequence[Layer], groups: int) -> str:
    """Each ConvTranspose node's attributes, one line per layer.

    >>> onnx_code([(DimParams(3, 2, 1, 1, 1),)], 1)
    'ConvTranspose(kernel_shape=[3], strides=[2], dilations=[1], pads=[1, 0], output_padding=[0], group=1)'
    """
    lines = []
    for layer in layers:
        node = onnx_encoding(layer, groups)
        lines.append(
            f"ConvTranspose(kernel_shape={list(node.kernel_shape)}, strides={list(node.strides)}, "
            f"dilations={list(node.dilations)}, pads={list(node.pads)}, "
            f"output_padding={list(node.output_padding)}, group={node.group})"
        )
    return "\n".join(lines)


def answer_export(request: ExportRequest) -> ExportResponse:
    input_size, layers = _layers(request)
    channels = _channels(request, len(layers))
    output_size = _check(input_size, layers, channels, request.groups)
    verdicts = [verdict(request.target, layer, request.groups) for layer in layers]
    reasons = [
        (f"layer {n}: {v.reason}" if len(layers) > 1 else v.reason)
        for n, v in enumerate(verdicts)
        if v.reason is not None
    ]
    portability = TargetVerdictOut(
        status="refused" if reasons else "exact", reason="; ".join(reasons) or None
    )
    code = model = None
    if not reasons:
        if request.target == "onnx":
            code = onnx_code(layers, request.groups)
            built = onnx_model(
                layers,
                in_channels=channels[0],
                out_channels=channels[1:],
                groups=request.groups,
                bias=request.bias,
            )
            model = base64.b64encode(built.SerializeToString()).decode("ascii")
        elif request.target == "jax":
            code = jax_code(layers, request.groups)
        else:
            code = keras_code(layers, channels, request.bias)
    return ExportResponse(
        target=request.target,
        portability=portability,
        code=code,
        onnx_model_base64=model,
        output_size=list(output_size),
    )
