"""The Python SDK (sync and async) and the `tconv` CLI against a real service process on 127.0.0.1."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import tconv_client
from tconv_client import (
    APIConnectionError,
    APITimeoutError,
    AsyncClient,
    Client,
    UnprocessableEntityError,
)
from tconv_client.types import (
    BatchError,
    ExportResult,
    LayerSpec,
    SearchBasic,
    SearchQuery,
    SearchResult,
    ShapeBasic,
    ShapeQuery,
    ShapeResult,
)

from tests.integration.conftest import free_port, start, stop

pytestmark = pytest.mark.integration


def test_sync_client_covers_every_endpoint(service_url: str) -> None:
    with Client(service_url) as client:
        result = client.search(input_size=7, output_size=14, limit=5)
        assert result.total == 15
        assert result.best is not None
        assert result.best.snippet == "nn.ConvTranspose2d(1, 1, kernel_size=2, stride=2)"
        assert result.candidates[0].layer.kernel_size == [2, 2]
        assert client.shape(7, 4, stride=2, padding=1).output_size == [14, 14]
        assert not client.shape(5, 3, stride=2, padding=1, output_padding=3).valid
        inverted = client.invert(64, [{"kernel_size": 3, "stride": 2, "padding": 1}])
        assert inverted.decoder_sizes[-1] == [64, 64]
        plan = client.plan(4, 64, layers=4, channels=[512, 256, 128, 64, 3], limit=2)
        assert plan.best is not None
        assert plan.best.sizes[-1] == [64, 64]
        verified = client.verify(7, [{"kernel_size": 4, "stride": 2, "padding": 1}])
        assert verified.results[0].status == "confirmed"
        assert client.info().api_version == "v1"
        batch = client.search_batch([{"input_size": 7, "output_size": 14}, {"input_size": 7}])
        assert isinstance(batch[0], SearchBasic)
        assert batch[0].total == 15
        assert isinstance(batch[1], BatchError)
        assert batch[1].error.code == "invalid_request"
        everything = list(client.iter_candidates(7, 14, limit=4))
        assert [c.rank for c in everything] == list(range(1, 16))


def test_errors_keep_the_server_body(service_url: str) -> None:
    with Client(service_url) as client, pytest.raises(UnprocessableEntityError) as caught:
        client.search(input_size=7, output_size=14, kernel_size=0)
    assert caught.value.status_code == 422
    assert caught.value.code == "invalid_request"
    assert caught.value.details[0]["field"] == "kernel_size"
    assert caught.value.request_id  # the server's x-request-id, to quote in a bug report
    with Client(f"http://127.0.0.1:{free_port()}", max_retries=0) as dead, pytest.raises(APIConnectionError):
        dead.info()


def test_async_client(service_url: str) -> None:
    async def main() -> None:
        async with AsyncClient(service_url) as client:
            results = await asyncio.gather(
                client.search(7, 14, limit=1), client.shape(7, 4, stride=2, padding=1), client.info()
            )
            assert results[0].best is not None
            assert results[0].best.rank == 1
            assert results[1].output_size == [14, 14]
            ranks = [c.rank async for c in client.iter_candidates(7, 14, limit=6)]
            assert ranks == list(range(1, 16))
            plan = await client.plan(4, 16, layers=2, limit=1)
            assert plan.total is not None
            assert plan.total > 0

    asyncio.run(main())


def test_retries_ride_over_a_server_restart() -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    args = ["-m", "service", "--host", "127.0.0.1", "--port", str(port)]
    process = start(args, url, env={"TCONV_VERIFY_MODE": "off"})
    restarted: list[object] = []
    try:
        with Client(url, max_retries=6) as client:
            assert client.search(7, 14).total == 15
            stop(process)
            # The server comes back after a second; the next call retries until it does.
            thread = threading.Thread(
                target=lambda: (
                    time.sleep(1.0),
                    restarted.append(start(args, url, env={"TCONV_VERIFY_MODE": "off"})),
                )
            )
            thread.start()
            began = time.monotonic()
            assert client.search(8, 16).total > 0
            assert time.monotonic() - began >= 0.9
            thread.join()
    finally:
        for proc in restarted:
            stop(proc)  # type: ignore[arg-type]


def tconv(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    # A wide terminal, so rich's table does not wrap the snippets the test looks for.
    return subprocess.run(
        [sys.executable, "-m", "tconv_client.cli", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
        input=stdin,
        env={**os.environ, "COLUMNS": "200"},
    )


def test_cli(service_url: str) -> None:
    table = tconv("search", "7", "14", "--limit", "3", "--url", service_url)
    assert table.returncode == 0, table.stderr
    assert "kernel_size=2, stride=2" in table.stdout
    as_json = tconv("search", "7", "14", "--json", "--url", service_url)
    assert json.loads(as_json.stdout)["total"] == 15
    shape = tconv("shape", "7", "--kernel-size", "4", "--stride", "2", "--padding", "1", "--url", service_url)
    assert shape.returncode == 0, shape.stderr
    assert "valid: output 14" in shape.stdout
    plan = tconv("plan", "4", "64", "--layers", "4", "--channels", "512,256,128,64,3", "--url", service_url)
    assert plan.returncode == 0, plan.stderr
    assert "nn.Sequential" in plan.stdout
    verify = tconv("verify", "7", "--layer", "4,2,1", "--json", "--url", service_url)
    assert verify.returncode == 0, verify.stderr
    assert json.loads(verify.stdout)["results"][0]["status"] == "confirmed"
    invert = tconv("invert", "64", "--conv", "3,2,1", "--json", "--url", service_url)
    assert json.loads(invert.stdout)["valid"] is True
    assert tconv("info", "--url", service_url).returncode == 0
    assert "Example" in tconv("search", "--help").stdout
    assert tconv("--version").stdout.strip() == f"tconv {tconv_client.__version__}"


def test_cli_exit_statuses_and_errors_on_stderr(service_url: str) -> None:
    # 1: the server refused the request; the error goes to stderr, JSON with --json.
    refused = tconv("search", "7", "14", "--kernel-size", "0", "--json", "--url", service_url)
    assert refused.returncode == 1
    assert refused.stdout == ""
    error = json.loads(refused.stderr)["error"]
    assert (error["status"], error["code"]) == (422, "invalid_request")
    assert error["request_id"]
    # 1: shape and verify with a layer PyTorch refuses; the answer is still on stdout.
    invalid = ["shape", "5", "--kernel-size", "3", "--stride", "2", "--padding", "1", "--output-padding", "3"]
    shape = tconv(*invalid, "--json", "--url", service_url)
    assert shape.returncode == 1
    assert json.loads(shape.stdout)["error"]["code"] == "output_padding_too_large"
    verify = tconv("verify", "5", "--layer", "4,2,1", "--layer", "3,2,1,3", "--url", service_url)
    assert verify.returncode == 1, verify.stdout
    assert "failed" in verify.stdout
    # 2: malformed values and enumerations, named in the message.
    for args, named in [
        (["plan", "4", "64", "--channels", "512,x"], "'512,x'"),
        (["invert", "64", "--conv", "3,2,z"], "'3,2,z'"),
        (["search", "seven", "14"], "'seven'"),
        (["verify", "7", "--layer", "4,2,q"], "'4,2,q'"),
        (["search", "7", "14", "--objective", "fastest"], "'fastest'"),
        (["verify", "7", "--layer", "4,2,1", "--device", "tpu"], "'tpu'"),
        (["search", "7", "14", "--portable-to", "keras,tflite"], "'tflite'"),
        (["search", "7", "14", "--portable-to", "onnx", "--portable-to", "xla"], "'xla'"),
        (["plan", "4", "16", "--portable-to", "coreml"], "'coreml'"),
        (["verify", "7", "--layer", "4,2,1", "--target", "tvm"], "'tvm'"),
        (["export", "7", "--layer", "3,2,1,1", "--target", "tflite"], "'tflite'"),
        (["export", "7", "--layer", "3,2,x", "--target", "onnx"], "'3,2,x'"),
    ]:
        plain = tconv(*args, "--url", service_url)
        assert plain.returncode == 2, (args, plain.stderr)
        assert named in plain.stderr
        assert plain.stdout == ""
        as_json = tconv(*args, "--json", "--url", service_url)
        assert as_json.returncode == 2
        assert json.loads(as_json.stderr)["error"]["code"] == "usage_error"
        assert named in json.loads(as_json.stderr)["error"]["message"]
    # 3: the server cannot be reached; with --json the error is JSON on stderr.
    down = tconv("search", "7", "14", "--json", "--url", f"http://127.0.0.1:{free_port()}")
    assert down.returncode == 3
    assert down.stdout == ""
    assert json.loads(down.stderr)["error"]["code"] == "unreachable"
    assert tconv("info", "--url", f"http://127.0.0.1:{free_port()}").returncode == 3


def test_cli_help_documents_the_environment_and_exit_statuses() -> None:
    top = tconv("--help").stdout
    assert "TCONV_URL" in top
    assert "TCONV_API_KEY" in top
    assert "--install-completion" in top
    assert "3 the server cannot be reached" in " ".join(top.split())
    for command in ("shape", "verify"):
        assert "Exits 1" in tconv(command, "--help").stdout
    assert "complete" in tconv("--show-completion", "bash").stdout


def test_cli_filter_keeps_the_valid_layers_in_order(service_url: str, tmp_path: Path) -> None:
    lines = [
        {"input_size": 7, "kernel_size": 4, "stride": 2, "padding": 1},  # 14, valid
        {"input_size": 5, "kernel_size": 3, "stride": 2, "padding": 1, "output_padding": 3},  # invalid
        {"input_size": 7, "kernel_size": 2, "stride": 2},  # 14, valid
        {"input_size": 7, "kernel_size": 0},  # malformed: refused as a request
        {"input_size": 7, "kernel_size": 3, "stride": 2, "padding": 1},  # 13, valid
    ]
    source = tmp_path / "layers.jsonl"
    source.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    kept = tconv("filter", str(source), "--batch-size", "2", "--url", service_url)
    assert kept.returncode == 0, kept.stderr
    rows = [json.loads(line) for line in kept.stdout.splitlines()]
    assert rows == [
        {**lines[0], "output_size": [14, 14]},
        {**lines[2], "output_size": [14, 14]},
        {**lines[4], "output_size": [13, 13]},
    ]
    only_14 = tconv("filter", "-", "--output-size", "14", "--url", service_url, stdin=source.read_text())
    assert [json.loads(line)["kernel_size"] for line in only_14.stdout.splitlines()] == [4, 2]
    every = tconv("filter", str(source), "--all", "--url", service_url)
    records = [json.loads(line) for line in every.stdout.splitlines()]
    assert [r["valid"] for r in records] == [True, False, True, False, True]
    assert records[1]["error"] == {"code": "output_padding_too_large", "dim": 0}
    assert records[3]["error"]["code"] == "invalid_request"
    source.write_text('{"input_size": 7, "kernel_size": 4}\nnot json\n')
    broken = tconv("filter", str(source), "--url", service_url)
    assert broken.returncode == 2
    assert "line 2" in broken.stderr


def test_cli_show_draws_the_overlap_pattern(service_url: str) -> None:
    shown = tconv(
        "show", "7", "13", "--kernel-size", "3", "--stride", "2", "--limit", "1", "--url", service_url
    )
    assert shown.returncode == 0, shown.stderr
    assert "checkerboard" in shown.stdout
    grid = [line.split() for line in shown.stdout.splitlines()[2:] if line.strip()]
    # kernel 3, stride 2: counts 1, 2 per dimension, so the 2-D tile is 1 2 / 2 4.
    assert grid[0][:4] == ["1", "2", "1", "2"]
    assert grid[1][:4] == ["2", "4", "2", "4"]
    even = tconv("show", "7", "14", "--limit", "1", "--url", service_url)
    assert "even" in even.stdout
    assert {cell for line in even.stdout.splitlines()[2:] for cell in line.split()} == {"1"}


def counting_client(sent: list[httpx.Request], **kwargs: object) -> httpx.Client:
    """An httpx client that records every request it sends (the SDK's retries included)."""
    return httpx.Client(event_hooks={"request": [sent.append]}, **kwargs)  # type: ignore[arg-type]


def test_shape_many_answers_in_input_order_in_batches(service_url: str) -> None:
    # Distinct sizes, so an answer out of place shows; one item in 37 is malformed.
    queries: list[ShapeQuery] = [
        {
            "input_size": 3 + i,
            "kernel_size": 0 if i % 37 == 5 else 1 + i % 5,
            "stride": 1 + i % 3,
            "padding": i % 2,
        }
        for i in range(230)
    ]
    sent: list[httpx.Request] = []
    with Client(service_url, http_client=counting_client(sent)) as client:
        answers = list(client.shape_many(queries, batch_size=16, concurrency=3))
        singles = [client.shape(**q) if q["kernel_size"] else None for q in queries]
    assert len(answers) == len(queries)
    assert sum(r.url.path == "/v1/shape/batch" for r in sent) == 15  # ceil(230 / 16)
    for query, answer, single in zip(queries, answers, singles, strict=True):
        if single is None:
            assert isinstance(answer, BatchError), query
            assert answer.error.code == "invalid_request"
        else:
            assert isinstance(answer, ShapeBasic), query
            assert (answer.valid, answer.output_size) == (single.valid, single.output_size), query

    async def main() -> list[ShapeBasic | BatchError]:
        async with AsyncClient(service_url) as client:
            return [a async for a in client.shape_many(queries, batch_size=50, concurrency=2)]

    again = asyncio.run(main())
    assert [a.model_dump() for a in again] == [a.model_dump() for a in answers]


def test_search_many_matches_single_searches(service_url: str) -> None:
    queries: list[SearchQuery] = [{"input_size": n, "output_size": 2 * n, "limit": 2} for n in range(3, 20)]
    queries.insert(
        4, {"input_size": 7, "output_size": 15, "kernel_size": 4, "stride": 2, "output_padding": 0}
    )
    with Client(service_url) as client:
        answers = list(client.search_many(queries, batch_size=3, concurrency=4))
        singles = [client.search(**q) for q in queries]
    for answer, single in zip(answers, singles, strict=True):
        assert isinstance(answer, SearchBasic)
        assert answer.total == single.total
        assert [(c.rank, c.layer, c.score) for c in answer.candidates] == [
            (c.rank, c.layer, c.score) for c in single.candidates
        ]
    empty = answers[4]
    assert isinstance(empty, SearchBasic)
    assert empty.total == 0
    assert empty.reason
    assert [n.direction for n in empty.nearest] == ["below", "above"]

    async def main() -> list[int]:
        async with AsyncClient(service_url) as client:
            return [
                a.total async for a in client.search_many(queries, batch_size=5) if isinstance(a, SearchBasic)
            ]

    assert asyncio.run(main()) == [s.total for s in singles]


def server_has_views(service_url: str) -> bool:
    schema = httpx.get(f"{service_url}/openapi.json").json()
    return "view" in schema["components"]["schemas"]["ShapeRequest"]["properties"]


def test_views_are_sent_only_when_set_and_parse_both_ways(service_url: str) -> None:
    with Client(service_url) as client:
        full = client.shape(5, 3, stride=2, padding=1, output_padding=3)
        assert isinstance(full, ShapeResult)
        assert full.error is not None
        assert full.error.message
        if not server_has_views(service_url):
            # Before the server knows `view` (issue #13), sending it is refused: proof that the
            # client sends it when set, and (every other test passing) only then.
            with pytest.raises(UnprocessableEntityError) as caught:
                client.shape(5, 3, stride=2, padding=1, output_padding=3, view="basic")
            assert "view" in caught.value.message
            return
        basic = client.shape(5, 3, stride=2, padding=1, output_padding=3, view="basic")
        assert type(basic) is ShapeBasic
        assert basic.model_dump() == {
            "valid": False,
            "output_size": None,
            "error": {"code": full.error.code, "dim": full.error.dim},
        }
        page = client.search(7, 14, limit=3, view="basic")
        assert type(page) is SearchBasic
        whole = client.search(7, 14, limit=3)
        assert [c.model_dump() for c in page.candidates] == [
            c.model_dump(include={"rank", "layer", "output_size", "score"}) for c in whole.candidates
        ]
        plan = client.plan(4, 16, layers=2, limit=2, view="basic")
        assert plan.best is not None
        assert plan.best.sizes[-1] == [16, 16]
        inverted = client.invert(64, {"kernel_size": 3, "stride": 2, "padding": 1}, view="basic")
        assert inverted.decoder[0].stride == [2, 2]
        batch = list(client.search_many([{"input_size": 7, "output_size": 14}], view="full"))
        assert isinstance(batch[0], SearchResult)
        assert batch[0].candidates[0].snippet == whole.candidates[0].snippet


@contextlib.contextmanager
def silent_server() -> Iterator[str]:
    """A real socket on 127.0.0.1 that accepts connections and reads requests but never answers:
    every read times out, whatever the machine's speed (a fast service sometimes answered within
    the timeout, which made this test flaky)."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    held: list[socket.socket] = []
    stopping = threading.Event()

    def accept() -> None:
        while not stopping.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            held.append(connection)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stopping.set()
        thread.join(5)
        for connection in held:
            connection.close()
        listener.close()


def test_a_timed_out_verify_is_not_sent_again() -> None:
    # The server got the request and may be running it: a timed-out verify is not sent again.
    timeout = httpx.Timeout(10.0, read=0.2)
    layers = [{"kernel_size": 4, "stride": 2, "padding": 1}]
    sent: list[httpx.Request] = []
    with silent_server() as url:
        with Client(url, timeout=timeout, max_retries=2, http_client=counting_client(sent)) as client:
            with pytest.raises(APITimeoutError):
                client.verify(7, layers)  # type: ignore[list-item]
            assert len(sent) == 1
            with pytest.raises(APITimeoutError):
                client.search(7, 14)
            assert len(sent) == 1 + 3  # an idempotent read is retried
        sent.clear()
        with Client(
            url, timeout=timeout, max_retries=1, retry_verify=True, http_client=counting_client(sent)
        ) as client:
            with pytest.raises(APITimeoutError):
                client.verify(7, layers)  # type: ignore[list-item]
            assert len(sent) == 2  # the caller asked for it


def test_a_verify_that_never_reached_the_server_is_retried() -> None:
    sent: list[httpx.Request] = []
    dead = f"http://127.0.0.1:{free_port()}"
    with Client(dead, max_retries=2, http_client=counting_client(sent)) as client:
        with pytest.raises(APIConnectionError) as caught:
            client.verify(7, [{"kernel_size": 4, "stride": 2, "padding": 1}])
        assert not isinstance(caught.value, APITimeoutError)
    assert len(sent) == 3


def test_api_key_is_sent_as_a_bearer_token(service_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[httpx.Request] = []
    with Client(service_url, api_key="k-123", http_client=counting_client(sent)) as client:
        client.info()
    monkeypatch.setenv("TCONV_API_KEY", "k-env")
    with Client(service_url, http_client=counting_client(sent)) as client:
        client.info()
    monkeypatch.delenv("TCONV_API_KEY")
    with Client(service_url, http_client=counting_client(sent)) as client:
        client.info()
    assert [r.headers.get("authorization") for r in sent] == ["Bearer k-123", "Bearer k-env", None]


README = Path(__file__).resolve().parents[2] / "clients" / "python" / "README.md"


def readme_examples() -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", README.read_text(), flags=re.M | re.S)


def printed_comments(code: str) -> list[str]:
    """What an example says it prints: the ``# ...`` comment on a print() line."""
    return [line.split("  # ", 1)[1] for line in code.splitlines() if "print(" in line and "  # " in line]


def test_readme_examples_run(service_url: str, tmp_path: Path) -> None:
    examples = readme_examples()
    assert len(examples) >= 6
    assert "15 nn.ConvTranspose2d(1, 1, kernel_size=2, stride=2)" in printed_comments(examples[0])
    ran = 0
    for i, code in enumerate(examples):
        # Examples that choose a view run once the server has views (issue #13).
        if "view=" in code and not server_has_views(service_url):
            continue
        script = tmp_path / f"example{i}.py"
        script.write_text(code)
        result = subprocess.run(
            [sys.executable, str(script)],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            env={**os.environ, "TCONV_URL": service_url},
        )
        assert result.returncode == 0, f"README example {i}:\n{code}\n{result.stderr}"
        printed = result.stdout.splitlines()
        for expected in printed_comments(code):
            assert expected in printed, f"README example {i} promises {expected!r}; it printed {printed}"
        ran += 1
    assert ran >= 6


@pytest.mark.torch
def test_layer_to_torch_builds_what_the_server_promised(service_url: str) -> None:
    import torch

    with Client(service_url) as client:
        candidates = client.search([5, 6], [11, 12], limit=20, tie_dims=False).candidates
    assert candidates
    for candidate in candidates:
        module = candidate.layer.to_torch(4, 6, groups=2, bias=False)
        assert module.bias is None
        out = module(torch.ones(1, 4, 5, 6))
        assert list(out.shape[2:]) == candidate.output_size == [11, 12], candidate.snippet


# --- portability and export (issue 15) ---------------------------------------------------------

# 7 -> 14 with dilation 2: 23 layers, of which Keras takes only the stride-1 ones (Keras refuses
# strides > 1 together with dilation_rate > 1), so the filter has something to remove.
DILATED: SearchQuery = {"input_size": 7, "output_size": 14, "dilation": 2, "limit": 1000}


def test_search_portable_to_keeps_exactly_the_layers_that_port(service_url: str) -> None:
    with Client(service_url) as client:
        everything = client.search(**DILATED)
        for target in ("onnx", "jax", "keras"):
            kept = client.search(**DILATED, portable_to=[target])
            assert kept.total <= everything.total
            assert kept.total == len(kept.candidates)
            assert all(c.portability[target].status == "exact" for c in kept.candidates), target
            # Exactly the unfiltered list's portable layers, in the same order.
            ported = [c.layer for c in everything.candidates if c.portability[target].exact]
            assert [c.layer for c in kept.candidates] == ported, target
        keras = client.search(**DILATED, portable_to=["keras"])
        assert 0 < keras.total < everything.total
        refused = [c for c in everything.candidates if not c.portability.keras.exact]
        assert refused
        assert all(c.portability.keras.reason for c in refused)
        both = client.search(**DILATED, portable_to=["keras", "onnx"])
        assert {"keras", "onnx"} <= {t for c in both.candidates for t in c.portability.exact_targets}
        assert all(c.portability.onnx.exact and c.portability.keras.exact for c in both.candidates)
        # Batch items filter as the single endpoint does.
        (item,) = client.search_many([{**DILATED, "portable_to": ["keras"]}])
        assert isinstance(item, SearchBasic)
        assert item.total == keras.total
        plan = client.plan(4, 16, layers=2, dilation=2, portable_to=["keras"], limit=5)
        assert plan.total is not None
        assert plan.total <= (client.plan(4, 16, layers=2, dilation=2, limit=1).total or 0)
        for found in plan.plans:
            for layer in found.layers:
                assert layer.stride == [1, 1] or layer.dilation == [1, 1], layer
        # Shape answers carry it too; an invalid layer has none.
        shape = client.shape(7, 2, stride=2, padding=1, dilation=3)
        assert shape.portability is not None
        assert shape.portability.keras.status == "refused"
        assert "dilation_rate" in (shape.portability.keras.reason or "")
        assert client.shape(5, 3, stride=2, padding=1, output_padding=3).portability is None


def test_export_writes_an_onnx_model_that_onnx_loads(service_url: str) -> None:
    onnx = pytest.importorskip("onnx")
    with Client(service_url) as client:
        one = client.export(
            7, "onnx", layer={"kernel_size": 3, "stride": 2, "padding": 1, "output_padding": 1}
        )
        assert isinstance(one, ExportResult)
        assert (one.target, one.portability.status, one.output_size) == ("onnx", "exact", [14, 14])
        assert one.code is not None
        assert "ConvTranspose(" in one.code
        model = onnx.load_from_string(one.onnx_model_bytes())
        onnx.checker.check_model(model)
        assert [i.name for i in model.graph.input] == ["x", "W", "B"]
        assert [o.name for o in model.graph.output] == ["y"]
        assert [n.op_type for n in model.graph.node] == ["ConvTranspose"]
        stack = client.export(
            7,
            "onnx",
            layers=[
                {"kernel_size": 4, "stride": 2, "padding": 1},
                {"kernel_size": 4, "stride": 2, "padding": 1},
            ],
            channels=[16, 8, 3],
            bias=False,
        )
        assert stack.output_size == [28, 28]
        graph = onnx.load_from_string(stack.onnx_model_bytes()).graph
        assert [i.name for i in graph.input] == ["x", "W0", "W1"]
        keras = client.export(7, "keras", layer={"kernel_size": 3, "stride": 2, "padding": 1}, in_channels=8)
        assert keras.code is not None
        assert "Conv2DTranspose" in keras.code
        assert keras.onnx_model_base64 is None
        with pytest.raises(ValueError, match="target is keras"):
            keras.onnx_model_bytes()
        # A target that cannot reproduce the layer: refused, with its rule, and nothing to run.
        refused = client.export(
            7, "keras", layer={"kernel_size": 2, "stride": 2, "padding": 1, "dilation": 3}
        )
        assert refused.portability.status == "refused"
        assert refused.portability.reason
        assert refused.code is None
        with pytest.raises(UnprocessableEntityError):
            client.export(7, "onnx")  # neither layer nor layers
        with pytest.raises(UnprocessableEntityError) as invalid:
            client.export(5, "onnx", layer={"kernel_size": 3, "stride": 2, "padding": 1, "output_padding": 3})
        assert invalid.value.code == "invalid_layer"

    async def main() -> ExportResult:
        async with AsyncClient(service_url) as client:
            return await client.export([16, 9], "jax", layer={"kernel_size": 4, "stride": 2, "padding": 1})

    jax = asyncio.run(main())
    assert jax.output_size == [32, 18]
    assert jax.code is not None
    assert "conv_general_dilated" in jax.code


def test_verify_runs_the_layers_in_the_targets(service_url: str) -> None:
    layers: list[LayerSpec] = [
        {"kernel_size": 3, "stride": 2, "padding": 1, "output_padding": 1},
        {"kernel_size": 2, "stride": 2, "padding": 1, "dilation": 3},  # Keras refuses it
    ]
    with Client(service_url) as client:
        verified = client.verify(7, layers, targets=["onnx", "keras"])
        plain = client.verify(7, layers[:1])
    first, second = verified.results
    assert set(first.targets) == {"onnx", "keras"}
    if first.targets["onnx"].status == "unavailable":
        pytest.skip(f"SKIPPED LOUDLY: the worker has no onnxruntime: {first.targets['onnx'].error}")
    assert first.targets["onnx"].status == "confirmed"
    assert first.targets["onnx"].max_abs_difference is not None
    assert first.targets["onnx"].version
    if second.targets["keras"].status != "unavailable":
        assert second.targets["keras"].status == "failed"
        assert second.targets["keras"].error
    assert plain.results[0].targets == {}


def test_cli_portability_and_export(service_url: str, tmp_path: Path) -> None:
    onnx = pytest.importorskip("onnx")
    dilated = ["search", "7", "14", "--dilation", "2", "--limit", "100", "--url", service_url]
    table = tconv(*dilated, "--portable-to", "keras")
    assert table.returncode == 0, table.stderr
    assert "portability" in table.stdout
    assert "keras ✓" in table.stdout
    assert "keras ✗" not in table.stdout
    assert "keras ✗" in tconv(*dilated, "--portability").stdout
    assert "portability" not in tconv(*dilated).stdout
    everything = json.loads(tconv(*dilated, "--json").stdout)
    kept = json.loads(
        tconv(*dilated, "--portable-to", "keras,onnx", "--portable-to", "keras", "--json").stdout
    )
    assert 0 < kept["total"] < everything["total"]
    for candidate in kept["candidates"]:
        assert candidate["portability"]["keras"]["status"] == "exact"
        assert candidate["portability"]["onnx"]["status"] == "exact"
    plan = tconv("plan", "4", "16", "--layers", "2", "--portable-to", "jax", "--json", "--url", service_url)
    assert plan.returncode == 0, plan.stderr
    assert json.loads(plan.stdout)["total"] > 0

    model = tmp_path / "layer.onnx"
    exported = tconv(
        "export", "7", "--layer", "3,2,1,1", "--target", "onnx", "-o", str(model), "--url", service_url
    )
    assert exported.returncode == 0, exported.stderr
    assert "exact: onnx, output 14" in exported.stdout
    assert f"wrote {model}" in exported.stdout
    graph = onnx.load_from_string(model.read_bytes()).graph
    assert [i.name for i in graph.input] == ["x", "W", "B"]
    code = tmp_path / "decoder.py"
    args = [
        "export",
        "7",
        "--layer",
        "4,2,1",
        "--layer",
        "4,2,1",
        "--channels",
        "16,8,3",
        "--target",
        "keras",
    ]
    keras = tconv(*args, "--no-bias", "-o", str(code), "--json", "--url", service_url)
    assert keras.returncode == 0, keras.stderr
    answer = json.loads(keras.stdout)
    assert answer["output_size"] == [28, 28]
    assert code.read_text() == answer["code"] + "\n"
    assert "Conv2DTranspose" in code.read_text()
    # A layer the target refuses: exit 1, the rule on stdout, nothing written.
    refused_path = tmp_path / "refused.py"
    refused = tconv(
        "export",
        "7",
        "--layer",
        "2,2,1,0,3",
        "--target",
        "keras",
        "-o",
        str(refused_path),
        "--url",
        service_url,
    )
    assert refused.returncode == 1
    assert "refused" in refused.stdout
    assert "dilation_rate" in refused.stdout
    assert not refused_path.exists()
    # An invalid layer is the server's refusal (exit 1), as JSON on stderr with --json.
    invalid = tconv("export", "5", "--layer", "3,2,1,3", "--target", "onnx", "--json", "--url", service_url)
    assert invalid.returncode == 1
    assert json.loads(invalid.stderr)["error"]["code"] == "invalid_layer"
    assert "--portable-to" in tconv("search", "--help").stdout
    assert "layer.onnx" in tconv("export", "--help").stdout
