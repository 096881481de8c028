"""The worker's GPU-only branches, run on the CPU.

CI has no GPU, so what only a GPU can do is mocked here, and only that: CUDA events, the device
name, and an out-of-memory error raised by the device. Everything around them (the runner, the
executor, the classification) is the real code.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import torch

from service.wire.schemas import VerifyRequest
from service.worker import runner
from service.worker.config import WorkerSettings
from service.worker.executor import Executor

pytestmark = pytest.mark.torch


class FakeEvent:
    """Stands in for torch.cuda.Event: each timed run 'takes' the next of these milliseconds."""

    durations = iter([3.0, 1.0, 2.0])

    def __init__(self, enable_timing: bool = False) -> None:
        assert enable_timing

    def record(self) -> None:
        return None

    def synchronize(self) -> None:
        return None

    def elapsed_time(self, end: FakeEvent) -> float:
        return next(FakeEvent.durations)


def test_cuda_timing_is_the_median_of_event_times_after_a_warm_up(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "Event", FakeEvent)
    monkeypatch.setattr(FakeEvent, "durations", iter([3.0, 1.0, 2.0]))
    calls: list[int] = []
    median = runner._median_ms(lambda: calls.append(1), repeats=3, device=torch.device("cuda"))
    assert median == 2.0
    assert len(calls) == 4  # one warm-up, three timed


def test_auto_picks_the_gpu_and_reports_its_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda index=0: "NVIDIA H100 80GB HBM3")
    assert runner.resolve_device("auto") == "cuda:0"
    assert runner.environment("cuda:0")["device_name"] == "NVIDIA H100 80GB HBM3"
    assert runner.resolve_device("cuda") == "cuda:0"


def test_out_of_memory_is_a_failed_layer_and_the_worker_keeps_serving(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real_run = runner._run

    def run_or_run_out_of_memory(job: runner.Job, device: torch.device, *args: Any) -> Any:
        if job.layer[0] == (5, 5):
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB")
        return real_run(job, torch.device("cpu"), *args)

    monkeypatch.setattr(runner, "_run", run_or_run_out_of_memory)
    # The mocked GPU is "there": available, named, and its cache emptied after the failure.
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda index=0: "NVIDIA H100 80GB HBM3")
    emptied: list[bool] = []
    monkeypatch.setattr(torch.cuda, "empty_cache", lambda: emptied.append(True))
    # In-process: the monkeypatched kernel must be the one that runs.
    executor = Executor(WorkerSettings(cache_size=0, isolate=False), label="test")
    request = VerifyRequest(
        input_size=7,
        device="cuda",
        layers=[
            {"kernel_size": 5, "stride": 2, "padding": 2, "output_padding": 1},
            {"kernel_size": 4, "stride": 2, "padding": 1},
        ],  # type: ignore[list-item]
    )
    answer = asyncio.run(executor.verify(request))
    failed, confirmed = answer.results
    assert failed.status == "failed"
    assert failed.error is not None
    assert failed.error.startswith("OutOfMemoryError: CUDA out of memory")
    assert failed.refused_by == ["cuda"]
    assert emptied  # memory is freed after every CUDA job, the failed one included
    assert confirmed.status == "confirmed"
    assert confirmed.output_size == [14, 14]
    # And the next request is served as usual.
    again = asyncio.run(executor.verify(request.model_copy(update={"layers": request.layers[1:]})))
    assert again.results[0].status == "confirmed"
