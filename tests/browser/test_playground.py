"""The playground in a real browser: what a new user sees at http://127.0.0.1:8000/.

Screenshots land in build/browser/ (desktop 1100 px and phone 400 px wide) for people to look at.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Route, expect

from tests.browser.conftest import Watched

pytestmark = pytest.mark.browser

CHECKERBOARD = "kernel 3, stride 2, padding 1, output_padding 1"
EVEN = "kernel 4, stride 2, padding 1"


def search(watched: Watched, input_size: str, output_size: str) -> None:
    page = watched.page
    page.fill("#search [name=input_size]", input_size)
    page.fill("#search [name=output_size]", output_size)
    page.click("#search button[type=submit]")


def test_home_page_loads_with_no_error_and_nothing_from_outside(page: Watched) -> None:
    page.page.goto(page.base_url + "/")
    page.page.wait_for_load_state("networkidle")
    expect(page.page.locator("h1")).to_contain_text("tconv")
    # The objectives come from /v1/info, with their descriptions as tooltips.
    expect(page.page.locator("#search select[name=objective] option[title]").first).to_be_attached()
    page.shot("home")
    assert page.console_errors == []
    assert page.outside == []
    assert all("/v1/" not in url or url.endswith("/v1/info") for url in page.requests)


def test_search_7_to_14_marks_the_checkerboard_of_kernel_3_and_none_for_kernel_4(page: Watched) -> None:
    p = page.page
    p.goto(page.base_url + "/")
    search(page, "7", "14")
    rows = p.locator("#results tbody tr")
    expect(rows).to_have_count(15)
    expect(p.locator("#summary")).to_contain_text("15 ConvTranspose2d layers map 7×7 to 14×14")
    expect(p.locator(f'#results tr[data-layer="{CHECKERBOARD}"] .badge')).to_have_text(["checkerboard"])
    expect(p.locator(f'#results tr[data-layer="{EVEN}"] .badge')).to_have_text(["even"])

    p.click(f'#results tr[data-layer="{CHECKERBOARD}"]')
    expect(p.locator("#verdict")).to_have_attribute("data-checkerboard", "true")
    expect(p.locator("#verdict")).to_contain_text("Checkerboard")
    expect(p.locator("#overlap-map svg")).to_be_visible()
    assert p.locator("#overlap-map svg .uneven").count() > 0
    # The raw score is explained: 2 × 10¹² for the two checkerboard dimensions, plus the mild terms.
    expect(p.locator("#detail h3").filter(has_text="Score")).to_contain_text("2 × 10¹² + 52")
    expect(p.locator("#detail pre")).to_have_text(
        "nn.ConvTranspose2d(1, 1, kernel_size=3, stride=2, padding=1, output_padding=1)"
    )
    page.shot("kernel3")

    p.click(f'#results tr[data-layer="{EVEN}"]')
    expect(p.locator("#verdict")).to_have_attribute("data-checkerboard", "false")
    expect(p.locator("#verdict")).to_contain_text(
        "No checkerboard: every interior pixel is reached by exactly 4"
    )
    expect(p.locator("#overlap-map svg")).to_be_visible()
    expect(p.locator("#overlap-map svg .count").first).to_be_attached()
    assert p.locator("#overlap-map svg .uneven").count() == 0
    expect(p.locator("#detail pre")).to_have_text(
        "nn.ConvTranspose2d(1, 1, kernel_size=4, stride=2, padding=1)"
    )
    page.shot("kernel4")

    # Nothing sticks out sideways on a phone: the page is no wider than its viewport.
    assert p.viewport_size is not None
    assert p.evaluate("document.documentElement.scrollWidth") <= p.viewport_size["width"]
    assert page.console_errors == []
    assert page.outside == []


def test_copy_button_puts_the_snippet_on_the_clipboard(desktop: Watched) -> None:
    p = desktop.page
    p.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=desktop.base_url)
    p.goto(desktop.base_url + "/")
    search(desktop, "7", "14")
    p.click(f'#results tr[data-layer="{EVEN}"]')
    p.click("#detail button.copy")
    expect(p.locator("#detail button.copy")).to_have_text("Copied")
    assert p.evaluate("navigator.clipboard.readText()") == (
        "nn.ConvTranspose2d(1, 1, kernel_size=4, stride=2, padding=1)"
    )


def test_a_failed_request_shows_its_error_and_clears_the_old_answer(page: Watched) -> None:
    p = page.page
    p.goto(page.base_url + "/")
    search(page, "7", "14")
    p.click(f'#results tr[data-layer="{EVEN}"]')
    expect(p.locator("#overlap-map svg")).to_be_visible()
    p.fill("#search [name=kernel_size]", "1..5000")  # well formed, but past the service's cap
    p.click("#search button[type=submit]")
    expect(p.locator("#error")).to_be_visible()
    expect(p.locator("#error")).to_contain_text("kernel_size: must lie within 1..1024, got 5000")
    expect(p.locator("#error")).to_contain_text("422 invalid_request")
    expect(p.locator("#results")).to_be_empty()
    expect(p.locator("#detail")).to_be_empty()
    page.shot("error")
    assert [e for e in page.console_errors if "422" not in e] == []  # the browser logs the 422 itself


def test_inputs_are_checked_before_anything_is_sent(desktop: Watched) -> None:
    p = desktop.page
    p.goto(desktop.base_url + "/")
    p.wait_for_load_state("networkidle")
    sent_before = len(desktop.requests)
    p.fill("#search [name=input_size]", "7y")
    p.fill("#search [name=stride]", "8..1")
    p.click("#search button[type=submit]")
    expect(p.locator("#search [name=input_size]")).to_have_attribute("aria-invalid", "true")
    expect(p.locator("#search label").filter(has_text="stride")).to_contain_text("the range 8..1 is empty")
    expect(p.locator("#status")).to_have_text("Fix the marked fields; nothing was sent.")
    assert len(desktop.requests) == sent_before


def test_a_request_in_flight_is_visible(desktop: Watched) -> None:
    p = desktop.page
    held: list[Route] = []
    # Hold the request until the busy state has been seen.
    p.route("**/v1/search", lambda route: held.append(route))
    p.goto(desktop.base_url + "/")
    search(desktop, "7", "14")
    expect(p.locator("#status")).to_have_text("Searching…")
    expect(p.locator("#status")).to_have_class("busy")
    expect(p.locator("#search button[type=submit]")).to_be_disabled()
    assert len(held) == 1
    held[0].continue_()
    expect(p.locator("#results tbody tr")).to_have_count(15)
    expect(p.locator("#status")).to_have_text("")
    expect(p.locator("#search button[type=submit]")).to_be_enabled()


def test_plans_show_their_sizes_as_a_chain(page: Watched) -> None:
    p = page.page
    p.goto(page.base_url + "/")
    p.click(".tabs button[data-tab=plan]")
    p.click("#plan button[type=submit]")
    first = p.locator("#results tbody tr").first
    expect(first.locator("td.chain")).to_have_text("4→8→16→32→64")
    first.click()
    expect(p.locator("#detail pre")).to_contain_text("nn.Sequential(")
    # Each layer's own overlap map, drawn at the size it receives.
    expect(p.locator("#detail figure.plan-layer svg")).to_have_count(4)
    expect(p.locator("#detail figure.plan-layer svg").first).to_contain_text("input 4×4 → output 8×8")
    page.shot("plan")
    assert page.console_errors == []


def test_shape_and_invert_answer_in_the_page(desktop: Watched) -> None:
    p = desktop.page
    p.goto(desktop.base_url + "/")
    p.click(".tabs button[data-tab=shape]")
    p.fill("#shape [name=output_padding]", "3")
    p.click("#shape button[type=submit]")
    expect(p.locator("#summary")).to_contain_text("output_padding 3 must be < max(stride 2, dilation 1) = 2")
    p.fill("#shape [name=output_padding]", "1")
    p.click("#shape button[type=submit]")
    expect(p.locator("#summary")).to_have_text("ConvTranspose2d: 7×7 → 14×14")
    expect(p.locator("#verdict")).to_have_attribute("data-checkerboard", "true")
    expect(p.locator("#overlap-map svg")).to_be_visible()
    p.click(".tabs button[data-tab=invert]")
    p.click("#invert button[type=submit]")
    expect(p.locator("#summary")).to_contain_text("Encoder 28→14→7, decoder 7→14→28")
    desktop.shot("invert")
    assert desktop.console_errors == []


def test_an_api_key_is_sent_as_a_bearer_token(desktop: Watched) -> None:
    p = desktop.page
    p.goto(desktop.base_url + "/")
    p.click(".settings summary")
    p.fill("#api-key", "k-123")
    with p.expect_request("**/v1/search") as searched:
        search(desktop, "7", "14")
    assert searched.value.headers.get("authorization") == "Bearer k-123"
    with p.expect_request("**/v1/overlap.svg?*") as drawn:
        p.click(f'#results tr[data-layer="{EVEN}"]')
    assert drawn.value.headers.get("authorization") == "Bearer k-123"
    expect(p.locator("#detail h3").filter(has_text="Score")).to_have_text("Score 16")


def test_a_link_reproduces_a_search(desktop: Watched) -> None:
    p = desktop.page
    p.goto(desktop.base_url + "/?input_size=7&output_size=14&stride=2")
    expect(p.locator("#results tbody tr")).to_have_count(8)  # the 7 → 14 layers of stride 2
    expect(p.locator("#search [name=stride]")).to_have_value("2")
    # After a search the address is that search's link.
    search(desktop, "5", "10")
    expect(p.locator("#summary")).to_contain_text("5×5 to 10×10")
    assert "input_size=5&output_size=10" in p.url
    p.goto(p.url)
    expect(p.locator("#summary")).to_contain_text("5×5 to 10×10")
    assert desktop.console_errors == []


def test_candidates_can_be_confirmed_in_pytorch(desktop: Watched) -> None:
    # `make run` verifies in-process: "device" runs each candidate in the service's torch.
    p = desktop.page
    p.goto(desktop.base_url + "/?input_size=7&output_size=14&stride=2&limit=3&verify=device")
    expect(p.locator("#results tbody tr .badge.good").filter(has_text="confirmed")).to_have_count(3)
    p.click(f'#results tr[data-layer="{EVEN}"]')
    expect(p.locator("#verification")).to_contain_text("PyTorch: confirmed on ")  # cpu, or cuda with a GPU
    assert desktop.console_errors == []


def test_one_dimension_draws_bars(desktop: Watched) -> None:
    p = desktop.page
    p.goto(desktop.base_url + "/")
    search(desktop, "7,", "14,")  # a trailing comma: 1-D
    expect(p.locator("#summary")).to_contain_text("ConvTranspose1d layers map 7 to 14")
    p.click(f'#results tr[data-layer="{CHECKERBOARD}"]')
    expect(p.locator("#overlap-map svg")).to_contain_text("ConvTranspose1d: input 7 → output 14")
    assert p.locator("#overlap-map svg .count").count() == 14  # one bar per output pixel
    assert p.locator("#overlap-map svg .uneven").count() > 0
    desktop.shot("1d")
    assert desktop.console_errors == []
