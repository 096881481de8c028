"""Run verification jobs in a child process that can be stopped.

A torch kernel cannot be interrupted from another thread, and its memory is not bounded by the
tensors it was given (the CPU path of a 2^26-element kernel-1 layer held 12.5 GB here, for
109 s). So each job runs in a child process: the parent polls how much resident memory the child
has added since it was idle, and the request's deadline, and kills the child past either, or as
soon as the request's client has gone (``service.solver.cancel``); the next job starts a fresh one.
"""

from __future__ import annotations

import multiprocessing
import time
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess

from service.solver.cancel import CancelledError, checkpoint
from service.wire.schemas import VerificationOut
from service.worker.jobs import Job

POLL_S = 0.02


READY = "ready"
START_TIMEOUT_S = 120.0


def _serve(connection: Connection) -> None:  # pragma: no cover (runs in the child)
    import torch

    from service.worker import runner

    if torch.cuda.is_available():
        # The CUDA context takes host memory too: create it before the baseline is taken.
        torch.zeros(1, device="cuda")
    connection.send(READY)
    while True:
        job = connection.recv()
        connection.send(runner.run_job(job))


def resident_bytes(pid: int) -> int:
    """The process's resident set size (Linux ``/proc``); 0 when it cannot be read."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        return 0
    return 0


class Sandbox:
    """One child at a time; used under the executor's lock, so never concurrently."""

    def __init__(self, *, max_memory_bytes: int) -> None:
        self.max_memory_bytes = max_memory_bytes
        # spawn, not fork: the parent may hold CUDA state and threads that a fork would copy.
        self._context = multiprocessing.get_context("spawn")
        self._process: BaseProcess | None = None
        self._connection: Connection | None = None
        self.peak_bytes = 0  # the largest growth over the idle child seen, for tests and measurements
        self._baseline = 0

    def _child(self) -> tuple[BaseProcess, Connection]:
        if self._process is None or not self._process.is_alive() or self._connection is None:
            parent, child = self._context.Pipe()
            process = self._context.Process(target=_serve, args=(child,), daemon=True, name="tconv-verify")
            process.start()
            child.close()
            # The cap is on what a layer adds: torch (and a CUDA context) are the child's baseline.
            if not parent.poll(START_TIMEOUT_S) or parent.recv() != READY:
                process.kill()
                raise RuntimeError("the verification process did not start")
            self._baseline = resident_bytes(process.pid or 0)
            self._process, self._connection = process, parent
        return self._process, self._connection

    def run(self, job: Job, *, timeout_s: float) -> VerificationOut:
        try:
            process, connection = self._child()
        except (RuntimeError, OSError, EOFError):
            return self._stopped(job, "the verification process did not start")
        began = time.monotonic()
        connection.send(job)
        while True:
            if connection.poll(POLL_S):
                try:
                    result: VerificationOut = connection.recv()
                except (EOFError, OSError):
                    return self._stopped(job, "the verification process died while running this layer")
                return result
            used = resident_bytes(process.pid or 0) - self._baseline
            self.peak_bytes = max(self.peak_bytes, used)
            if used > self.max_memory_bytes:
                return self._stopped(
                    job,
                    f"stopped: running this layer took over {self.max_memory_bytes:,} bytes of memory "
                    "(TCONV_WORKER_MAX_MEMORY_BYTES)",
                )
            try:
                checkpoint()
            except CancelledError:
                self.close()  # the caller has gone: free the device and the memory now
                raise
            if time.monotonic() - began > timeout_s:
                return self._stopped(job, "stopped: the request's deadline passed while this layer ran")
            if not process.is_alive():
                return self._stopped(job, "the verification process died while running this layer")

    def _stopped(self, job: Job, reason: str) -> VerificationOut:
        self.close()
        return VerificationOut(status="unavailable", device=job.device, error=reason)

    def close(self) -> None:
        if self._process is not None and self._process.is_alive():
            self._process.kill()
            self._process.join(timeout=10)
        if self._connection is not None:
            self._connection.close()
        self._process, self._connection = None, None
