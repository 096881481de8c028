"""A PyTorch ConvTranspose layer (or a plan of them) written for ONNX, JAX and Keras, and run there.

The encodings are ``solver.portability``'s; this module turns them into an ONNX model, code to
paste, and runs on the real runtimes (numpy in, numpy out, PyTorch layouts: input ``(N, C_in,
*spatial)``, weight ``(C_in, C_out / groups, *kernel)``, bias ``(C_out,)``). The runtimes are
imported inside the functions that need them: the API process imports this module for
``code`` and ``onnx_model`` and must pay for nothing else, and a worker without a runtime
reports that target ``unavailable`` (``TargetUnavailableError``) instead of failing.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from service.solver.params import DimParams
from service.solver.portability import ONNX_OPSET, jax_encoding, keras_encoding, onnx_encoding

Layer = Sequence[DimParams]
Array = npt.NDArray[Any]


class TargetUnavailableError(RuntimeError):
    """The target's runtime is not installed here (or cannot run as required)."""


class TargetRefusedError(RuntimeError):
    """The runtime refused the layer; the message is the runtime's own first line."""


def _refused(exc: Exception) -> TargetRefusedError:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return TargetRefusedError(f"{type(exc).__name__}: {text}")


def _runtime(module: str) -> Any:
    try:
        return __import__(module, fromlist=["_"])
    except ImportError as exc:
        raise TargetUnavailableError(f"{module} is not installed here: {exc}") from exc


# ---------------------------------------------------------------------------------------- ONNX


def onnx_model(
    layers: Sequence[Layer], *, in_channels: int, out_channels: Sequence[int], groups: int, bias: bool
) -> Any:
    """An ONNX model (opset 17) of the layers in order: inputs ``x``, then ``W`` (``B``) for one
    layer or ``W0``, ``B0``, ``W1``, ... for several, in PyTorch's layouts; output ``y``.

    ``out_channels`` holds each layer's output channels (the next layer's input channels).
    """
    onnx = _runtime("onnx")
    helper, tensor = onnx.helper, onnx.TensorProto
    ndim = len(layers[0])
    names = [("W", "B")] if len(layers) == 1 else [(f"W{n}", f"B{n}") for n in range(len(layers))]
    inputs = [
        helper.make_tensor_value_info("x", tensor.FLOAT, ["N", in_channels, *(f"x{n}" for n in range(ndim))])
    ]
    nodes = []
    current, channels = "x", in_channels
    for n, (layer, (w_name, b_name), cout) in enumerate(zip(layers, names, out_channels, strict=True)):
        kernel = [p.kernel_size for p in layer]
        inputs.append(
            helper.make_tensor_value_info(w_name, tensor.FLOAT, [channels, cout // groups, *kernel])
        )
        node_inputs = [current, w_name]
        if bias:
            inputs.append(helper.make_tensor_value_info(b_name, tensor.FLOAT, [cout]))
            node_inputs.append(b_name)
        enc = onnx_encoding(layer, groups)
        output = "y" if n == len(layers) - 1 else f"h{n}"
        nodes.append(
            helper.make_node(
                "ConvTranspose",
                node_inputs,
                [output],
                kernel_shape=list(enc.kernel_shape),
                strides=list(enc.strides),
                dilations=list(enc.dilations),
                pads=list(enc.pads),
                output_padding=list(enc.output_padding),
                group=enc.group,
            )
        )
        current, channels = output, cout
    outputs = [
        helper.make_tensor_value_info("y", tensor.FLOAT, ["N", channels, *(f"y{n}" for n in range(ndim))])
    ]
    graph = helper.make_graph(nodes, "tconv", inputs, outputs)
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", ONNX_OPSET)], producer_name="tconv"
    )
    onnx.checker.check_model(model)
    return model


def run_onnx(layer: Layer, x: Array, weight: Array, bias: Array | None, *, groups: int) -> Array:
    """Run the layer as an ONNX ConvTranspose node in onnxruntime (CPU)."""
    ort = _runtime("onnxruntime")
    model = onnx_model(
        [layer],
        in_channels=x.shape[1],
        out_channels=[weight.shape[1] * groups],
        groups=groups,
        bias=bias is not None,
    )
    options = ort.SessionOptions()
    options.log_severity_level = 4  # a refusal is an answer here, not something to print to stderr
    feeds = {"x": x, "W": weight} | ({"B": bias} if bias is not None else {})
    try:
        session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
        return np.asarray(session.run(["y"], feeds)[0])
    except Exception as exc:  # onnxruntime's errors share no base class but Exception
        raise _refused(exc) from exc


# ----------------------------------------------------------------------------------------- JAX

_SPATIAL = {1: "H", 2: "HW", 3: "DHW"}


def jax_code(layers: Sequence[Layer], groups: int) -> str:
    """A JAX function ``conv_transpose(x, weights, biases)`` over PyTorch's layouts and weights:
    the code /v1/export hands out and ``run_jax`` runs."""
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
            "    # A transposed convolution is the convolution of the stride-dilated input with the",
            f"    # flipped kernel: PyTorch's W (C_in, C_out // {groups}, *kernel) becomes",
            f"    # (C_out, C_in // {groups}, *kernel), taps flipped.",
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


def _exec(code: str) -> dict[str, Any]:
    namespace: dict[str, Any] = {}
    try:
        exec(code, namespace)  # our own generated code: the exported code is the code that runs
    except ImportError as exc:
        raise TargetUnavailableError(f"{exc.name} is not installed here: {exc}") from exc
    return namespace


def run_jax(layer: Layer, x: Array, weight: Array, bias: Array | None, *, groups: int) -> Array:
    """Run ``jax_code`` for the layer on the CPU, at float32's highest precision."""
    conv_transpose = _exec(jax_code([layer], groups))["conv_transpose"]
    try:
        y = conv_transpose(x, [weight], None if bias is None else [bias])
    except (TypeError, ValueError) as exc:
        raise _refused(exc) from exc
    return np.asarray(y)


# --------------------------------------------------------------------------------------- Keras


def keras_code(layers: Sequence[Layer], channels: Sequence[int], bias: bool) -> str:
    """A Keras 3 layer list (channels last) and how to load PyTorch's weights into it: the code
    /v1/export hands out and ``run_keras`` runs. Keras's kernel is ``(*k, C_out, C_in)`` and,
    like PyTorch's, is not flipped."""
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


def _keras() -> Any:
    # Keras picks its backend once, at import: the JAX one is the one these rules were measured on.
    os.environ.setdefault("KERAS_BACKEND", "jax")
    keras = _runtime("keras")
    if keras.backend.backend() != "jax":
        raise TargetUnavailableError(f"keras runs on the {keras.backend.backend()} backend here, not jax")
    return keras


def run_keras(layer: Layer, x: Array, weight: Array, bias: Array | None, *, groups: int) -> Array:
    """Run ``keras_code`` for the layer (channels last, JAX backend) with PyTorch's weights."""
    keras = _keras()
    cin, cout = x.shape[1], weight.shape[1] * groups
    channels_last = np.moveaxis(x, 1, -1)
    try:
        namespace = _exec(keras_code([layer], [cin, cout], bias is not None))
        model = keras.Sequential(namespace["layers"])
        model.build(channels_last.shape)
        namespace["load_torch_weights"]([weight], None if bias is None else [bias])
        y = model(channels_last)
    except ValueError as exc:  # Keras validates its arguments (and weight shapes) with ValueError
        raise _refused(exc) from exc
    return np.moveaxis(np.asarray(y), -1, 1)


RUNNERS = {"onnx": run_onnx, "jax": run_jax, "keras": run_keras}
