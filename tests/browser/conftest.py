"""Debian's Chromium, driven by playwright, against a real `python -m service` on a free loopback port.

playwright is used for its driver only: the browser is the system's (/usr/bin/chromium, which
`make browser` installs with apt), never one playwright downloads. Without it the tests skip
with a loud reason, and fail under CI=true, where a missing browser is a broken setup.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Request, expect, sync_playwright

from tests.integration.conftest import service_url  # noqa: F401 (the fixture base_url builds on)

CHROMIUM = os.environ.get("TCONV_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# expect() waits for the page to get there; a machine busy with other tests may need longer than
# playwright's 5 s default, and a wait that succeeds early costs nothing.
expect.set_options(timeout=20_000)
SCREENSHOTS = Path(__file__).resolve().parents[2] / "build" / "browser"


def _missing(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true and {reason}: `make browser` installs it", pytrace=False)
    pytest.skip(f"SKIPPED LOUDLY: {reason}; `make browser` (as root) installs it")


# Per module, not per session: playwright's sync API keeps an asyncio loop running on this thread
# while it is open, and tests that call asyncio.run() (tests/unit/worker) fail under a running loop.
@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        _missing(f"no Chromium at {CHROMIUM}")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def base_url(service_url: str) -> str:  # noqa: F811 (pytest passes the imported fixture)
    # The integration tests' real `python -m service` process (one per session, stateless).
    return service_url


@dataclass
class Watched:
    """A page and what it did: console errors, uncaught exceptions, requests leaving the service."""

    page: Page
    base_url: str
    name: str
    console_errors: list[str] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def shot(self, label: str, *, full_page: bool = True) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{self.name}-{label}.png"
        self.page.screenshot(path=str(path), full_page=full_page)
        return path


def watch(browser: Browser, base_url: str, name: str, width: int) -> Iterator[Watched]:
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    watched = Watched(page, base_url, f"{name}-{width}px")

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            watched.console_errors.append(message.text)

    def on_request(request: Request) -> None:
        url = request.url
        watched.requests.append(url)
        if not url.startswith((base_url + "/", "data:", "blob:")):
            watched.outside.append(url)

    page.on("console", on_console)
    page.on("pageerror", lambda error: watched.console_errors.append(f"uncaught: {error}"))
    page.on("request", on_request)
    yield watched
    context.close()


@pytest.fixture(params=[1100, 400], ids=["desktop", "phone"])
def page(browser: Browser, base_url: str, request: pytest.FixtureRequest) -> Iterator[Watched]:
    yield from watch(browser, base_url, request.node.originalname, request.param)


@pytest.fixture
def desktop(browser: Browser, base_url: str, request: pytest.FixtureRequest) -> Iterator[Watched]:
    yield from watch(browser, base_url, request.node.originalname, 1100)
