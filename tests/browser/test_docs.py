"""/docs and /redoc render offline: Swagger UI and ReDoc come from the service, not a CDN."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Watched

pytestmark = pytest.mark.browser


def test_swagger_ui_lists_the_operations(desktop: Watched) -> None:
    p = desktop.page
    p.goto(desktop.base_url + "/docs")
    expect(p.locator('.opblock-summary-path[data-path="/v1/search"]')).to_be_visible()
    expect(p.locator('.opblock-summary-path[data-path="/v1/overlap.svg"]')).to_be_visible()
    expect(p.get_by_text("A layer's overlap map (the all-ones experiment) as SVG")).to_be_visible()
    desktop.shot("docs", full_page=False)
    assert desktop.outside == []
    assert desktop.console_errors == []


def test_redoc_renders_the_reference(desktop: Watched) -> None:
    p = desktop.page
    p.goto(desktop.base_url + "/redoc")
    expect(p.locator("h2").filter(has_text="Find and rank every ConvTranspose layer")).to_be_visible()
    desktop.shot("redoc", full_page=False)
    assert desktop.outside == []
