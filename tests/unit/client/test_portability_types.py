"""The SDK's portability helpers, offline: decoding the ONNX model, reading verdicts by target,
and the CLI's parsing of --portable-to / --target values."""

from __future__ import annotations

import base64

import pytest
import typer
from tconv_client import ExportResult, Portability
from tconv_client._cli import parse_targets

EXACT = {"status": "exact", "reason": None}
REFUSED = {"status": "refused", "reason": "Keras refuses output_padding >= strides"}


def test_onnx_model_bytes_decodes_the_answer_and_refuses_when_there_is_none() -> None:
    model = b"\x08\x0e\x12\x05tconv"
    answer = ExportResult.model_validate(
        {
            "target": "onnx",
            "portability": EXACT,
            "code": "ConvTranspose(...)",
            "onnx_model_base64": base64.b64encode(model).decode(),
            "output_size": [14, 14],
        }
    )
    assert answer.onnx_model_bytes() == model
    refused = {**answer.model_dump(), "portability": REFUSED, "code": None, "onnx_model_base64": None}
    with pytest.raises(ValueError, match="output_padding >= strides"):
        ExportResult.model_validate(refused).onnx_model_bytes()


def test_portability_by_target() -> None:
    verdicts = Portability.model_validate({"onnx": EXACT, "jax": EXACT, "keras": REFUSED, "tflite": EXACT})
    assert verdicts["keras"].status == "refused"
    assert verdicts["onnx"].exact
    assert verdicts.exact_targets == ["onnx", "jax"]  # a target this SDK does not know is kept, not listed


def test_targets_repeat_or_comma_separate_and_a_bad_one_is_named() -> None:
    assert parse_targets(["keras", "onnx, JAX", "keras"], "--portable-to") == ["keras", "onnx", "jax"]
    with pytest.raises(typer.BadParameter, match="'tflite' is not a target"):
        parse_targets(["onnx,tflite"], "--portable-to")
