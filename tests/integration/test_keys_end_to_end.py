"""Keys end to end: a real API process with TCONV_API_KEYS, called by the Python SDK and its CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

import pytest
from tconv_client import AuthenticationError, Client

from tests.integration.conftest import free_port, start, stop

pytestmark = pytest.mark.integration

KEY = "e2e-key-0123456789"


@pytest.fixture(scope="module")
def guarded_url() -> Iterator[str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {"TCONV_API_KEYS": KEY, "TCONV_VERIFY_MODE": "off"}
    process = start(["-m", "service", "--host", "127.0.0.1", "--port", str(port)], url, env=env)
    yield url
    stop(process)


def test_the_sdk_sends_its_key(guarded_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with Client(guarded_url, api_key=KEY) as client:
        assert client.search(7, 14, limit=1).total == 15
    monkeypatch.setenv("TCONV_API_KEY", KEY)
    with Client(guarded_url) as client:  # TCONV_API_KEY, as the SDK documents
        assert client.shape(7, 4, stride=2, padding=1).output_size == [14, 14]
    monkeypatch.delenv("TCONV_API_KEY")
    with Client(guarded_url, max_retries=0) as client, pytest.raises(AuthenticationError):
        client.search(7, 14)


def test_the_cli_sends_tconv_api_key(guarded_url: str) -> None:
    command = [sys.executable, "-m", "tconv_client.cli", "search", "7", "14"]
    env = {**os.environ, "TCONV_URL": guarded_url}
    env.pop("TCONV_API_KEY", None)
    refused = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert refused.returncode != 0
    answered = subprocess.run(
        command, env={**env, "TCONV_API_KEY": KEY}, capture_output=True, text=True, timeout=60
    )
    assert answered.returncode == 0, answered.stderr
