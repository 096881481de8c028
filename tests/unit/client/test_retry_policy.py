"""The client's retry policy (``BaseClient.retry_delay``), a pure function of the endpoint, the
attempt and its outcome: which outcomes are re-sent, and after how long."""

from __future__ import annotations

import email.utils
import time

import httpx
import pytest
from tconv_client._base import SEARCH, VERIFY, BaseClient, Endpoint, body, chunks
from tconv_client._constants import MAX_RETRY_DELAY_S

REQUEST = httpx.Request("POST", "http://127.0.0.1:1/v1/verify")


def answer(status: int, **headers: str) -> httpx.Response:
    return httpx.Response(status, headers=headers, request=REQUEST)


@pytest.mark.parametrize("endpoint", [SEARCH, VERIFY])
@pytest.mark.parametrize("status", [429, 503])
def test_throttled_requests_wait_as_told_on_every_endpoint(endpoint: Endpoint, status: int) -> None:
    client = BaseClient(max_retries=3)
    assert client.retry_delay(endpoint, 0, answer(status, **{"Retry-After": "2"})) == 2.0
    assert client.retry_delay(endpoint, 0, answer(status, **{"Retry-After": "0"})) == 0.0
    # A server asking for minutes is capped: the caller hears about it instead of hanging.
    assert client.retry_delay(endpoint, 0, answer(status, **{"Retry-After": "600"})) == MAX_RETRY_DELAY_S
    in_3s = email.utils.formatdate(time.time() + 3, usegmt=True)
    delay = client.retry_delay(endpoint, 0, answer(status, **{"Retry-After": in_3s}))
    assert delay is not None
    assert 1.0 <= delay <= 3.0
    assert client.retry_delay(endpoint, 0, answer(status)) is not None  # no header: backoff
    assert client.retry_delay(endpoint, 3, answer(status, **{"Retry-After": "1"})) is None  # out of attempts


@pytest.mark.parametrize("status", [408, 500, 502, 504])
def test_answers_that_may_have_run_are_retried_for_idempotent_endpoints_only(status: int) -> None:
    assert BaseClient().retry_delay(SEARCH, 0, answer(status)) is not None
    assert BaseClient().retry_delay(VERIFY, 0, answer(status)) is None
    assert BaseClient(retry_verify=True).retry_delay(VERIFY, 0, answer(status)) is not None


@pytest.mark.parametrize("status", [200, 400, 401, 404, 422])
def test_answers_are_final(status: int) -> None:
    assert BaseClient().retry_delay(SEARCH, 0, answer(status)) is None


def test_transport_errors_retry_when_the_request_surely_never_ran() -> None:
    client = BaseClient()
    never_sent = [httpx.ConnectError("refused"), httpx.ConnectTimeout("slow"), httpx.PoolTimeout("full")]
    maybe_ran = [httpx.ReadTimeout("late"), httpx.RemoteProtocolError("dropped"), httpx.ReadError("reset")]
    for error in never_sent:
        assert client.retry_delay(VERIFY, 0, error) is not None, error
    for error in maybe_ran:
        assert client.retry_delay(VERIFY, 0, error) is None, error
        assert client.retry_delay(SEARCH, 0, error) is not None, error
        assert BaseClient(retry_verify=True).retry_delay(VERIFY, 0, error) is not None


def test_backoff_grows_and_is_capped() -> None:
    delays = [BaseClient.backoff(attempt) for attempt in range(12)]
    assert delays[0] < delays[3]
    assert max(delays) <= MAX_RETRY_DELAY_S * 1.25


def test_bodies_leave_out_what_the_caller_did_not_set() -> None:
    assert body({"stride": None, "padding": (1, 2)}, None, input_size=7) == {
        "input_size": 7,
        "padding": [1, 2],
    }
    assert body({}, "basic", conv=[{"kernel_size": 3, "dilation": None}]) == {
        "conv": [{"kernel_size": 3}],
        "view": "basic",
    }
    assert list(chunks(range(5), 2)) == [[0, 1], [2, 3], [4]]
    with pytest.raises(ValueError, match="batch_size"):
        list(chunks(range(5), 0))
