"""Hostile and oversized requests against a real API process: each gets its documented status,
never a 5xx, and the process keeps answering. docs/reliability.md lists the same cases.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from typing import NamedTuple

import httpx
import pytest

from tests.integration.conftest import free_port, start, stop

pytestmark = pytest.mark.integration

JSON = {"content-type": "application/json"}


class Case(NamedTuple):
    name: str
    path: str
    body: bytes
    headers: dict[str, str]
    status: int
    code: str | None  # the error code, when the answer is an error


def _j(value: object) -> bytes:
    return json.dumps(value).encode()


def _nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


SHAPE = {"input_size": 7, "kernel_size": 4, "stride": 2, "padding": 1}

CASES = [
    # The requests of issue 14, each once a 5xx, a crash or minutes of work.
    Case(
        "plan whose tables took 20 GB",
        "/v1/plan",
        _j(
            {
                "input_size": 1,
                "output_size": 1048576,
                "layers": {"min": 1, "max": 16},
                "kernel_size": {"min": 1, "max": 1024},
                "stride": {"min": 1, "max": 1024},
            }
        ),
        JSON,
        422,
        "space_too_large",
    ),
    Case(
        "plan that ran 12.9 minutes",
        "/v1/plan",
        _j(
            {
                "input_size": 4,
                "output_size": 64,
                "layers": {"min": 1, "max": 2},
                "kernel_size": {"min": 1, "max": 64},
                "stride": {"min": 1, "max": 64},
            }
        ),
        JSON,
        422,
        "space_too_large",
    ),
    Case(
        "plan with padding past every output",
        "/v1/plan",
        _j({"input_size": 4, "output_size": 64, "layers": 4, "kernel_size": 1, "padding": [1048575]}),
        JSON,
        200,
        None,
    ),
    Case(
        "search with MACs past 2^64",
        "/v1/search",
        _j({"output_size": [65535, 286, 286], "input_size": 177420, "batch_size": 9645}),
        JSON,
        200,
        None,
    ),
    Case(
        "shape with MACs past 2^64",
        "/v1/shape",
        _j({"input_size": [1048576] * 3, "kernel_size": 1024, "stride": 1024, "dilation": 1024}),
        JSON,
        200,
        None,
    ),
    Case(
        "search at the triple budget, 6 s of ranking",
        "/v1/search",
        _j({"input_size": [7], "output_size": [14], "kernel_size": {"max": 316}, "stride": {"max": 316}}),
        JSON,
        422,
        "space_too_large",
    ),
    Case(
        "1,000 searches of 1,000 candidates",
        "/v1/search/batch",
        _j({"queries": [{"input_size": 7, "output_size": 14, "limit": 1000}] * 1000}),
        JSON,
        422,
        "batch_too_large",
    ),
    Case(
        "400,000 unknown keys",
        "/v1/shape",
        _j({**SHAPE, **{f"k{n}": 0 for n in range(400_000)}}),
        JSON,
        422,
        "invalid_request",
    ),
    Case(
        "scalar size, one-entry layer field",
        "/v1/shape",
        _j({"input_size": 7, "kernel_size": [3]}),
        JSON,
        200,
        None,
    ),
    Case("whole-number floats", "/v1/shape", _j({"input_size": 452.0, "kernel_size": 4e0}), JSON, 200, None),
    Case(
        "plan objective latency",
        "/v1/plan",
        _j({"input_size": 4, "output_size": 16, "objective": "latency"}),
        JSON,
        422,
        "invalid_request",
    ),
    Case(
        "range with min, max and values",
        "/v1/search",
        _j({"input_size": 7, "output_size": 14, "stride": {"min": 1, "max": 2, "values": [2]}}),
        JSON,
        422,
        "invalid_request",
    ),
    # The usual set.
    Case("size at its cap", "/v1/shape", _j({**SHAPE, "input_size": 1 << 20}), JSON, 200, None),
    Case(
        "size past its cap",
        "/v1/shape",
        _j({**SHAPE, "input_size": (1 << 20) + 1}),
        JSON,
        422,
        "invalid_request",
    ),
    Case(
        "10^30",
        "/v1/shape",
        b'{"input_size": 1000000000000000000000000000000, "kernel_size": 3}',
        JSON,
        422,
        "invalid_request",
    ),
    Case(
        "-10^30",
        "/v1/search",
        b'{"input_size": 7, "output_size": -1000000000000000000000000000000}',
        JSON,
        422,
        "invalid_request",
    ),
    Case("NaN", "/v1/shape", b'{"input_size": NaN, "kernel_size": 3}', JSON, 422, "invalid_request"),
    Case(
        "Infinity", "/v1/shape", b'{"input_size": Infinity, "kernel_size": 3}', JSON, 422, "invalid_request"
    ),
    Case("fraction", "/v1/shape", _j({**SHAPE, "stride": 2.5}), JSON, 422, "invalid_request"),
    Case("string for an int", "/v1/shape", _j({**SHAPE, "stride": "2"}), JSON, 422, "invalid_request"),
    Case("boolean for an int", "/v1/shape", _j({**SHAPE, "stride": True}), JSON, 422, "invalid_request"),
    Case(
        "nested arrays for a size",
        "/v1/shape",
        _j({**SHAPE, "input_size": [[7]]}),
        JSON,
        422,
        "invalid_request",
    ),
    Case("array body", "/v1/shape", b"[1, 2, 3]", JSON, 422, "invalid_request"),
    Case("1,000-deep JSON", "/v1/shape", _nested(1000), JSON, 422, "invalid_request"),
    Case("100,000-deep JSON", "/v1/shape", _nested(100_000), JSON, 422, "invalid_request"),
    Case(
        "invalid UTF-8",
        "/v1/shape",
        b'{"input_size": 7, "kernel_size": 3, "x": "\xff\xfe"}',
        JSON,
        422,
        "invalid_request",
    ),
    Case("truncated JSON", "/v1/shape", b'{"input_size": 7, "kern', JSON, 422, "invalid_request"),
    Case("empty body", "/v1/shape", b"", JSON, 422, "invalid_request"),
    Case("10 MB body", "/v1/shape/batch", b" " * (10 << 20), JSON, 413, "body_too_large"),
    Case("100 MB body", "/v1/shape/batch", b" " * (100 << 20), JSON, 413, "body_too_large"),
    Case(
        "form-encoded body (curl -d)",
        "/v1/shape",
        _j(SHAPE),
        {"content-type": "application/x-www-form-urlencoded"},
        415,
        "unsupported_media_type",
    ),
    Case(
        "text/plain body",
        "/v1/search",
        _j({"input_size": 7, "output_size": 14}),
        {"content-type": "text/plain"},
        415,
        "unsupported_media_type",
    ),
    Case("no content type", "/v1/shape", _j(SHAPE), {}, 415, "unsupported_media_type"),
    Case("non-ASCII X-Request-ID", "/v1/shape", _j(SHAPE), {**JSON, "x-request-id": "caf\u00e9"}, 200, None),
    Case("unknown path", "/v1/nothing", b"{}", JSON, 404, "not_found"),
]


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {"TCONV_VERIFY_MODE": "off", "TCONV_BODY_TIMEOUT_S": "2"}
    process = start(["-m", "service", "--host", "127.0.0.1", "--port", str(port)], base, env=env)
    yield base
    stop(process)


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_hostile_input_gets_its_status(url: str, case: Case) -> None:
    headers = {k: v.encode() if not v.isascii() else v for k, v in case.headers.items()}
    response = httpx.post(f"{url}{case.path}", content=case.body, headers=headers, timeout=60)  # type: ignore[arg-type]
    assert response.status_code == case.status, response.text[:500]
    if case.code is not None:
        assert response.json()["error"]["code"] == case.code
    assert response.headers["x-request-id"].isascii()
    assert len(response.content) < 1 << 20
    assert httpx.get(f"{url}/healthz", timeout=10).status_code == 200


def test_a_body_that_stops_half_way_gets_408(url: str) -> None:
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(
            b"POST /v1/shape HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b'Content-Length: 1000\r\n\r\n{"input_size": 7'
        )
        # The head and the body may come in separate segments: read until the server closes.
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
        answer = b"".join(chunks).decode()
    assert answer.startswith("HTTP/1.1 408"), answer[:200]
    assert '"body_timeout"' in answer
