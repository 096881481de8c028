"""Verification runs where it can be stopped: past the memory cap or the deadline, a layer is
stopped (unavailable, with why), and the next one runs in a fresh child."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from service.wire.schemas import VerifyRequest
from service.worker.config import WorkerSettings
from service.worker.executor import Executor

pytestmark = pytest.mark.torch

SMALL = {"kernel_size": 4, "stride": 2, "padding": 1}


@pytest.fixture
def executor(request: pytest.FixtureRequest) -> Iterator[Executor]:
    made = Executor(WorkerSettings(cache_size=0, **request.param), label="test")
    yield made
    made.close()


def _verify(executor: Executor, body: dict[str, object]) -> list[tuple[str, str]]:
    answer = asyncio.run(executor.verify(VerifyRequest.model_validate(body)))
    return [(result.status, result.error or "") for result in answer.results]


@pytest.mark.parametrize("executor", [{"max_memory_bytes": 400 * 1024**2}], indirect=True)
def test_a_layer_past_the_memory_cap_is_stopped(executor: Executor) -> None:
    # A kernel-1 layer on 4096×4096: 16 M elements in each tensor, within the element cap, but
    # the CPU kernel's buffers grow past 400 MB.
    [(status, error)] = _verify(executor, {"input_size": [4096, 4096], "layers": [{"kernel_size": 1}]})
    assert status == "unavailable"
    assert "TCONV_WORKER_MAX_MEMORY_BYTES" in error
    assert _verify(executor, {"input_size": 7, "layers": [SMALL]}) == [("confirmed", "")]
    assert executor._sandbox is not None
    assert executor._sandbox.peak_bytes > 400 * 1024**2


@pytest.mark.parametrize("executor", [{"deadline_s": 3.0}], indirect=True)
def test_the_deadline_holds_inside_a_layer(executor: Executor) -> None:
    # 100 timed runs of a kernel-64 layer on 512×512: far longer than the 3 s deadline.
    body = {"input_size": [512, 512], "timing": True, "repeats": 100, "layers": [{"kernel_size": 64}]}
    [(status, error)] = _verify(executor, body)
    assert status == "unavailable"
    assert "deadline passed while this layer ran" in error
    assert _verify(executor, {"input_size": 7, "layers": [SMALL]}) == [("confirmed", "")]
