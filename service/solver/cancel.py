"""Stopping work whose caller has gone (issue 14: work stops when the client disconnects).

The HTTP side binds a ``Cancellation`` to the request's context; context variables follow the
work into the threads anyio runs it in. Long loops call ``checkpoint()``, which raises
``CancelledError`` once the token is cancelled. Outside a request nothing is bound and a checkpoint
costs one context lookup.
"""

from __future__ import annotations

from contextvars import ContextVar, Token


class CancelledError(Exception):
    """The caller went away; the work was stopped and nobody waits for its answer."""


class Cancellation:
    __slots__ = ("cancelled",)

    def __init__(self) -> None:
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


_current: ContextVar[Cancellation | None] = ContextVar("tconv_cancellation", default=None)


def bind(token: Cancellation) -> Token[Cancellation | None]:
    return _current.set(token)


def unbind(reset: Token[Cancellation | None]) -> None:
    _current.reset(reset)


def checkpoint() -> None:
    token = _current.get()
    if token is not None and token.cancelled:
        raise CancelledError
