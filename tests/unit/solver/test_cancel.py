"""solver.cancel: a checkpoint raises once its request's token is cancelled, and only then."""

from __future__ import annotations

import contextvars

import pytest

from service.solver import cancel
from service.solver.enumeration import Bound, SearchBounds
from service.solver.plans import PlanOptions, plan


def test_checkpoint_does_nothing_outside_a_request() -> None:
    cancel.checkpoint()


def test_checkpoint_raises_once_cancelled_and_the_token_follows_a_copied_context() -> None:
    token = cancel.Cancellation()
    reset = cancel.bind(token)
    try:
        cancel.checkpoint()
        copied = contextvars.copy_context()  # what anyio does for a worker thread
        token.cancel()
        with pytest.raises(cancel.CancelledError):
            copied.run(cancel.checkpoint)
    finally:
        cancel.unbind(reset)
    cancel.checkpoint()


def test_a_plan_stops_when_its_caller_has_gone() -> None:
    bounds = SearchBounds(kernel_size=Bound(1, 8), stride=Bound(1, 4), dilation=Bound(1, 1))
    options = PlanOptions(min_layers=1, max_layers=3, monotonic=True, same_layer=False, lengths=None)

    def run() -> int:
        return plan((4,), (64,), bounds, options, step_score=lambda n, p: 0, limit=3, max_edges=10**9).total

    assert run() > 0
    token = cancel.Cancellation()
    token.cancel()
    reset = cancel.bind(token)
    try:
        with pytest.raises(cancel.CancelledError):
            run()
    finally:
        cancel.unbind(reset)
