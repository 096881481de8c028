"""/v1/export answers: a layer (or a plan) written as ONNX, JAX or Keras, from solver.portability's encodings.

The code printed here and the runners in service/targets.py read the same encodings; the tests
run this code (tests/differential/test_export_vs_torch.py) against PyTorch with its own weights.
onnx is imported only to build a model (``service.targets.onnx_model``), never torch.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence

from service.api.dims import dims, ndim_of
from service.solver.enumeration import DimParams
from service.solver.errors import SolverError
from service.solver.portability import jax_encoding, keras_encoding, onnx_encoding, verdict
from service.solver.rules import check_layer
from service.solver.sizes import Dims
from service.wire.schemas import ExportRequest, ExportResponse, LayerIn, TargetVerdictOut

Layer = tuple[DimParams, ...]
_FIELDS = ("kernel_size", "stride", "padding", "output_padding", "dilation")
_SPATIAL = {1: "H", 2: "HW", 3: "DHW"}


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


def jax_code(layers: Sequence[Layer], groups: int) -> str:
    """A JAX function ``conv_transpose(x, weights, biases)`` over PyTorch's layouts and weights."""
    ndim = len(layers[0])
    spatial = _SPATIAL[ndim]
    axes = tuple(range(2, 2 + ndim))
    calls = []
    for layer in layers:
        enc = jax_encoding(layer, groups)
        calls.append(
            f"    x = _layer(x, next(w), next(b), padding={enc.padding!r}, "
            f"lhs_dilation={enc.lhs_dilation!r}, rhs_dilation={enc.rhs_dilation!r})"
        )
    return "\n".join(
        [
            "import jax",
            "import jax.numpy as jnp",
            "",
            "",
            "def _layer(x, W, B, *, padding, lhs_dilation, rhs_dilation):",
            f"    # PyTorch's W is (C_in, C_out // {groups}, *kernel): regroup to (C_out, C_in // {groups}, "
            "*kernel) and flip the taps.",
            "    cin, cout_g, *kernel = W.shape",
            f"    k = W.reshape({groups}, cin // {groups}, cout_g, *kernel).swapaxes(1, 2)",
            f"    k = jnp.flip(k.reshape({groups} * cout_g, cin // {groups}, *kernel), axis={axes!r})",
            "    y = jax.lax.conv_general_dilated(",
            f"        x, k, window_strides={(1,) * ndim!r}, padding=padding, lhs_dilation=lhs_dilation,",
            "        rhs_dilation=rhs_dilation,",
            f'        dimension_numbers=("NC{spatial}", "OI{spatial}", "NC{spatial}"),',
            f"        feature_group_count={groups}, precision=jax.lax.Precision.HIGHEST,",
            "    )",
            f"    return y if B is None else y + B.reshape(1, -1{', 1' * ndim})",
            "",
            "",
            "def conv_transpose(x, weights, biases=None):",
            '    """x: (N, C_in, *spatial); weights and biases: one per layer, as PyTorch holds them."""',
            "    w = iter(weights)",
            f"    b = iter(biases if biases is not None else [None] * {len(layers)})",
            *calls,
            "    return x",
        ]
    )


def keras_code(layers: Sequence[Layer], channels: Sequence[int], bias: bool) -> str:
    """A Keras 3 layer list (channels last) and how to load PyTorch's weights into it."""
    ndim = len(layers[0])
    lines = ["import keras", "", "# Channels last (Keras's default): x is (N, *spatial, C_in).", "layers = ["]
    for n, layer in enumerate(layers):
        enc = keras_encoding(layer)
        lines.append(
            f"    keras.layers.Conv{ndim}DTranspose({channels[n + 1]}, kernel_size={enc.kernel_size!r}, "
            f'strides={enc.strides!r}, padding="valid", output_padding={enc.output_padding!r}, '
            f"dilation_rate={enc.dilation_rate!r}, use_bias={bias!r}),"
        )
        if any(any(pair) for pair in enc.cropping):
            crop = enc.cropping[0] if ndim == 1 else enc.cropping
            lines.append(f"    keras.layers.Cropping{ndim}D(cropping={crop!r}),")
    permute = (*range(2, 2 + ndim), 1, 0)
    lines += [
        "]",
        "",
        "",
        "def load_torch_weights(weights, biases=None):",
        '    """Numpy arrays as PyTorch holds them; build the layers first (keras.Sequential(...).build)."""',
        "    # PyTorch's (C_in, C_out, *kernel) is Keras's (*kernel, C_out, C_in): same taps, no flip.",
        '    convs = [layer for layer in layers if hasattr(layer, "kernel_size")]',
        "    for n, layer in enumerate(convs):",
        f"        kernel = weights[n].transpose{permute!r}",
        "        layer.set_weights([kernel] if biases is None else [kernel, biases[n]])",
    ]
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
            from service.targets import onnx_model  # numpy and onnx: only when a model is asked for

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
