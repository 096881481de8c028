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

# Library versions tell an attacker which advisories apply; shown only with TCONV_EXPOSE_INTERNALS.
INTERNAL_KEYS = frozenset({"torch_version", "cuda_version", "cudnn_version", "python", "url"})


def without_internals(fields: dict[str, object], expose: bool) -> dict[str, object]:
    """``fields`` without versions and addresses, unless the operator asked to expose them.

    >>> without_internals({"device": "cpu", "torch_version": "2.13.0"}, expose=False)
    {'device': 'cpu'}
    """
    return dict(fields) if expose else {k: v for k, v in fields.items() if k not in INTERNAL_KEYS}


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

    def __init__(self, *, expose_internals: bool = False) -> None:
        from service.worker.config import get_worker_settings
        from service.worker.executor import Executor

        self.executor = Executor(get_worker_settings(), label="embedded")
        self.expose_internals = expose_internals

    async def verify(self, request: VerifyRequest, *, request_id: str | None = None) -> VerifyResponse:
        answer = await self.executor.verify(request)
        if self.expose_internals:
            return answer
        return answer.model_copy(update=dict.fromkeys(INTERNAL_KEYS & set(VerifyResponse.model_fields)))

    async def describe(self) -> dict[str, object]:
        environment = without_internals(self.executor.environment, self.expose_internals)
        return {"mode": self.kind, "available": True, **environment}

    async def aclose(self) -> None:
        self.executor.close()


def torch_is_installed() -> bool:
    return importlib.util.find_spec("torch") is not None


def make_verifier(
    mode: str,
    *,
    worker_url: str | None,
    timeout_s: float = 30.0,
    chunk_size: int = 64,
    concurrency: int = 4,
    token: str | None = None,
    expose_internals: bool = False,
) -> Verifier:
    """``auto``: remote when a worker URL is set, else embedded when torch is installed, else off."""
    if mode == "auto":
        mode = "remote" if worker_url else "embedded" if torch_is_installed() else "off"
    if mode == "remote":
        if not worker_url:
            raise ValueError("TCONV_VERIFY_MODE=remote needs TCONV_WORKER_URL")
        from service.worker.remote import RemoteVerifier

        return RemoteVerifier(
            worker_url,
            timeout_s=timeout_s,
            chunk_size=chunk_size,
            concurrency=concurrency,
            token=token,
            expose_internals=expose_internals,
        )
    if mode == "embedded":
        if not torch_is_installed():
            return UnavailableVerifier(
                "in-process verification needs torch: pip install 'tconv-service[worker]', "
                "or set TCONV_WORKER_URL to a standalone worker"
            )
        return EmbeddedVerifier(expose_internals=expose_internals)
    return UnavailableVerifier("verification is turned off on this server (TCONV_VERIFY_MODE=off)")
