"""Export targets through real processes: an API pointed at a standalone worker has the worker run
layers in onnxruntime, jax and keras, and exports an ONNX model itself."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.integration.conftest import free_port, start, stop

pytestmark = [pytest.mark.integration, pytest.mark.torch]


def test_worker_confirms_targets_for_a_remote_api() -> None:
    worker_port, api_port = free_port(), free_port()
    worker_url, api_url = f"http://127.0.0.1:{worker_port}", f"http://127.0.0.1:{api_port}"
    worker = start(
        ["-m", "service.worker", "--host", "127.0.0.1", "--port", str(worker_port)],
        worker_url,
        env={"KERAS_BACKEND": "jax"},
    )
    try:
        api = start(
            ["-m", "service", "--host", "127.0.0.1", "--port", str(api_port)],
            api_url,
            env={"TCONV_WORKER_URL": worker_url, "TCONV_WORKER_TIMEOUT_S": "60"},
        )
        try:
            body = {
                "input_size": [6, 5],
                "layers": [
                    {"kernel_size": 4, "stride": 2, "padding": 1},
                    {"kernel_size": 2, "dilation": 2, "output_padding": 1},
                ],
                "targets": ["onnx", "jax", "keras"],
                "in_channels": 4,
                "out_channels": 2,
            }
            answer = httpx.post(f"{api_url}/v1/verify", json=body, timeout=60).json()
            first, second = (result["targets"] for result in answer["results"])
            assert {t: c["status"] for t, c in first.items()} == dict.fromkeys(body["targets"], "confirmed")
            assert {t: c["status"] for t, c in second.items()} == {
                "onnx": "failed",
                "jax": "confirmed",
                "keras": "failed",
            }
            exported = httpx.post(
                f"{api_url}/v1/export",
                json={"input_size": 7, "layer": {"kernel_size": 4, "stride": 2}, "target": "onnx"},
            ).json()
            assert exported["onnx_model_base64"]
        finally:
            stop(api)
    finally:
        stop(worker)


def test_a_runtime_not_installed_is_unavailable(tmp_path: Path) -> None:
    # A stand-in package that fails to import, first on the path: the verification child (a fresh
    # process) then meets onnxruntime as a worker without it would.
    stub = tmp_path / "onnxruntime"
    stub.mkdir()
    (stub / "__init__.py").write_text("raise ImportError(\"No module named 'onnxruntime'\")\n")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    api = start(
        ["-m", "service", "--host", "127.0.0.1", "--port", str(port)],
        url,
        env={"PYTHONPATH": str(tmp_path), "KERAS_BACKEND": "jax"},
    )
    try:
        body = {
            "input_size": [5],
            "layers": [{"kernel_size": [3], "stride": [3], "padding": [2]}],
            "device": "cpu",
            "targets": ["onnx", "jax"],
        }
        response = httpx.post(f"{url}/v1/verify", json=body, timeout=120)
        assert response.status_code == 200, response.text
        [result] = response.json()["results"]
        assert result["status"] == "confirmed"
        assert result["targets"]["onnx"]["status"] == "unavailable"
        assert "onnxruntime is not installed" in result["targets"]["onnx"]["error"]
        assert result["targets"]["jax"]["status"] == "confirmed"
    finally:
        stop(api)
