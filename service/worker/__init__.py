"""Verification: confirm layers in real PyTorch, in-process or on a standalone worker.

``make_verifier`` picks the implementation and is the only way the API reaches torch:

- ``remote``: an HTTP client of a standalone worker (``python -m service.worker``); the API
  process never imports torch;
- ``embedded``: the worker's executor inside the API process (torch imported here, lazily);
- ``off``: every result ``unavailable``, with the reason.
"""

from __future__ import annotations

import importlib.util
from typing import Protocol

from service.wire.schemas import VerificationOut, VerifyRequest, VerifyResponse


class Verifier(Protocol):
    kind: str

    async def verify(self, request: VerifyRequest, *, request_id: str | None = None) -> VerifyResponse:
        """Raises WorkerBusyError (embedded) or returns ``unavailable`` results the worker could not give."""
        ...

    async def describe(self) -> dict[str, object]:
        """Availability and device, for /readyz and /v1/info."""
        ...

    async def aclose(self) -> None: ...


class UnavailableVerifier:
    """No verification here: every layer comes back ``unavailable`` with the reason."""

    kind = "off"

    def __init__(self, reason: str) -> None:
        self.reason = reason

    async def verify(self, request: VerifyRequest, *, request_id: str | None = None) -> VerifyResponse:
        result = VerificationOut(status="unavailable", error=self.reason)
        return VerifyResponse(results=[result] * len(request.layers), worker="none")

    async def describe(self) -> dict[str, object]:
        return {"mode": self.kind, "available": False, "reason": self.reason}

    async def aclose(self) -> None:
        return None


class EmbeddedVerifier:
    """The worker's executor in this process (torch imported on construction)."""

    kind = "embedded"

    def __init__(self) -> None:
        from service.worker.config import get_worker_settings
        from service.worker.executor import Executor

        self.executor = Executor(get_worker_settings(), label="embedded")

    async def verify(self, request: VerifyRequest, *, request_id: str | None = None) -> VerifyResponse:
        return await self.executor.verify(request)

    async def describe(self) -> dict[str, object]:
        return {"mode": self.kind, "available": True, **self.executor.environment}

    async def aclose(self) -> None:
        return None


def torch_is_installed() -> bool:
    return importlib.util.find_spec("torch") is not None


def make_verifier(
    mode: str,
    *,
    worker_url: str | None,
    timeout_s: float = 30.0,
    chunk_size: int = 64,
    concurrency: int = 4,
) -> Verifier:
    """``auto``: remote when a worker URL is set, else embedded when torch is installed, else off."""
    if mode == "auto":
        mode = "remote" if worker_url else "embedded" if torch_is_installed() else "off"
    if mode == "remote":
        if not worker_url:
            raise ValueError("TCONV_VERIFY_MODE=remote needs TCONV_WORKER_URL")
        from service.worker.remote import RemoteVerifier

        return RemoteVerifier(worker_url, timeout_s=timeout_s, chunk_size=chunk_size, concurrency=concurrency)
    if mode == "embedded":
        if not torch_is_installed():
            return UnavailableVerifier(
                "in-process verification needs torch: pip install 'tconv-service[worker]', "
                "or set TCONV_WORKER_URL to a standalone worker"
            )
        return EmbeddedVerifier()
    return UnavailableVerifier("verification is turned off on this server (TCONV_VERIFY_MODE=off)")
