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


def jax_kernel(weight: Array, groups: int) -> Array:
    """PyTorch's ``(C_in, C_out/g, *k)`` as a forward-convolution kernel ``(C_out, C_in/g, *k)``,
    spatially flipped: a transposed convolution is the convolution of the stride-dilated input
    with the flipped kernel."""
    cin, cout_g, *kernel = weight.shape
    grouped = weight.reshape(groups, cin // groups, cout_g, *kernel).swapaxes(1, 2)
    forward = grouped.reshape(groups * cout_g, cin // groups, *kernel)
    return np.ascontiguousarray(np.flip(forward, axis=tuple(range(2, forward.ndim))))


def run_jax(layer: Layer, x: Array, weight: Array, bias: Array | None, *, groups: int) -> Array:
    """Run the layer as ``jax.lax.conv_general_dilated`` on the CPU, at float32's highest precision."""
    jax = _runtime("jax")
    enc = jax_encoding(layer, groups)
    spatial = _SPATIAL[len(layer)]
    try:
        y = jax.lax.conv_general_dilated(
            x,
            jax_kernel(weight, groups),
            window_strides=(1,) * len(layer),
            padding=enc.padding,
            lhs_dilation=enc.lhs_dilation,
            rhs_dilation=enc.rhs_dilation,
            dimension_numbers=("NC" + spatial, "OI" + spatial, "NC" + spatial),
            feature_group_count=enc.feature_group_count,
            precision=jax.lax.Precision.HIGHEST,
        )
    except (TypeError, ValueError) as exc:
        raise _refused(exc) from exc
    out = np.asarray(y)
    if bias is not None:
        out = out + bias.reshape(1, -1, *([1] * len(layer)))
    return out


# --------------------------------------------------------------------------------------- Keras


def _keras() -> Any:
    # Keras picks its backend once, at import: the JAX one is the one these rules were measured on.
    os.environ.setdefault("KERAS_BACKEND", "jax")
    keras = _runtime("keras")
    if keras.backend.backend() != "jax":
        raise TargetUnavailableError(f"keras runs on the {keras.backend.backend()} backend here, not jax")
    return keras


def run_keras(layer: Layer, x: Array, weight: Array, bias: Array | None, *, groups: int) -> Array:
    """Run the layer as Keras ``Conv{N}DTranspose`` (+ ``Cropping{N}D``), channels last, JAX backend.

    Keras's kernel is ``(*k, C_out, C_in)`` and, like PyTorch's, is not flipped.
    """
    keras = _keras()
    ndim = len(layer)
    enc = keras_encoding(layer)
    cout = weight.shape[1] * groups
    channels_last = np.moveaxis(x, 1, -1)
    kernel = np.moveaxis(weight, (0, 1), (-1, -2))
    try:
        conv = getattr(keras.layers, f"Conv{ndim}DTranspose")(
            filters=cout,
            kernel_size=enc.kernel_size,
            strides=enc.strides,
            padding="valid",
            output_padding=enc.output_padding,
            dilation_rate=enc.dilation_rate,
            use_bias=bias is not None,
        )
        conv.build(channels_last.shape)
        conv.set_weights([kernel] if bias is None else [kernel, bias])
        y = conv(channels_last)
        if any(any(pair) for pair in enc.cropping):
            crop = enc.cropping[0] if ndim == 1 else enc.cropping
            y = getattr(keras.layers, f"Cropping{ndim}D")(cropping=crop)(y)
    except ValueError as exc:  # Keras validates its arguments with ValueError
        raise _refused(exc) from exc
    return np.moveaxis(np.asarray(y), -1, 1)


RUNNERS = {"onnx": run_onnx, "jax": run_jax, "keras": run_keras}
