"""API keys (and the worker's token): who may call ``/v1/*``.

Keys are kept as SHA-256 digests, so a key file may list digests (``sha256:<hex>``) instead of
the keys themselves. A presented key is hashed and compared with every digest by
``hmac.compare_digest``, without stopping at a match, so the time taken says nothing about which
key (or how much of one) matched. Plain ASGI, like the other middlewares: it runs on every request.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Iterable
from pathlib import Path

import orjson
from starlette.types import ASGIApp, Receive, Scope, Send

log = logging.getLogger("tconv.auth")

# Operations paths: open by default, closed when left out of TCONV_OPEN_PATHS.
OPS_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})


def _digest(key: bytes) -> bytes:
    return hashlib.sha256(key).digest()


class KeyStore:
    """The accepted keys, as digests. Empty means no key is required."""

    def __init__(self, digests: Iterable[bytes] = ()) -> None:
        self._digests = tuple(digests)

    @classmethod
    def of(cls, keys: Iterable[str] = (), lines: Iterable[str] = ()) -> KeyStore:
        """Keys given as such, plus a key file's lines (``key`` or ``sha256:<hex>``; blank lines
        and ``#`` comments skipped). A malformed digest raises ValueError: a key that silently
        fails to load would lock its holder out with no hint why.

        >>> store = KeyStore.of(["k1"], ["# ops", "sha256:" + hashlib.sha256(b"k2").hexdigest()])
        >>> store.accepts(b"k2"), store.accepts(b"k3"), len(store)
        (True, False, 2)
        """
        digests = [_digest(key.encode()) for key in keys if key]
        for number, raw in enumerate(lines, start=1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            if line.lower().startswith("sha256:"):
                try:
                    digest = bytes.fromhex(line[len("sha256:") :])
                except ValueError:
                    digest = b""
                if len(digest) != hashlib.sha256().digest_size:
                    raise ValueError(f"key file line {number}: sha256: needs 64 hex digits")
                digests.append(digest)
            else:
                digests.append(_digest(line.encode()))
        return cls(digests)

    @classmethod
    def from_files(cls, keys: Iterable[str], path: Path | None) -> KeyStore:
        lines = path.read_text(encoding="utf-8").splitlines() if path else []
        return cls.of(keys, lines)

    def __len__(self) -> int:
        return len(self._digests)

    def accepts(self, key: bytes) -> bool:
        presented = _digest(key)
        matched = False
        for digest in self._digests:
            matched |= hmac.compare_digest(presented, digest)
        return matched


def presented_key(headers: Iterable[tuple[bytes, bytes]]) -> bytes | None:
    """The key from ``Authorization: Bearer <key>`` or ``X-API-Key: <key>``.

    >>> presented_key([(b"authorization", b"bearer abc")]), presented_key([(b"x-api-key", b"k")])
    (b'abc', b'k')
    """
    for name, value in headers:
        if name == b"authorization":
            scheme, _, token = value.strip().partition(b" ")
            if scheme.lower() == b"bearer" and token.strip():
                return token.strip()
        elif name == b"x-api-key" and value.strip():
            return value.strip()
    return None


def protected(path: str, open_paths: Iterable[str]) -> bool:
    """Whether ``path`` needs a key once keys are configured.

    >>> protected("/v1/shape", []), protected("/healthz", ["/healthz"]), protected("/docs", [])
    (True, False, False)
    """
    if path in open_paths:
        return False
    return path.startswith("/v1/") or path in OPS_PATHS


class KeyMiddleware:
    """401 ``unauthorized`` for a protected path without an accepted key.

    Protected: every ``/v1/`` path, and the operations paths not in ``open_paths``. The docs, the
    playground, the OpenAPI document and static files stay open: a page must load before it can
    send a key.
    """

    def __init__(self, app: ASGIApp, *, keys: KeyStore, open_paths: Iterable[str], realm: str) -> None:
        self.app = app
        self.keys = keys
        self.open_paths = frozenset(open_paths)
        self.realm = realm

    def protects(self, path: str) -> bool:
        return bool(self.keys) and protected(path, self.open_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.protects(scope["path"]):
            await self.app(scope, receive, send)
            return
        key = presented_key(scope["headers"])
        if key is not None and self.keys.accepts(key):
            await self.app(scope, receive, send)
            return
        await self._refuse(send, wrong=key is not None)

    async def _refuse(self, send: Send, *, wrong: bool) -> None:
        message = (
            "the API key is not valid"
            if wrong
            else "this path needs an API key: send `Authorization: Bearer <key>` or `X-API-Key: <key>`"
        )
        body = orjson.dumps({"error": {"code": "unauthorized", "message": message}})
        challenge = f'Bearer realm="{self.realm}"' + (', error="invalid_token"' if wrong else "")
        await send(
            {
                "type": "http.response.start",
                "status": 401,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"www-authenticate", challenge.encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
