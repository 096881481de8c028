"""/v1/export's output, run: the ONNX model in onnxruntime, the JAX code in jax, the Keras code in keras
(JAX backend), each fed PyTorch's own weights, against PyTorch on the CPU (float32 tolerance).
"""

from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "jax")  # before anything imports keras

import base64
import json
import subprocess
import sys
from typing import Any

import numpy as np
import pytest
import torch
from fastapi.testclient import TestClient
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from tests.differential.torch_truth import MODULES

pytestmark = pytest.mark.torch

FIELDS = ("kernel_size", "stride", "padding", "output_padding", "dilation")


@st.composite
def layers(draw: Any, ndim: int, keras: bool) -> dict[str, list[int]]:
    layer: dict[str, list[int]] = {name: [] for name in FIELDS}
    # Keras: strides > 1 and dilations > 1 never in one layer (else every draw is refused).
    undilated = keras and draw(st.booleans())
    for _ in range(ndim):
        s, d = draw(st.integers(1, 3)), draw(st.integers(1, 2))
        if keras:
            s, d = (s, 1) if undilated else (1, d)
        layer["kernel_size"].append(draw(st.integers(1, 4)))
        layer["stride"].append(s)
        layer["dilation"].append(d)
        layer["padding"].append(draw(st.integers(0, 3)))
        layer["output_padding"].append(draw(st.integers(0, max(s, d) - 1)))
    return layer


@st.composite
def exports(draw: Any, keras: bool = False) -> dict[str, Any]:
    ndim = draw(st.integers(1, 3))
    count = draw(st.integers(1, 2))
    groups = 1 if keras else draw(st.sampled_from([1, 1, 2]))
    channels = [groups * draw(st.integers(1, 2)) for _ in range(count + 1)]
    return {
        "input_size": [draw(st.integers(1, 4)) for _ in range(ndim)],
        "layers": [draw(layers(ndim, keras)) for _ in range(count)],
        "channels": channels,
        "groups": groups,
        "bias": draw(st.booleans()),
    }


def torch_plan(request: dict[str, Any]) -> tuple[np.ndarray, np.ndarray, list[np.ndarray], list[np.ndarray]]:
    """PyTorch's output for the request's layers with seeded weights: x, y, weights, biases."""
    ndim = len(request["input_size"])
    generator = torch.Generator().manual_seed(0)
    modules = []
    for layer, cin, cout in zip(
        request["layers"], request["channels"], request["channels"][1:], strict=False
    ):
        module = MODULES[ndim](cin, cout, groups=request["groups"], bias=request["bias"], **layer)
        with torch.no_grad():
            for parameter in module.parameters():
                parameter.copy_(torch.randn(parameter.shape, generator=generator))
        modules.append(module)
    x = torch.randn(2, request["channels"][0], *request["input_size"], generator=generator)
    with torch.no_grad():
        y = torch.nn.Sequential(*modules)(x)
    weights = [m.weight.detach().numpy() for m in modules]
    biases = [m.bias.detach().numpy() for m in modules if m.bias is not None]
    return x.numpy(), y.numpy(), weights, biases


def _export(client: TestClient, request: dict[str, Any], target: str) -> tuple[dict[str, Any], Any]:
    response = client.post("/v1/export", json={**request, "target": target})
    if response.status_code == 422:
        assert response.json()["error"]["code"] == "invalid_layer"
        return {}, None
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    if body["portability"]["status"] == "refused":
        assert body["code"] is None
        assert body["onnx_model_base64"] is None
        assert body["portability"]["reason"]
    return body, torch_plan(request)


def _close(got: np.ndarray, truth: np.ndarray) -> None:
    assert got.shape == truth.shape
    np.testing.assert_allclose(got, truth, rtol=1e-4, atol=1e-3)


@settings(max_examples=30)
@given(request=exports())
def test_onnx_model_runs_in_onnxruntime_with_torch_weights(
    client: TestClient, request: dict[str, Any]
) -> None:
    import onnxruntime as ort

    body, truth = _export(client, request, "onnx")
    assume(body and body["code"] is not None)
    x, y, weights, biases = truth
    model = base64.b64decode(body["onnx_model_base64"])
    session = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
    single = len(weights) == 1
    feeds = {"x": x}
    for n, w in enumerate(weights):
        feeds["W" if single else f"W{n}"] = w
    for n, b in enumerate(biases):
        feeds["B" if single else f"B{n}"] = b
    assert sorted(i.name for i in session.get_inputs()) == sorted(feeds)
    assert [o.name for o in session.get_outputs()] == ["y"]
    _close(session.run(["y"], feeds)[0], y)
    assert list(y.shape[2:]) == body["output_size"]


@settings(max_examples=20)
@given(request=exports())
def test_jax_code_matches_torch(client: TestClient, request: dict[str, Any]) -> None:
    body, truth = _export(client, request, "jax")
    assume(body)
    assert body["portability"]["status"] == "exact"  # JAX writes every PyTorch-valid layer
    x, y, weights, biases = truth
    namespace: dict[str, Any] = {}
    exec(body["code"], namespace)
    got = namespace["conv_transpose"](x, weights, biases or None)
    _close(np.asarray(got), y)


@settings(max_examples=15)
@given(request=exports(keras=True))
def test_keras_code_matches_torch(client: TestClient, request: dict[str, Any]) -> None:
    import keras

    body, truth = _export(client, request, "keras")
    assume(body and body["code"] is not None)
    x, y, weights, biases = truth
    namespace: dict[str, Any] = {}
    exec(body["code"], namespace)
    model = keras.Sequential(namespace["layers"])
    model.build((None, *x.shape[2:], x.shape[1]))
    namespace["load_torch_weights"](weights, biases or None)
    got = np.moveaxis(np.asarray(model(np.moveaxis(x, 1, -1))), -1, 1)
    _close(got, y)


def test_refused_export_says_why(client: TestClient) -> None:
    request = {"input_size": [5], "layer": {"kernel_size": 2, "dilation": 2, "output_padding": 1}}
    body = client.post("/v1/export", json={**request, "target": "onnx"}).json()
    assert body["portability"]["status"] == "refused"
    assert "onnxruntime needs output_padding < stride" in body["portability"]["reason"]
    assert body["code"] is None
    assert client.post("/v1/export", json={**request, "target": "jax"}).json()["code"]


def test_invalid_layer_is_422(client: TestClient) -> None:
    response = client.post(
        "/v1/export",
        json={"input_size": 5, "layer": {"kernel_size": 3, "output_padding": 2}, "target": "jax"},
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_layer"


def test_export_imports_no_torch_nor_runtimes() -> None:
    code = (
        "import sys; from fastapi.testclient import TestClient; from service.api.main import create_app\n"
        "with TestClient(create_app()) as c:\n"
        "    for t in ('onnx', 'jax', 'keras'):\n"
        "        r = c.post('/v1/export', json={'input_size': 7, 'layer': {'kernel_size': 4, 'stride': 2}, "
        "'target': t})\n"
        "        assert r.status_code == 200, r.text\n"
        "print(json.dumps([m for m in ('torch', 'onnxruntime', 'jax', 'keras') if m in sys.modules]))"
    )
    result = subprocess.run(
        [sys.executable, "-c", "import json\n" + code],
        env={**os.environ, "TCONV_VERIFY_MODE": "off"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []
